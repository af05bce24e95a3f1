"""Carrying a stateful layer's states on every Keras backend.

Keras 3.15 keeps a stateful RNN's states in variables it does not track. On TensorFlow
that is enough: ``fit``, ``predict_on_batch`` and ``model(x)`` all update them. On JAX the
trainer's compiled steps are pure functions that only hand back tracked variables, so
``fit``/``predict``/``predict_on_batch`` leave the states at zero (only eager ``model(x)``
carries them). On PyTorch the layer writes its state in place during the forward pass,
which backpropagation then rejects ("modified by an inplace operation").

This module threads the states explicitly instead:

* ``call_with_states`` runs the model as a pure function of (weights, states, inputs)
  inside a ``keras.StatelessScope`` and returns the new states with the outputs: jitted
  on JAX, eager (no gradient) on PyTorch. ``predict_on_batch`` is the one chunk of
  ``predict_chunks``: Keras's own ``predict_on_batch`` on TensorFlow, this call elsewhere.
* ``rollout`` feeds outputs back (beside known-future covariates), one program per
  backend: a ``tf.function`` with a ``tf.range`` loop on TensorFlow, a ``jax.jit``-compiled
  ``fori_loop`` of the pure call on JAX, and on PyTorch a loop over the recurrent cells'
  own ``call`` and the Dense head (no per-call Keras set-up) for a model that is a chain
  of stateful recurrent layers and Dense layers. ``step`` advances the states by one
  observation: a traced, XLA-compiled ``tf.function`` on TensorFlow (CPU), the jitted pure
  call on JAX, one pass through the cells on PyTorch.
* ``carried`` makes Keras's own ``fit``, ``evaluate``, ``predict``, ``train_on_batch``,
  ``test_on_batch`` and ``predict_on_batch`` carry them for the duration of one call:
  on JAX by tracking the state variables as non-trainable variables (the trainer then
  threads them like batch-norm statistics), on PyTorch by assigning a new tensor instead
  of writing into the one the forward pass used. ``PatternModel`` wraps those methods
  in it.
* ``train_epochs`` runs whole epochs of Keras's ``train_step``, with the resets between
  groups of batches, as one program (``fit_stateful``); ``fit_dataset`` is the input
  Keras's ``fit`` reads for chunked training on this backend.
"""

from __future__ import annotations

import contextlib
import types
import weakref
from collections.abc import Iterator
from typing import Any

import keras
import numpy as np

from ._model import stateful_layers

__all__ = [
    "call_with_states",
    "carried",
    "fit_dataset",
    "predict_on_batch",
    "rollout",
    "state_variables",
    "step",
    "train_epochs",
]


def state_variables(layers: list[keras.layers.Layer]) -> list[Any]:
    """The state variables of the given stateful RNN layers, in order."""
    return [v for layer in layers for v in keras.tree.flatten(layer.states)]


def _last_step(y: Any) -> Any:
    return y[:, -1, :] if len(y.shape) == 3 else y


def _pure(model: keras.Model, svars: list[Any]) -> Any:
    """``f(weights, non_trainable, states, x) -> (outputs, new_states)``, no side effects."""
    ref = weakref.ref(model)  # caches must not keep the model alive

    def f(tv: list, ntv: list, sv: list, x: Any) -> tuple[Any, list]:
        m = ref()
        mapping = [
            *zip(m.trainable_variables, tv),
            *zip(m.non_trainable_variables, ntv),
            *zip(svars, sv),
        ]
        with keras.StatelessScope(state_mapping=mapping) as scope:
            y = m(x, training=False)
        return y, [scope.get_current_value(v) for v in svars]

    return f


