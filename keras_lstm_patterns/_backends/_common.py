"""What every backend module shares: the pure call of a model with its states, the
generic rollout built on it, and the typed pieces of a compiled training run."""

from __future__ import annotations

import contextlib
import weakref
from collections.abc import Callable, Iterator
from typing import Any, NamedTuple

import keras
import numpy as np

from ._cache import cache

__all__ = [
    "Chain",
    "EpochData",
    "EpochRunner",
    "Jit",
    "Logs",
    "PureFunctions",
    "carried",
    "cast",
    "chain",
    "last_step",
    "next_input",
    "plain_logs",
    "pure_functions",
    "state_variables",
    "values",
]

# (recurrent layers, Dense layers) of a model that runs as a chain of cells
Chain = tuple[list[Any], list[Any]]
# One epoch's metrics as ``fit`` reports them: a float per scalar metric.
Logs = dict[str, Any]
# ``run(n)`` trains ``n`` epochs as one program and returns one ``Logs`` per epoch.
EpochRunner = Callable[[int], list[Logs]]
# A backend's compiler for a pure function: ``jit(fn, static_argnums=(...))``.
Jit = Callable[..., Callable[..., Any]]


class EpochData(NamedTuple):
    """The batches of one epoch of ``fit_stateful``, as arrays.

    Attributes:
        x_full: ``(groups, batches, batch, ...)``; each group starts from zero states and
            feeds its batches in order.
        y_full: the targets of ``x_full``, same leading axes.
        x_rest: ``(groups, batch, ...)``, one more (shorter) batch at the end of each
            group, or None.
        y_rest: the targets of ``x_rest``, or None.
    """

    x_full: Any
    y_full: Any
    x_rest: Any = None
    y_rest: Any = None


class PureFunctions(NamedTuple):
    """A model as pure functions of ``(trainable, non_trainable, states, ...)``.

    Attributes:
        call: ``call(tv, ntv, sv, x) -> (outputs, new_states)``.
        rollout: ``rollout(tv, ntv, sv, prefix, n, cov) -> (outputs, new_states)``.
        svars: the state variables, in the order of ``sv``.
    """

    call: Callable[..., tuple[Any, list[Any]]]
    rollout: Callable[..., tuple[Any, list[Any]]]
    svars: list[Any]


@contextlib.contextmanager
def carried(
    model: keras.Model,
    layers: list[keras.layers.Layer],
    carrying: Callable[[list[keras.layers.Layer]], contextlib.AbstractContextManager[None]],
) -> Iterator[None]:
    """Enter the backend's ``carrying(layers)`` once per model: re-entrant, so a ``fit``
    that calls ``evaluate`` sets it up once (the depth is kept in the model's record)."""
    record = cache.record(model)
    depth = record.get("depth", 0)
    if not layers or depth:
        record["depth"] = depth + 1
        try:
            yield
        finally:
            record["depth"] -= 1
        return
    record["depth"] = 1
    try:
        with carrying(layers):
            yield
    finally:
        record["depth"] = 0


def _find_chain(model: keras.Model) -> Chain | None:
    cells = (keras.layers.LSTMCell, keras.layers.GRUCell, keras.layers.SimpleRNNCell)
    layers = [la for la in model.layers if not isinstance(la, keras.layers.InputLayer)]
    rnn = []
    for la in layers:
        if not isinstance(la, keras.layers.RNN):
            break
        rnn.append(la)
    head = layers[len(rnn) :]
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
    except (AttributeError, ValueError):  # a layer called more than once, or never
        return None
    return (rnn, [getattr(la, "layer", la) for la in head]) if ok else None


def chain(model: keras.Model) -> Chain | None:
    """``(recurrent layers, Dense layers)`` if ``model`` is stateful LSTM/GRU/SimpleRNN
    layers (returning sequences, float32) then Dense or TimeDistributed(Dense) layers,
    each reading the one before; None for any other model. Cached."""
    return cache.get(model, "chain", lambda: _find_chain(model))


def state_variables(layers: list[keras.layers.Layer]) -> list[Any]:
    """The state variables of the given stateful RNN layers, in order."""
    return [v for layer in layers for v in keras.tree.flatten(layer.states)]


def last_step(y: Any) -> Any:
    """``y[:, -1, :]`` for a sequence output, ``y`` itself for a ``(batch, outputs)`` one."""
    return y[:, -1, :] if len(y.shape) == 3 else y


def next_input(output: Any, cov: Any, i: Any) -> Any:
    """The input after ``output``: the output, then ``cov[:, i]`` (when there are covariates)."""
    if cov is None:
        return output
    return keras.ops.concatenate([output, cov[:, i]], axis=-1)


def _pure(model: keras.Model, svars: list[Any]) -> Callable[..., tuple[Any, list[Any]]]:
    """``f(weights, non_trainable, states, x) -> (outputs, new_states)``, no side effects."""
    ref = weakref.ref(model)  # the cache must not keep the model alive

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


def _make_pure_functions(
    model: keras.Model, layers: list[keras.layers.Layer], jit: Jit
) -> PureFunctions:
    svars = state_variables(layers)
    f = _pure(model, svars)

    def rollout(
        tv: list, ntv: list, sv: list, prefix: Any, n: int, cov: Any = None
    ) -> tuple[Any, list]:
        y, sv = f(tv, ntv, sv, prefix)
        first = last_step(y)
        out = keras.ops.zeros((first.shape[0], n, first.shape[-1]), dtype=first.dtype)
        out = keras.ops.slice_update(out, (0, 0, 0), first[:, None, :])

        def body(i: Any, carry: tuple) -> tuple:
            states, cur, acc = carry
            y, states = f(tv, ntv, states, next_input(cur, cov, i - 1)[:, None, :])
            nxt = last_step(y)
            return states, nxt, keras.ops.slice_update(acc, (0, i, 0), nxt[:, None, :])

        sv, _, out = keras.ops.fori_loop(1, n, body, (sv, first, out))
        return out, sv

    return PureFunctions(jit(f), jit(rollout, static_argnums=4), svars)


def pure_functions(model: keras.Model, layers: list[keras.layers.Layer], jit: Jit) -> PureFunctions:
    """The model's pure call and rollout, compiled by the backend's ``jit``, cached."""
    return cache.get(model, "pure", lambda: _make_pure_functions(model, layers, jit))


def values(model: keras.Model, svars: list[Any]) -> tuple[list, list, list]:
    """The current values of the model's trainable, non-trainable and state variables."""
    return (
        [v.value for v in model.trainable_variables],
        [v.value for v in model.non_trainable_variables],
        [v.value for v in svars],
    )


def cast(a: np.ndarray | None) -> np.ndarray | None:
    """Floats become ``floatx``, as Keras's array adapter does; other dtypes stay."""
    if a is None:
        return None
    a = np.asarray(a)
    if np.issubdtype(a.dtype, np.floating):
        return np.ascontiguousarray(a, dtype=keras.backend.floatx())
    return np.ascontiguousarray(a)


def plain_logs(res: dict[str, Any]) -> Logs:
    """Metric results as Python floats (arrays for non-scalar metrics)."""
    out = {}
    for k, v in res.items():
        arr = np.asarray(keras.ops.convert_to_numpy(v))
        out[k] = float(arr) if arr.size == 1 else arr
    return out
