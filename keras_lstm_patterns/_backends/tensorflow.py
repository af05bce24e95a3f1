"""TensorFlow: traced programs, XLA-compiled on CPU when XLA can compile them.

Keras's own methods carry a stateful layer's states on TensorFlow, so ``carrying`` does
nothing and ``predict_on_batch`` is Keras's own. ``rollout`` is one ``tf.function`` with a
``tf.range`` loop; ``step`` a concrete function traced once per model and input shape;
``epochs`` whole epochs of Keras's ``train_step`` in one ``tf.function``. The last two
run through :class:`XlaOrGraph`, the one place that falls back from XLA to the plain
graph.

TensorFlow is imported inside the functions, as in ``jax`` and ``torch``, so that every
module of the package imports (for its doctests) whichever backends are installed.
"""

from __future__ import annotations

import contextlib
import weakref
from collections.abc import Callable, Iterator
from typing import Any

import keras
import numpy as np

from ._cache import cache
from ._common import EpochData, EpochRunner, last_step, next_input, plain_logs
from ._keras_private import tf_op_determinism_enabled

__all__ = [
    "XlaOrGraph",
    "carrying",
    "epochs",
    "fit_dataset",
    "jit",
    "no_grad",
    "predict_on_batch",
    "process_count",
    "process_index",
    "rollout",
    "set_cpu_collectives",
    "shutdown_processes",
    "step",
    "sync_before_reset",
    "xla_available",
]


def jit(fn: Callable[..., Any], *, static_argnums: tuple[int, ...] | int = ()) -> Callable:
    """The generic pure functions run as they are (TensorFlow has its own programs)."""
    return fn


def no_grad() -> contextlib.AbstractContextManager[None]:
    """Nothing to switch off: no tape records outside ``GradientTape``."""
    return contextlib.nullcontext()


@contextlib.contextmanager
def carrying(layers: list[keras.layers.Layer]) -> Iterator[None]:
    """Keras's methods carry the states on TensorFlow by themselves."""
    yield


def sync_before_reset(model: keras.Model) -> None:
    """Nothing in flight: the variables hold the states."""


def predict_on_batch(model: keras.Model, layers: list, x: np.ndarray) -> np.ndarray:
    """Keras's own ``predict_on_batch``, which carries the states on TensorFlow."""
    return np.asarray(model.predict_on_batch(x))


def xla_available() -> bool:
    """XLA for our programs: on CPU only (Keras's LSTM and GRU run cuDNN kernels on a GPU,
    which XLA cannot compile), and not under op determinism (as Keras decides)."""
    import tensorflow as tf

    if tf.config.list_physical_devices("GPU"):
        return False
    enabled = tf_op_determinism_enabled()
    return enabled is False  # None: this TensorFlow cannot say, so no XLA


class XlaOrGraph:
    """A program XLA-compiled when XLA can compile it, else the plain graph.

    ``build(xla)`` returns the program compiled with or without XLA. The first call
    runs the XLA build; if XLA cannot compile it (TensorFlow raises before any variable
    is written) the plain graph is built and run instead. Once a call has succeeded, an
    error is the program's own and is raised.
    """

    def __init__(self, build: Callable[[bool], Callable[..., Any]]) -> None:
        self._build = build
        self.xla = xla_available()
        self._fn = build(self.xla)
        self._may_retry = self.xla

    def __call__(self, *args: Any) -> Any:
        import tensorflow as tf

        try:
            out = self._fn(*args)
        except (tf.errors.InvalidArgumentError, tf.errors.UnimplementedError):
            if not self._may_retry:
                raise
            self.xla = False
            self._fn = self._build(False)
            out = self._fn(*args)
        self._may_retry = False  # compiled and ran: no retry later
        return out


def _make_rollout(model: keras.Model) -> Callable[..., Any]:
    """One ``tf.function``: run a prefix, then feed each output back ``n`` times."""
    import tensorflow as tf

    ref = weakref.ref(model)  # the cache must not keep the model alive

    @tf.function(reduce_retracing=True)
    def run(prefix: Any, n: Any, cov: Any) -> Any:
        m = ref()
        first = last_step(m(prefix, training=False))
        out = tf.TensorArray(first.dtype, size=n)
        out = out.write(0, first)
        cur = first
        for i in tf.range(1, n):
            cur = last_step(m(next_input(cur, cov, i - 1)[:, None, :], training=False))
            out = out.write(i, cur)
        return tf.transpose(out.stack(), [1, 0, 2])

    return run