_CACHE: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def _compiled(model: keras.Model, layers: list[keras.layers.Layer]) -> dict[str, Any]:
    """The model's pure call and rollout (jitted on JAX) and its state variables, cached."""
    cached = _CACHE.get(model)
    if cached is not None:
        return cached
    svars = state_variables(layers)
    f = _pure(model, svars)

    def rollout(
        tv: list, ntv: list, sv: list, prefix: Any, n: int, cov: Any = None
    ) -> tuple[Any, list]:
        y, sv = f(tv, ntv, sv, prefix)
        first = _last_step(y)
        out = keras.ops.zeros((first.shape[0], n, first.shape[-1]), dtype=first.dtype)
        out = keras.ops.slice_update(out, (0, 0, 0), first[:, None, :])

        def body(i: Any, carry: tuple) -> tuple:
            states, cur, acc = carry
            y, states = f(tv, ntv, states, _next_input(cur, cov, i - 1)[:, None, :])
            nxt = _last_step(y)
            return states, nxt, keras.ops.slice_update(acc, (0, i, 0), nxt[:, None, :])

        sv, _, out = keras.ops.fori_loop(1, n, body, (sv, first, out))
        return out, sv

    if keras.backend.backend() == "jax":
        import jax

        fns = {"call": jax.jit(f), "rollout": jax.jit(rollout, static_argnums=4)}
    else:
        fns = {"call": f, "rollout": rollout}
    fns["svars"] = svars
    _CACHE[model] = fns
    return fns


@contextlib.contextmanager
def _no_grad() -> Iterator[None]:
    if keras.backend.backend() == "torch":
        import torch

        with torch.no_grad():
            yield
    else:
        yield


def _values(model: keras.Model, svars: list[Any]) -> tuple[list, list, list]:
    return (
        [v.value for v in model.trainable_variables],
        [v.value for v in model.non_trainable_variables],
        [v.value for v in svars],
    )


def _run(model: keras.Model, layers: list, name: str, *args: Any) -> np.ndarray:
    """Run the cached pure function ``name`` from the current states; store the new ones."""
    fns = _compiled(model, layers)
    svars = fns["svars"]
    with _no_grad():
        out, new = fns[name](*_values(model, svars), *args)
    for v, s in zip(svars, new):
        v.assign(s)
    return keras.ops.convert_to_numpy(out)


def call_with_states(model: keras.Model, layers: list, x: np.ndarray) -> np.ndarray:
    """``model(x)`` starting from, and then updating, the stateful ``layers``' states."""
    return _run(model, layers, "call", x)


def predict_on_batch(model: keras.Model, layers: list, x: np.ndarray) -> np.ndarray:
    """``model.predict_on_batch(x)`` from the current states, leaving the new ones: Keras's
    own on TensorFlow (which carries them), :func:`call_with_states` elsewhere."""
    if keras.backend.backend() == "tensorflow":
        return np.asarray(model.predict_on_batch(x))
    return call_with_states(model, layers, x)


def _next_input(output: Any, cov: Any, i: Any) -> Any:
    """The input after ``output``: the output, then ``cov[:, i]`` (when there are covariates)."""
    if cov is None:
        return output
    return keras.ops.concatenate([output, cov[:, i]], axis=-1)


def rollout(
    model: keras.Model,
    layers: list,
    prefix: np.ndarray,
    n: int,
    covariates: np.ndarray | None = None,
) -> np.ndarray:
    """Run ``prefix`` from the current states, then feed each output back; ``n`` outputs.

    With ``covariates`` ``(batch, n - 1, K)`` the input that produces output ``i + 1`` is
    output ``i`` followed by ``covariates[:, i]``. The states are left where the loop ends.
    """
    if int(n) == 1:  # nothing is fed back, and no covariates are read
        return _last_step(call_with_states(model, layers, prefix))[:, None, :]
    backend = keras.backend.backend()
    if backend == "tensorflow":
        return np.asarray(_tf_rollout(model)(prefix, np.int32(n), covariates))
    if backend == "torch" and _chain(model) is not None:
        return _torch_rollout(model, layers, prefix, int(n), covariates)
    return _run(model, layers, "rollout", prefix, int(n), covariates)


def step(model: keras.Model, layers: list, x: np.ndarray) -> np.ndarray:
    """Feed one observation ``(batch, features)``; return that step's ``(batch, outputs)``."""
    backend = keras.backend.backend()
    if backend == "tensorflow":
        return _tf_step(model, x)
    if backend == "torch" and _chain(model) is not None:
        return _torch_step(model, x)
    return _last_step(call_with_states(model, layers, x[:, None, :]))


# --- TensorFlow: traced programs ------------------------------------------------------------

