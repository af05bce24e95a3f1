"""Carrying a stateful layer's states on every Keras backend: the one backend interface.

Keras 3.15 keeps a stateful RNN's states in variables it does not track. On TensorFlow
that is enough: ``fit``, ``predict_on_batch`` and ``model(x)`` all update them. On JAX the
trainer's compiled steps are pure functions that only hand back tracked variables, so
``fit``/``predict``/``predict_on_batch`` leave the states at zero (only eager ``model(x)``
carries them). On PyTorch the layer writes its state in place during the forward pass,
which backpropagation then rejects ("modified by an inplace operation").

This package threads the states explicitly instead, as Keras lays out its own backends
(``keras/src/backend/__init__.py``): one module per backend, ``tensorflow``, ``jax`` and
``torch`` (``_generic`` for any other), with the same function names, chosen once when
this package is imported. A backend's fast path raises ``NotImplementedError`` when it
does not apply, and the generic code here runs instead, as Keras's ``backend.lstm``
falls back to the generic RNN loop. The rest of the package calls the functions below
and never asks which backend runs:

* ``carried(model)``: Keras's own ``fit``, ``evaluate``, ``predict``, ``train_on_batch``,
  ``test_on_batch`` and ``predict_on_batch`` carry the states for one call
  (``PatternModel`` wraps those methods in it).
* ``call_with_states`` runs the model as a pure function of (weights, states, inputs)
  inside a ``keras.StatelessScope`` and stores the new states; ``predict_on_batch`` is
  one chunk of ``predict_chunks``.
* ``rollout`` feeds outputs back (beside known-future covariates); ``step`` advances the
  states by one observation.
* ``train_epochs`` runs whole epochs of Keras's ``train_step``, with the resets between
  groups of batches, as one program (``fit_stateful``); ``fit_dataset`` is the input
  Keras's ``fit`` reads for chunked training; ``sync_before_reset`` comes before a reset
  in the middle of Keras's ``fit``.

Every private Keras API these modules use is in ``_keras_private``; everything they keep
between calls is in one ``ModelCache`` (``_cache.cache``).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from importlib import import_module
from typing import Any

import keras
import numpy as np

from .._model import stateful_layers
from . import _common
from ._cache import cache
from ._common import (
    EpochData,
    EpochRunner,
    cast,
    last_step,
    pure_functions,
    state_variables,
    values,
)
from ._keras_private import symbolic_build

__all__ = [
    "NAME",
    "call_with_states",
    "carried",
    "fit_dataset",
    "predict_on_batch",
    "process_count",
    "process_index",
    "rollout",
    "set_cpu_collectives",
    "shutdown_processes",
    "state_variables",
    "step",
    "sync_before_reset",
    "train_epochs",
]

# The Keras backend, read once; its module implements the fast paths.
NAME: str = keras.backend.backend()
_impl = import_module(
    f".{NAME}" if NAME in ("tensorflow", "jax", "torch") else "._generic", __name__
)


def run_pure(model: keras.Model, layers: list, name: str, *args: Any) -> np.ndarray:
    """Run the model's pure function ``name`` (``"call"`` or ``"rollout"``) from the
    current states, compiled by the backend's ``jit``; store the new states."""
    fns = pure_functions(model, layers, _impl.jit)
    with _impl.no_grad():
        out, new = getattr(fns, name)(*values(model, fns.svars), *args)
    for v, s in zip(fns.svars, new):
        v.assign(s)
    return keras.ops.convert_to_numpy(out)


def call_with_states(model: keras.Model, layers: list, x: np.ndarray) -> np.ndarray:
    """``model(x)`` starting from, and then updating, the stateful ``layers``' states."""
    return run_pure(model, layers, "call", x)


def predict_on_batch(model: keras.Model, layers: list, x: np.ndarray) -> np.ndarray:
    """``model.predict_on_batch(x)`` from the current states, leaving the new ones: Keras's
    own where it carries them (TensorFlow), :func:`call_with_states` elsewhere."""
    try:
        return _impl.predict_on_batch(model, layers, x)
    except NotImplementedError:
        return call_with_states(model, layers, x)


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
        return last_step(call_with_states(model, layers, prefix))[:, None, :]
    try:
        return _impl.rollout(model, layers, prefix, int(n), covariates)
    except NotImplementedError:
        return run_pure(model, layers, "rollout", prefix, int(n), covariates)


