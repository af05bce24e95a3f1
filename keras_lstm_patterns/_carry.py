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
  on JAX, eager (no gradient) on PyTorch. ``rollout`` feeds outputs back with it, in one
  ``jax.jit``-compiled ``fori_loop`` on JAX.
* ``carried_in_fit`` makes Keras's own ``fit`` carry them for the duration of one call:
  on JAX by tracking the state variables as non-trainable variables (the trainer then
  threads them like batch-norm statistics), on PyTorch by assigning a new tensor instead
  of writing into the one the forward pass used.
"""

from __future__ import annotations

import contextlib
import types
import weakref
from collections.abc import Iterator
from typing import Any

import keras
import numpy as np

__all__ = ["call_with_states", "carried_in_fit", "rollout", "state_variables"]


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

    def rollout(tv: list, ntv: list, sv: list, prefix: Any, n: int) -> tuple[Any, list]:
        y, sv = f(tv, ntv, sv, prefix)
        first = _last_step(y)
        out = keras.ops.zeros((first.shape[0], n, first.shape[-1]), dtype=first.dtype)
        out = keras.ops.slice_update(out, (0, 0, 0), first[:, None, :])

        def body(i: Any, carry: tuple) -> tuple:
            states, cur, acc = carry
            y, states = f(tv, ntv, states, cur[:, None, :])
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


def rollout(model: keras.Model, layers: list, prefix: np.ndarray, n: int) -> np.ndarray:
    """Run ``prefix`` from the current states, then feed each output back; ``n`` outputs."""
    return _run(model, layers, "rollout", prefix, int(n))


def _rebinding_assign(self: Any, value: Any) -> None:
    """PyTorch: give the variable a new tensor; the forward pass keeps the old one."""
    import torch

    with torch.no_grad():
        fresh = torch.as_tensor(value, dtype=self._value.dtype, device=self._value.device)
        self._value = torch.nn.Parameter(fresh.detach().clone(), requires_grad=False)


@contextlib.contextmanager
def carried_in_fit(model: keras.Model, layers: list[keras.layers.Layer]) -> Iterator[None]:
    """For one ``fit`` call: make Keras's trainer carry the states on this backend."""
    backend = keras.backend.backend()
    owners = [(layer, v) for layer in layers for v in keras.tree.flatten(layer.states)]
    if backend == "jax":
        for layer, v in owners:
            layer._non_trainable_variables.append(v)
        try:
            yield
        finally:
            for layer, v in owners:
                layer._non_trainable_variables.remove(v)
    elif backend == "torch":
        for _, v in owners:
            v._direct_assign = types.MethodType(_rebinding_assign, v)
        try:
            yield
        finally:
            for _, v in owners:
                del v._direct_assign
    else:
        yield


def sync_before_reset(model: keras.Model) -> None:
    """JAX: write the trainer's in-flight values back, so a reset mid-epoch is seen."""
    sync = getattr(model, "jax_state_sync", None)
    if sync is not None:
        sync()