_TF_ROLLOUTS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
_TF_STEPS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def _tf_rollout(model: keras.Model) -> Any:
    """One ``tf.function``: run a prefix, then feed each output back ``n`` times."""
    fn = _TF_ROLLOUTS.get(model)
    if fn is not None:
        return fn
    import tensorflow as tf

    ref = weakref.ref(model)  # the cache must not keep the model alive

    @tf.function(reduce_retracing=True)
    def run(prefix: Any, n: Any, cov: Any) -> Any:
        m = ref()
        first = _last_step(m(prefix, training=False))
        out = tf.TensorArray(first.dtype, size=n)
        out = out.write(0, first)
        cur = first
        for i in tf.range(1, n):
            cur = _last_step(m(_next_input(cur, cov, i - 1)[:, None, :], training=False))
            out = out.write(i, cur)
        return tf.transpose(out.stack(), [1, 0, 2])

    _TF_ROLLOUTS[model] = run
    return run


def _tf_step_fn(model: keras.Model, shape: tuple, xla: bool) -> Any:
    import tensorflow as tf

    ref = weakref.ref(model)

    def one(obs: Any) -> Any:
        return _last_step(ref()(obs[:, None, :], training=False))

    fn = tf.function(one, autograph=False, jit_compile=xla)
    return fn.get_concrete_function(tf.TensorSpec(shape, tf.float32))


def _tf_step(model: keras.Model, x: np.ndarray) -> np.ndarray:
    """One step through a concrete function traced once per model (and input shape), so
    a call skips the argument matching of a ``tf.function`` call; XLA-compiled on CPU
    (a plain graph if XLA cannot compile the model: the first call fails before any
    state is written)."""
    import tensorflow as tf

    cached = _TF_STEPS.get(model)
    if cached is None or cached["shape"] != x.shape:
        xla = _xla_on_tensorflow()
        cached = {"shape": x.shape, "fn": _tf_step_fn(model, x.shape, xla), "xla": xla}
        _TF_STEPS[model] = cached
    try:
        out = cached["fn"](tf.constant(x))
    except (tf.errors.InvalidArgumentError, tf.errors.UnimplementedError):
        if not cached["xla"]:
            raise
        cached.update(fn=_tf_step_fn(model, x.shape, False), xla=False)
        out = cached["fn"](tf.constant(x))
    cached["xla"] = False  # compiled and ran: no retry later
    return out.numpy()


# --- PyTorch: the cells' own call, step by step ---------------------------------------------
#
# An eager Keras call on PyTorch spends about a millisecond in layer set-up (argument
# checks, autocasting, the RNN layer's scan machinery) for a few microseconds of tensor
# work per step. For a model that is a chain of stateful LSTM/GRU/SimpleRNN layers and
# Dense layers, the loop calls each cell's ``call(inputs, states)`` and each Dense
# layer's ``call`` directly: the same keras.ops on the same weights, without the set-up.

_CHAINS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def _chain(model: keras.Model) -> tuple[list, list] | None:
    """``(recurrent layers, Dense layers)`` if ``model`` is stateful LSTM/GRU/SimpleRNN
    layers (returning sequences, float32) then Dense or TimeDistributed(Dense) layers,
    each reading the one before; None for any other model. Cached."""
    if model in _CHAINS:
        return _CHAINS[model]
    cells = (keras.layers.LSTMCell, keras.layers.GRUCell, keras.layers.SimpleRNNCell)
    layers = [la for la in model.layers if not isinstance(la, keras.layers.InputLayer)]
    rnn = []
    for la in layers:
        if not isinstance(la, keras.layers.RNN):
            break
        rnn.append(la)
    head = layers[len(rnn) :]
    found = None
    try:
        ok = (
            rnn
            and len(model.inputs) == 1
            and len(model.outputs) == 1
            and all(la.stateful and la.return_sequences and type(la.cell) in cells for la in rnn)
            and all(type(getattr(la, "layer", la)) is keras.layers.Dense for la in head)
            and all(la.compute_dtype == "float32" for la in layers)
            and rnn[0].input is model.inputs[0]
            and all(layers[i + 1].input is layers[i].output for i in range(len(layers) - 1))
            and layers[-1].output is model.outputs[0]
        )
        if ok:
            found = (rnn, [getattr(la, "layer", la) for la in head])
    except (AttributeError, ValueError):  # a layer called more than once, or never
        found = None
    _CHAINS[model] = found
    return found


def _cells_step(rnn: list, head: list, x: Any, states: list) -> Any:
    """One step through the chain: ``states`` (a list per layer) is replaced in place."""
    for k, layer in enumerate(rnn):
        x, new = layer.cell.call(x, states[k], training=False)
        states[k] = list(new) if isinstance(new, list | tuple) else [new]
    for layer in head:
        x = layer.call(x)
    return x


