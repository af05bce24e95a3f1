"""JAX: the model as a pure function of its variables and states, jitted.

The JAX trainer's compiled steps are pure functions that hand back only the variables
Keras tracks, and a stateful RNN's states are not tracked, so ``fit``, ``predict`` and
``predict_on_batch`` would leave them at zero. ``carrying`` tracks them as non-trainable
variables for one Keras call (the trainer then threads them like batch-norm
statistics). ``rollout``, ``step`` and ``predict_on_batch`` have no fast path of their
own: they raise ``NotImplementedError`` and the generic pure call and rollout run,
compiled by ``jit`` (``jax.jit``). ``epochs`` is one ``jax.jit`` of ``lax.scan`` loops over
Keras's pure ``train_step(state, batch)``. JAX is imported inside the functions, so the
module imports (for the doctests) where JAX is not installed.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from typing import Any

import keras
import numpy as np

from ._common import EpochData, EpochRunner, carried, plain_logs
from ._keras_private import jax_state_sync, track_as_non_trainable, untrack_non_trainable

__all__ = [
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
]


def jit(fn: Callable[..., Any], *, static_argnums: tuple[int, ...] | int = ()) -> Callable:
    """``jax.jit``: the generic pure call and rollout run compiled."""
    import jax

    return jax.jit(fn, static_argnums=static_argnums)


def no_grad() -> contextlib.AbstractContextManager[None]:
    """Nothing to switch off: JAX records nothing outside ``jax.grad``."""
    return contextlib.nullcontext()


@contextlib.contextmanager
def carrying(layers: list[keras.layers.Layer]) -> Iterator[None]:
    """Track the states as non-trainable variables for the duration of one Keras call."""
    variables = {id(layer): keras.tree.flatten(layer.states) for layer in layers}
    for layer in layers:
        track_as_non_trainable(layer, variables[id(layer)])
    try:
        yield
    finally:
        added = {id(v) for vs in variables.values() for v in vs}
        for layer in layers:
            untrack_non_trainable(layer, added)


def sync_before_reset(model: keras.Model) -> None:
    """Write the trainer's in-flight values back, so a reset mid-epoch is seen."""
    jax_state_sync(model)


def predict_on_batch(model: keras.Model, layers: list, x: np.ndarray) -> np.ndarray:
    """No fast path: the jitted pure call runs."""
    raise NotImplementedError


def rollout(
    model: keras.Model,
    layers: list,
    prefix: np.ndarray,
    n: int,
    covariates: np.ndarray | None,
) -> np.ndarray:
    """No fast path: the jitted generic rollout (a ``fori_loop``) runs."""
    raise NotImplementedError


def step(model: keras.Model, layers: list, x: np.ndarray) -> np.ndarray:
    """No fast path: the jitted pure call runs one step."""
    raise NotImplementedError


def epochs(model: keras.Model, layers: list, svars: list[Any], data: EpochData) -> EpochRunner:
    """Whole epochs as one ``jax.jit`` of ``lax.scan`` loops over the pure ``train_step``."""
    import jax
    import jax.numpy as jnp

    with carried(model, layers, carrying):
        ids = [id(v) for v in model.non_trainable_variables]
        where = [ids.index(id(v)) for v in svars]
    model.reset_metrics()
    metric_zero = [v.value for v in model.metrics_variables]

    def train(state: tuple, batch: tuple) -> tuple:
        return model.train_step(state, batch)[1]

    def group(state: tuple, batches: tuple) -> tuple:
        tv, ntv, ov, mv = state
        ntv = list(ntv)
        for i in where:
            ntv[i] = jnp.zeros_like(ntv[i])
        state = (tv, ntv, ov, mv)
        state, _ = jax.lax.scan(lambda s, b: (train(s, b), None), state, batches[:2])
        if len(batches) == 4:
            state = train(state, batches[2:])
        return state, None

    def epoch(state: tuple, arrays: tuple) -> tuple:
        tv, ntv, ov, _mv = state
        state, _ = jax.lax.scan(group, (tv, ntv, ov, list(metric_zero)), arrays)
        mapping = list(zip(model.metrics_variables, state[3]))
        with keras.StatelessScope(state_mapping=mapping):
            res = model.get_metrics_result()
        return state, res

    def program(state: tuple, arrays: tuple, n: int) -> tuple:
        return jax.lax.scan(lambda s, _: epoch(s, arrays), state, None, length=n)

    compiled = jax.jit(program, static_argnums=2)
    arrays = tuple(jnp.asarray(a) for a in data if a is not None)

    def run(n: int) -> list[dict[str, Any]]:
        with carried(model, layers, carrying):
            owners = (
                model.trainable_variables,
                model.non_trainable_variables,
                model.optimizer.variables,
                model.metrics_variables,
            )
            state = tuple([v.value for v in vs] for vs in owners)
            state, logs = compiled(state, arrays, n)
            for vs, vals in zip(owners, state):
                for v, value in zip(vs, vals):
                    v.assign(value)
        logs = {k: np.asarray(v) for k, v in logs.items()}
        return [plain_logs({k: v[e] for k, v in logs.items()}) for e in range(n)]

    return run


def fit_dataset(source: keras.utils.PyDataset) -> Any:
    """Keras's ``fit`` reads the chunked ``PyDataset`` itself."""
    return source


# --- several processes (keras_lstm_patterns.distributed) -----------------------------------


def set_cpu_collectives(name: str) -> None:
    """Choose JAX's CPU collectives (``"gloo"`` or ``"mpi"``) before the job starts."""
    import jax

    jax.config.update("jax_cpu_collectives_implementation", name)


def shutdown_processes() -> None:
    """Leave the job (``jax.distributed.shutdown``); a no-op outside one."""
    import jax

    jax.distributed.shutdown()


def process_index() -> int:
    """This process's number in the job (0 outside a multi-process job)."""
    import jax

    return int(jax.process_index())


def process_count() -> int:
    """How many processes the job has (1 outside a multi-process job)."""
    import jax

    return int(jax.process_count())
