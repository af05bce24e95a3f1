"""PyTorch: the recurrent cells' own ``call``, step by step, and a state write that
leaves the forward pass's tensor alone.

On PyTorch a stateful layer writes its new state in place into the tensor its forward
pass read (``Variable._direct_assign`` copies into it), which backpropagation then
rejects ("modified by an inplace operation"; ``_keras_private`` names the Keras issues).
``carrying`` makes each state variable take a fresh tensor instead, for one Keras call.

An eager Keras call on PyTorch spends about a millisecond in layer set-up (argument
checks, autocasting, the RNN layer's scan machinery) for a few microseconds of tensor
work per step. For a model that is a chain of stateful LSTM/GRU/SimpleRNN layers and
Dense layers (``_common.chain``), ``rollout`` and ``step`` call each cell's
``call(inputs, states)`` and each Dense layer's ``call`` directly: the same keras.ops on
the same weights, without the set-up. For any other model they raise
``NotImplementedError`` and the generic pure call runs (eager, without gradients).
``epochs`` is a plain loop over Keras's ``train_step`` on tensors converted once; for a
model compiled with ``jit_compile=True`` the step is wrapped in ``torch.compile``, as
Keras's own trainer does (``benchmarks/torch_compile.py``: 2.2x to 4.5x the eager epoch
after a compilation of 20 to 45 s, equal losses; each new model compiles again, and from
about the fifth in one process TorchDynamo's recompile limit leaves the step eager;
"auto" stays eager, as in Keras). PyTorch
is imported inside the functions, so the module imports (for the doctests) where PyTorch
is not installed.
"""

from __future__ import annotations

import contextlib
import functools
from collections.abc import Callable, Iterator
from typing import Any

import keras
import numpy as np

from ._common import (
    EpochData,
    EpochRunner,
    carried,
    chain,
    last_step,
    next_input,
    plain_logs,
    pure_functions,
    values,
)
from ._keras_private import (
    rebind_torch_tensor,
    rebind_torch_value,
    restore_assign,
    use_assign,
)

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
    """The generic pure functions run eagerly (no ``torch.compile`` trial yet)."""
    return fn


def no_grad() -> contextlib.AbstractContextManager[None]:
    """``torch.no_grad()``: predictions and rollouts record no graph."""
    import torch

    return torch.no_grad()


@contextlib.contextmanager
def carrying(
    layers: list[keras.layers.Layer],
    rebind: Callable[[Any, Any], None] = rebind_torch_value,
) -> Iterator[None]:
    """Assign a new tensor to each state variable instead of writing into the old one."""
    variables = [v for layer in layers for v in keras.tree.flatten(layer.states)]
    for v in variables:
        use_assign(v, rebind)
    try:
        yield
    finally:
        for v in variables:
            restore_assign(v)


def sync_before_reset(model: keras.Model) -> None:
    """Nothing in flight: the variables hold the states."""


def predict_on_batch(model: keras.Model, layers: list, x: np.ndarray) -> np.ndarray:
    """No fast path: the pure call runs without gradients."""
    raise NotImplementedError


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


def rollout(
    model: keras.Model,
    layers: list,
    prefix: np.ndarray,
    n: int,
    covariates: np.ndarray | None,
) -> np.ndarray:
    """The prefix through the pure call, then the outputs fed back through the cells."""
    import torch

    found = chain(model)
    if found is None:
        raise NotImplementedError
    rnn, head = found
    fns = pure_functions(model, layers, jit)
    with torch.no_grad():
        y, flat = fns.call(*values(model, fns.svars), keras.ops.convert_to_tensor(prefix))
        cur = last_step(y)
        states = _split(rnn, flat)
        cov = None if covariates is None else keras.ops.convert_to_tensor(covariates)
        out = [cur]
        for i in range(n - 1):
            cur = _cells_step(rnn, head, next_input(cur, cov, i), states)
            out.append(cur)
        for v, s in zip(fns.svars, (s for per in states for s in per)):
            v.assign(s)
        return keras.ops.convert_to_numpy(torch.stack(out, dim=1))


def step(model: keras.Model, layers: list, x: np.ndarray) -> np.ndarray:
    """One observation through the cells and the Dense head."""
    import torch

    found = chain(model)
    if found is None:
        raise NotImplementedError
    rnn, head = found
    with torch.no_grad():
        states = [[v.value for v in layer.states] for layer in rnn]
        y = _cells_step(rnn, head, keras.ops.convert_to_tensor(x), states)
        for layer, per in zip(rnn, states):
            for v, s in zip(layer.states, per):
                v.assign(s)
        return keras.ops.convert_to_numpy(y)


def epochs(model: keras.Model, layers: list, svars: list[Any], data: EpochData) -> EpochRunner:
    """A plain loop over Keras's ``train_step``, without ``fit``'s per-batch data handling
    and callbacks, on tensors converted once; ``torch.compile``d when the model was
    compiled with ``jit_compile=True`` (the states then rebound as plain tensors)."""
    import torch

    xf, yf, xr, yr = (None if a is None else keras.ops.convert_to_tensor(a) for a in data)
    groups, per_group = xf.shape[0], xf.shape[1]
    zeros = [keras.ops.zeros(v.shape, v.dtype) for v in svars]
    train_step, carry = model.train_step, carrying
    if model.jit_compile is True:
        train_step = torch.compile(model.train_step)
        carry = functools.partial(carrying, rebind=rebind_torch_tensor)

    def run(n: int) -> list[dict[str, Any]]:
        out = []
        model.train()  # torch.nn.Module training mode, as Keras's fit sets it
        with carried(model, layers, carry):
            for _ in range(n):
                model.reset_metrics()
                for g in range(groups):
                    for v, z in zip(svars, zeros):
                        v.assign(z)
                    for k in range(per_group):
                        train_step((xf[g, k], yf[g, k]))
                    if xr is not None:
                        train_step((xr[g], yr[g]))
                out.append(plain_logs(model.get_metrics_result()))
        model.eval()
        return out

    return run


def fit_dataset(source: keras.utils.PyDataset) -> Any:
    """Keras's ``fit`` reads the chunked ``PyDataset`` itself."""
    return source


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