def _split(rnn: list, flat: list) -> list[list]:
    """Flat state values (in layer order) as one list per layer."""
    out, at = [], 0
    for layer in rnn:
        n = len(layer.states)
        out.append(list(flat[at : at + n]))
        at += n
    return out


def _torch_rollout(
    model: keras.Model, layers: list, prefix: np.ndarray, n: int, cov: np.ndarray | None
) -> np.ndarray:
    import torch

    rnn, head = _chain(model)
    fns = _compiled(model, layers)
    svars = fns["svars"]
    with torch.no_grad():
        y, flat = fns["call"](*_values(model, svars), keras.ops.convert_to_tensor(prefix))
        cur = _last_step(y)
        states = _split(rnn, flat)
        cov = None if cov is None else keras.ops.convert_to_tensor(cov)
        out = [cur]
        for i in range(n - 1):
            cur = _cells_step(rnn, head, _next_input(cur, cov, i), states)
            out.append(cur)
        for v, s in zip(svars, (s for per in states for s in per)):
            v.assign(s)
        return keras.ops.convert_to_numpy(torch.stack(out, dim=1))


def _torch_step(model: keras.Model, x: np.ndarray) -> np.ndarray:
    import torch

    rnn, head = _chain(model)
    with torch.no_grad():
        states = [[v.value for v in layer.states] for layer in rnn]
        y = _cells_step(rnn, head, keras.ops.convert_to_tensor(x), states)
        for layer, per in zip(rnn, states):
            for v, s in zip(layer.states, per):
                v.assign(s)
        return keras.ops.convert_to_numpy(y)


def _rebinding_assign(self: Any, value: Any) -> None:
    """PyTorch: give the variable a new tensor; the forward pass keeps the old one."""
    import torch

    with torch.no_grad():
        fresh = torch.as_tensor(value, dtype=self._value.dtype, device=self._value.device)
        self._value = torch.nn.Parameter(fresh.detach().clone(), requires_grad=False)


_LAYERS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
_DEPTH: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def _rnn_layers(model: keras.Model) -> list[keras.layers.Layer]:
    """The stateful RNN layers of ``model``, nested models opened, cached."""
    cached = _LAYERS.get(model)
    if cached is None:
        cached = _LAYERS[model] = stateful_layers(model)
    return cached


@contextlib.contextmanager
def carried(model: keras.Model, layers: list | None = None) -> Iterator[None]:
    """For one call of Keras's own methods: make the trainer carry the states.

    ``fit``, ``evaluate``, ``predict``, ``train_on_batch``, ``test_on_batch`` and
    ``predict_on_batch`` then start each batch from the state the previous batch left, on
    every backend. Re-entrant: a ``fit`` that calls ``evaluate`` sets it up once.
    """
    layers = _rnn_layers(model) if layers is None else layers
    backend = keras.backend.backend()
    if not layers or backend == "tensorflow" or _DEPTH.get(model, 0):
        _DEPTH[model] = _DEPTH.get(model, 0) + 1
        try:
            yield
        finally:
            _DEPTH[model] -= 1
        return
    owners = [(layer, v) for layer in layers for v in keras.tree.flatten(layer.states)]
    _DEPTH[model] = 1
    if backend == "jax":
        for layer, v in owners:
            layer._non_trainable_variables.append(v)
    elif backend == "torch":
        for _, v in owners:
            v._direct_assign = types.MethodType(_rebinding_assign, v)
    try:
        yield
    finally:
        _DEPTH[model] = 0
        if backend == "jax":
            added = {id(v) for _, v in owners}
            for layer in layers:  # by identity: a variable's == compares values
                kept = [v for v in layer._non_trainable_variables if id(v) not in added]
                layer._non_trainable_variables[:] = kept
        elif backend == "torch":
            for _, v in owners:
                del v._direct_assign


def sync_before_reset(model: keras.Model) -> None:
    """JAX: write the trainer's in-flight values back, so a reset mid-epoch is seen."""
    sync = getattr(model, "jax_state_sync", None)
    if sync is not None:
        sync()