def step(model: keras.Model, layers: list, x: np.ndarray) -> np.ndarray:
    """Feed one observation ``(batch, features)``; return that step's ``(batch, outputs)``."""
    try:
        return _impl.step(model, layers, x)
    except NotImplementedError:
        return last_step(call_with_states(model, layers, x[:, None, :]))


@contextlib.contextmanager
def carried(model: keras.Model, layers: list | None = None) -> Iterator[None]:
    """For one call of Keras's own methods: make the trainer carry the states.

    ``fit``, ``evaluate``, ``predict``, ``train_on_batch``, ``test_on_batch`` and
    ``predict_on_batch`` then start each batch from the state the previous batch left, on
    every backend. Re-entrant: a ``fit`` that calls ``evaluate`` sets it up once.
    """
    if layers is None:
        layers = cache.get(model, "stateful_layers", lambda: stateful_layers(model))
    with _common.carried(model, layers, _impl.carrying):
        yield


def sync_before_reset(model: keras.Model) -> None:
    """Before a reset in the middle of Keras's ``fit``: make the reset stick (on JAX the
    trainer's in-flight values are written back first)."""
    _impl.sync_before_reset(model)


def train_epochs(
    model: keras.Model,
    layers: list[keras.layers.Layer],
    full: tuple[np.ndarray, np.ndarray],
    rest: tuple[np.ndarray, np.ndarray] | None,
) -> EpochRunner:
    """A function ``run(n)`` that trains ``n`` epochs as one program and returns their logs.

    Args:
        model: a compiled model with the stateful ``layers``.
        layers: the model's stateful layers.
        full: ``(x, y)`` of shapes ``(groups, batches, batch, ...)``: each group starts
            from zero states and feeds its batches in order.
        rest: ``(x, y)`` of shapes ``(groups, batch, ...)``: one more (shorter) batch at
            the end of each group, or None.

    Returns:
        ``run(n)``, which resets the metrics at the start of each epoch, leaves every
        variable (weights, optimizer, metrics, states) where the last step put it, and
        returns one dict of metric results per epoch, as ``fit`` reports them.
    """
    xf, yf = (cast(a) for a in full)
    xr, yr = (None, None) if rest is None else (cast(a) for a in rest)
    with carried(model, layers):
        symbolic_build(model, (xf[0, 0], yf[0, 0]))
        if not model.optimizer.built:
            model.optimizer.build(model.trainable_variables)
    for layer in layers:
        if layer.states is None or layer.states[0] is None:
            layer.reset_state()
    data = EpochData(xf, yf, xr, yr)
    return _impl.epochs(model, layers, state_variables(layers), data)


def fit_dataset(source: keras.utils.PyDataset) -> Any:
    """What Keras's ``fit`` should read for a chunked ``PyDataset`` on this backend.

    On TensorFlow a ``tf.data`` pipeline with a free time axis (Keras infers a
    ``PyDataset``'s signature from its first two batches, and a shorter last chunk would
    not fit it); elsewhere the ``PyDataset`` itself.
    """
    return _impl.fit_dataset(source)


# --- several processes: what ``keras_lstm_patterns.distributed`` needs from the backend ---


def set_cpu_collectives(name: str) -> None:
    """Choose the CPU collectives of a multi-process job (``"gloo"`` or ``"mpi"``).

    Raises:
        NotImplementedError: the backend runs no multi-process job (JAX only).
    """
    _impl.set_cpu_collectives(name)


def shutdown_processes() -> None:
    """Leave a multi-process job; a no-op outside one."""
    _impl.shutdown_processes()


def process_index() -> int:
    """This process's number in the job (0 outside a multi-process job)."""
    return _impl.process_index()


def process_count() -> int:
    """How many processes the job has (1 outside a multi-process job)."""
    return _impl.process_count()