def rollout(
    model: keras.Model,
    layers: list,
    prefix: np.ndarray,
    n: int,
    covariates: np.ndarray | None,
) -> np.ndarray:
    """Run ``prefix``, then feed each output back: one traced program per model."""
    run = cache.get(model, "tf_rollout", lambda: _make_rollout(model))
    return np.asarray(run(prefix, np.int32(n), covariates))


def _step_program(model: keras.Model, shape: tuple[int, ...]) -> XlaOrGraph:
    import tensorflow as tf

    ref = weakref.ref(model)

    def one(obs: Any) -> Any:
        return last_step(ref()(obs[:, None, :], training=False))

    def build(xla: bool) -> Callable[..., Any]:
        fn = tf.function(one, autograph=False, jit_compile=xla)
        return fn.get_concrete_function(tf.TensorSpec(shape, tf.float32))

    return XlaOrGraph(build)


def step(model: keras.Model, layers: list, x: np.ndarray) -> np.ndarray:
    """One step through a concrete function traced once per model (and input shape), so
    a call skips the argument matching of a ``tf.function`` call."""
    import tensorflow as tf

    record = cache.record(model)
    cached = record.get("tf_step")
    if cached is None or cached[0] != x.shape:
        cached = record["tf_step"] = (x.shape, _step_program(model, x.shape))
    return cached[1](tf.constant(x)).numpy()


def epochs(model: keras.Model, layers: list, svars: list[Any], data: EpochData) -> EpochRunner:
    """Whole epochs of Keras's ``train_step`` as one ``tf.function`` (``tf.range`` loops)."""
    import tensorflow as tf

    keys = list(model.get_metrics_result())
    xf, yf, xr, yr = data
    groups, per_group = xf.shape[0], xf.shape[1]
    bx, by = xf.shape[2:], yf.shape[2:]
    rx = None if xr is None else xr.shape[1:]
    ry = None if yr is None else yr.shape[1:]

    # Inside the loops every batch gets a static shape: a slice with a free batch axis
    # would make the stateful layer's state fail the while-loop shape invariant.
    def program(n: Any, xf: Any, yf: Any, xr: Any, yr: Any) -> dict[str, Any]:
        logs = {k: tf.TensorArray(tf.float32, size=n) for k in keys}
        for e in tf.range(n):
            model.reset_metrics()
            for g in tf.range(groups):
                for v in svars:
                    v.assign(tf.zeros(v.shape, v.dtype))
                for k in tf.range(per_group):
                    model.train_step((tf.reshape(xf[g, k], bx), tf.reshape(yf[g, k], by)))
                if xr is not None:
                    model.train_step((tf.reshape(xr[g], rx), tf.reshape(yr[g], ry)))
            res = model.get_metrics_result()
            logs = {k: logs[k].write(e, tf.cast(res[k], tf.float32)) for k in keys}
        return {k: ta.stack() for k, ta in logs.items()}

    # XLA compiles the program once per number of epochs (about a second here) and then
    # runs a step several times faster than the plain graph.
    compiled = XlaOrGraph(lambda xla: tf.function(program, jit_compile=xla, autograph=True))
    tensors = [None if a is None else tf.constant(a) for a in data]

    def run(n: int) -> list[dict[str, Any]]:
        out = compiled(tf.constant(n, tf.int32), *tensors)
        out = {k: v.numpy() for k, v in out.items()}
        return [plain_logs({k: v[e] for k, v in out.items()}) for e in range(n)]

    return run


def fit_dataset(source: keras.utils.PyDataset) -> Any:
    """A ``tf.data`` pipeline with a free time axis for a chunked ``PyDataset``.

    Keras infers a ``PyDataset``'s signature from its first two batches, and a shorter
    last chunk would not fit it.
    """
    import tensorflow as tf

    def spec(a: np.ndarray) -> Any:
        return tf.TensorSpec((a.shape[0], None, *a.shape[2:]), tf.float32)

    signature = tuple(spec(a) for a in source[0])
    return tf.data.Dataset.from_generator(
        lambda: (source[i] for i in range(len(source))), output_signature=signature
    ).apply(tf.data.experimental.assert_cardinality(len(source)))


# --- several processes (keras_lstm_patterns.distributed) -----------------------------------


def set_cpu_collectives(name: str) -> None:
    """Multi-process training runs on JAX only."""
    raise NotImplementedError


def shutdown_processes() -> None:
    """Not in a multi-process job: nothing to leave."""


def process_index() -> int:
    """This process's number in the job: 0 outside a multi-process job."""
    return 0


def process_count() -> int:
    """How many processes the job has: 1 outside a multi-process job."""
    return 1