# --- compiled training -------------------------------------------------------------------
#
# ``train_epochs`` runs whole epochs of Keras's own ``train_step`` (so the loss, the
# metrics, regularisation and the optimizer are exactly what ``fit`` computes) with the
# resets between groups of batches inside one program: a ``tf.function`` with
# ``tf.range`` loops on TensorFlow, a ``jax.jit`` of ``lax.scan`` loops over the pure
# ``train_step(state, batch)`` on JAX (the states threaded as non-trainable variables),
# and on PyTorch a plain loop over ``train_step`` on tensors converted once, without
# ``fit``'s per-batch data handling and callbacks.


def _cast(a: np.ndarray | None) -> np.ndarray | None:
    """Floats become ``floatx``, as Keras's array adapter does; other dtypes stay."""
    if a is None:
        return None
    a = np.asarray(a)
    if np.issubdtype(a.dtype, np.floating):
        return np.ascontiguousarray(a, dtype=keras.backend.floatx())
    return np.ascontiguousarray(a)


def _plain_logs(res: dict[str, Any]) -> dict[str, Any]:
    out = {}
    for k, v in res.items():
        arr = np.asarray(keras.ops.convert_to_numpy(v))
        out[k] = float(arr) if arr.size == 1 else arr
    return out


def train_epochs(
    model: keras.Model,
    layers: list[keras.layers.Layer],
    full: tuple[np.ndarray, np.ndarray],
    rest: tuple[np.ndarray, np.ndarray] | None,
) -> Any:
    """A function ``run(n)`` that trains ``n`` epochs as one program and returns their logs.

    Args:
        model: a compiled model with the stateful ``layers``.
        full: ``(x, y)`` of shapes ``(groups, batches, batch, ...)``: each group starts
            from zero states and feeds its batches in order.
        rest: ``(x, y)`` of shapes ``(groups, batch, ...)``: one more (shorter) batch at
            the end of each group, or None.

    ``run(n)`` resets the metrics at the start of each epoch, leaves every variable
    (weights, optimizer, metrics, states) where the last step put it, and returns one
    dict of metric results per epoch, as ``fit`` reports them.
    """
    xf, yf = (_cast(a) for a in full)
    xr, yr = (None, None) if rest is None else (_cast(a) for a in rest)
    first = (xf[0, 0], yf[0, 0])
    with carried(model, layers):
        model._symbolic_build(data_batch=first)
        if not model.optimizer.built:
            model.optimizer.build(model.trainable_variables)
    for layer in layers:
        if layer.states is None or layer.states[0] is None:
            layer.reset_state()
    svars = state_variables(layers)
    make = {"tensorflow": _tf_epochs, "jax": _jax_epochs, "torch": _torch_epochs}
    return make[keras.backend.backend()](model, layers, svars, xf, yf, xr, yr)


def _xla_on_tensorflow() -> bool:
    """XLA for the training program: on CPU only (Keras's LSTM and GRU run cuDNN kernels
    on a GPU, which XLA cannot compile), and not under op determinism (as Keras)."""
    import tensorflow as tf

    try:
        from tensorflow.python.framework.config import is_op_determinism_enabled
    except ImportError:  # pragma: no cover - older or newer TensorFlow
        return False
    return not tf.config.list_physical_devices("GPU") and not is_op_determinism_enabled()


def _tf_epochs(model, layers, svars, xf, yf, xr, yr):
    import tensorflow as tf

    keys = list(model.get_metrics_result())
    groups, per_group = xf.shape[0], xf.shape[1]
    bx, by = xf.shape[2:], yf.shape[2:]
    rx = None if xr is None else xr.shape[1:]
    ry = None if yr is None else yr.shape[1:]

    # Inside the loops every batch gets a static shape: a slice with a free batch axis
    # would make the stateful layer's state fail the while-loop shape invariant.
    def program(n, xf, yf, xr, yr):
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
    # runs a step several times faster than the plain graph. If XLA cannot compile it
    # (the first call fails before any variable is written) the plain graph runs.
    xla = _xla_on_tensorflow()
    compiled = {"fn": tf.function(program, jit_compile=xla, autograph=True), "xla": xla}
    data = [None if a is None else tf.constant(a) for a in (xf, yf, xr, yr)]

    def run(n: int) -> list[dict[str, Any]]:
        try:
            out = compiled["fn"](tf.constant(n, tf.int32), *data)
        except (tf.errors.InvalidArgumentError, tf.errors.UnimplementedError):
            if not compiled["xla"]:
                raise
            compiled.update(fn=tf.function(program, jit_compile=False), xla=False)
            out = compiled["fn"](tf.constant(n, tf.int32), *data)
        compiled["xla"] = False  # compiled and ran: no retry later
        out = {k: v.numpy() for k, v in out.items()}
        return [_plain_logs({k: v[e] for k, v in out.items()}) for e in range(n)]

    return run


def _jax_epochs(model, layers, svars, xf, yf, xr, yr):
    import jax
    import jax.numpy as jnp

    with carried(model, layers):
        ids = [id(v) for v in model.non_trainable_variables]
        where = [ids.index(id(v)) for v in svars]
    model.reset_metrics()
    metric_zero = [v.value for v in model.metrics_variables]

    def train(state: tuple, batch: tuple) -> tuple:
        return model.train_step(state, batch)[1]

    def group(state: tuple, data: tuple) -> tuple:
        tv, ntv, ov, mv = state
        ntv = list(ntv)
        for i in where:
            ntv[i] = jnp.zeros_like(ntv[i])
        state = (tv, ntv, ov, mv)
        state, _ = jax.lax.scan(lambda s, b: (train(s, b), None), state, data[:2])
        if len(data) == 4:
            state = train(state, data[2:])
        return state, None

    def epoch(state: tuple, _: Any, data: tuple) -> tuple:
        tv, ntv, ov, _mv = state
        state, _ = jax.lax.scan(group, (tv, ntv, ov, list(metric_zero)), data)
        mapping = list(zip(model.metrics_variables, state[3]))
        with keras.StatelessScope(state_mapping=mapping):
            res = model.get_metrics_result()
        return state, res

    def program(state: tuple, data: tuple, n: int) -> tuple:
        return jax.lax.scan(lambda s, _: epoch(s, _, data), state, None, length=n)

    compiled = jax.jit(program, static_argnums=2)
    data = tuple(jnp.asarray(a) for a in (xf, yf, xr, yr) if a is not None)

    def run(n: int) -> list[dict[str, Any]]:
        with carried(model, layers):
            owners = (
                model.trainable_variables,
                model.non_trainable_variables,
                model.optimizer.variables,
                model.metrics_variables,
            )
            state = tuple([v.value for v in vs] for vs in owners)
            state, logs = compiled(state, data, n)
            for vs, values in zip(owners, state):
                for v, value in zip(vs, values):
                    v.assign(value)
        logs = {k: np.asarray(v) for k, v in logs.items()}
        return [_plain_logs({k: v[e] for k, v in logs.items()}) for e in range(n)]

    return run


def _torch_epochs(model, layers, svars, xf, yf, xr, yr):
    xf, yf, xr, yr = (
        None if a is None else keras.ops.convert_to_tensor(a) for a in (xf, yf, xr, yr)
    )
    groups, per_group = xf.shape[0], xf.shape[1]
    zeros = [keras.ops.zeros(v.shape, v.dtype) for v in svars]

    def run(n: int) -> list[dict[str, Any]]:
        out = []
        model.train()  # torch.nn.Module training mode, as Keras's fit sets it
        with carried(model, layers):
            for _ in range(n):
                model.reset_metrics()
                for g in range(groups):
                    for v, z in zip(svars, zeros):
                        v.assign(z)
                    for k in range(per_group):
                        model.train_step((xf[g, k], yf[g, k]))
                    if xr is not None:
                        model.train_step((xr[g], yr[g]))
                out.append(_plain_logs(model.get_metrics_result()))
        model.eval()
        return out

    return run


def fit_dataset(source: keras.utils.PyDataset) -> Any:
    """What Keras's ``fit`` should read for a chunked ``PyDataset`` on this backend.

    On TensorFlow a ``tf.data`` pipeline with a free time axis: Keras infers a
    ``PyDataset``'s signature from its first two batches, and a shorter last chunk
    would not fit it. Elsewhere the ``PyDataset`` itself.
    """
    if keras.backend.backend() != "tensorflow":
        return source
    import tensorflow as tf

    def spec(a: np.ndarray) -> Any:
        return tf.TensorSpec((a.shape[0], None, *a.shape[2:]), tf.float32)

    signature = tuple(spec(a) for a in source[0])
    return tf.data.Dataset.from_generator(
        lambda: (source[i] for i in range(len(source))), output_signature=signature
    ).apply(tf.data.experimental.assert_cardinality(len(source)))
