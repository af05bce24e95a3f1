"""Every private Keras (and TensorFlow) API the package uses, in one place.

Each function below wraps one private attribute, with the Keras version it was checked
against and the upstream issue or missing public API it stands in for. ``PRIVATE_APIS``
lists them; ``tests/test_backends.py`` checks each one is still there (and still does
what is used here) on the installed Keras, and fails naming it when a release removes
or changes it. No other module of the package touches a private Keras attribute
(the same test reads the sources to keep it so).

When a Keras release breaks one: the failing test names the entry; its ``stands_in_for``
says what to look for upstream (the public API or the fix that makes it unneeded).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import keras

__all__ = [
    "KERAS_CHECKED",
    "PRIVATE_APIS",
    "PrivateApi",
    "compile_settings",
    "jax_state_sync",
    "rebind_torch_tensor",
    "rebind_torch_value",
    "restore_assign",
    "symbolic_build",
    "tf_op_determinism_enabled",
    "track_as_non_trainable",
    "untrack_non_trainable",
    "use_assign",
]

# The Keras release every entry below was read against (keras/src at tag v3.15.1).
KERAS_CHECKED = "3.15.1"


@dataclass(frozen=True)
class PrivateApi:
    """One private API: what it is, what it stands in for, and how to see it is there.

    Attributes:
        name: the private name as Keras (or TensorFlow) spells it.
        uses: where the package uses it (``_backends`` and ``stateful`` functions).
        stands_in_for: the upstream issue or the missing public API it replaces.
        backend: the only Keras backend where it is used, or None for all.
        present: ``present()`` is True when the installed Keras still has it and it
            behaves as used here.
    """

    name: str
    uses: str
    stands_in_for: str
    backend: str | None
    present: Callable[[], bool]


# --- Model._symbolic_build ----------------------------------------------------------------
# Keras 3.15.1, keras/src/trainers/trainer.py: ``Trainer._symbolic_build(data_batch=...)``
# builds the model, its compiled loss and metrics from one batch, as ``fit`` does before
# its first step. No public API builds the compiled metrics without running a step.


def symbolic_build(model: keras.Model, data_batch: tuple[Any, Any]) -> None:
    """Build ``model``, its loss and its metrics from one ``(x, y)`` batch, as ``fit`` does."""
    model._symbolic_build(data_batch=data_batch)


# --- Layer._non_trainable_variables (JAX) -------------------------------------------------
# Keras 3.15.1, keras/src/layers/rnn/rnn.py creates a stateful RNN's states under
# ``@tracking.no_automatic_dependency_tracking``: the JAX trainer's pure steps hand back
# only tracked variables, so ``fit``/``predict`` leave the states at zero. Appending them
# to the layer's private ``_non_trainable_variables`` list makes the trainer thread them
# like batch-norm statistics. Missing public API: a way to mark a variable as trainer
# state (no upstream issue found for stateful RNNs under the JAX trainer).


def track_as_non_trainable(layer: keras.layers.Layer, variables: list[Any]) -> None:
    """JAX: make ``layer`` report ``variables`` among its non-trainable variables."""
    layer._non_trainable_variables.extend(variables)


def untrack_non_trainable(layer: keras.layers.Layer, added: set[int]) -> None:
    """Undo :func:`track_as_non_trainable` for the variables whose ``id`` is in ``added``
    (by identity: a variable's ``==`` compares values)."""
    kept = [v for v in layer._non_trainable_variables if id(v) not in added]
    layer._non_trainable_variables[:] = kept


# --- Variable._direct_assign and Variable._value (PyTorch) --------------------------------
# Keras 3.15.1, keras/src/backend/torch/core.py: ``Variable._direct_assign`` writes a
# stateful RNN's new state with ``self.value.copy_(value)``, in place into the tensor the
# forward pass used, and backpropagation then fails ("modified by an inplace operation").
# keras-team/keras#20875 (fixed by #20916) clones the states only in the generic
# ``RNN.inner_loop``; LSTM and GRU on PyTorch take ``backend.lstm``/``backend.gru`` first
# (the pure-torch fallback on CPU, cuDNN on a GPU), which read the state tensor itself.
# keras-team/keras#23462 / #23464 clone there too; until a release has that fix, the
# package gives the variable a fresh tensor instead (``rebind_torch_value``) for the
# duration of one Keras call.


def use_assign(variable: Any, assign: Callable[[Any, Any], None]) -> None:
    """Make ``variable.assign`` write through ``assign(variable, value)`` (one instance)."""
    import types

    variable._direct_assign = types.MethodType(assign, variable)


def restore_assign(variable: Any) -> None:
    """Undo :func:`use_assign`: Keras's own ``_direct_assign`` again."""
    del variable._direct_assign


def rebind_torch_value(variable: Any, value: Any) -> None:
    """PyTorch: give ``variable`` a new tensor holding ``value``; the old one, which a
    forward pass may still need for its gradient, is left untouched."""
    import torch

    old = variable._value
    with torch.no_grad():
        fresh = torch.as_tensor(value, dtype=old.dtype, device=old.device)
        variable._value = torch.nn.Parameter(fresh.detach().clone(), requires_grad=False)


def rebind_torch_tensor(variable: Any, value: Any) -> None:
    """:func:`rebind_torch_value` with a plain tensor: TorchDynamo cannot trace the
    ``torch.nn.Parameter`` constructor (a graph break at every state write), so the steps
    ``torch.compile`` runs (``jit_compile=True``) rebind the states this way."""
    import torch

    old = variable._value
    with torch.no_grad():
        fresh = torch.as_tensor(value, dtype=old.dtype, device=old.device)
        variable._value = fresh.detach().clone()


# --- JAXTrainer.jax_state_sync (JAX) ------------------------------------------------------
# Keras 3.15.1, keras/src/backend/jax/trainer.py: ``fit`` keeps the variables' values in
# flight inside the trainer and writes them back at the end of an epoch; a callback that
# resets the states mid-epoch must first write them back, or the reset is overwritten.
# Not in the public API (no underscore, but undocumented); no public "sync" exists.


def jax_state_sync(model: keras.Model) -> None:
    """JAX: write the trainer's in-flight values back to the variables (no-op elsewhere)."""
    sync = getattr(model, "jax_state_sync", None)
    if sync is not None:
        sync()


# --- tensorflow.python.framework.config.is_op_determinism_enabled (TensorFlow) ------------
# Keras 3.15.1, keras/src/trainers/trainer.py imports the same private TensorFlow function
# to leave XLA off under op determinism; TensorFlow 2.21 has a public setter
# (``tf.config.experimental.enable_op_determinism``) but no public getter.


def tf_op_determinism_enabled() -> bool | None:
    """Whether TensorFlow's op determinism is on; None if this TensorFlow lacks the getter."""
    try:
        from tensorflow.python.framework.config import is_op_determinism_enabled
    except ImportError:  # pragma: no cover - older or newer TensorFlow
        return None
    return bool(is_op_determinism_enabled())


# --- Trainer._compile_config ------------------------------------------------------------
# Keras 3.15.1, keras/src/trainers/trainer.py: ``compile`` keeps its arguments in
# ``_compile_config.config``. ``get_compile_config`` serializes them and fails for a loss
# or metric Keras cannot serialize (a plain function not registered); the raw arguments
# are the only way to compile a clone the same way then. Missing public API: the compile
# arguments as given.


def compile_settings(model: keras.Model) -> dict[str, Any] | None:
    """The keyword arguments ``model.compile`` was called with, or None if not compiled."""
    config = getattr(model, "_compile_config", None)
    return None if config is None else dict(config.config)


# --- the checks ---------------------------------------------------------------------------


def _has(owner: Any, attribute: str) -> bool:
    return hasattr(owner, attribute)


def _assign_is_routed() -> bool:
    """``Variable.assign`` still writes through the instance's ``_direct_assign``."""
    variable = keras.Variable(0.0)
    seen: list[Any] = []
    use_assign(variable, lambda self, value: seen.append(value))
    try:
        variable.assign(1.0)
    finally:
        restore_assign(variable)
    return len(seen) == 1


def _non_trainable_list() -> bool:
    layer = keras.layers.Dense(1)
    return isinstance(getattr(layer, "_non_trainable_variables", None), list)


def _compile_config_kept() -> bool:
    model = keras.Sequential([keras.Input((1,)), keras.layers.Dense(1)])
    model.compile(optimizer="sgd", loss="mse")
    settings = compile_settings(model)
    return settings is not None and settings.get("loss") == "mse"


def _tf_getter() -> bool:
    return tf_op_determinism_enabled() is not None


PRIVATE_APIS: tuple[PrivateApi, ...] = (
    PrivateApi(
        "keras.Model._symbolic_build",
        "_backends.train_epochs (fit_stateful's compiled epochs)",
        "no public API builds the compiled loss and metrics from one batch",
        None,
        lambda: _has(keras.Model, "_symbolic_build"),
    ),
    PrivateApi(
        "keras.layers.Layer._non_trainable_variables",
        "_backends.carried on JAX (Keras's methods carry the states)",
        "no public way to make the JAX trainer thread a variable it does not track",
        "jax",
        _non_trainable_list,
    ),
    PrivateApi(
        "keras.Variable._direct_assign",
        "_backends.carried on PyTorch (train_on_batch, fit)",
        "keras-team/keras#20875 (#20916 covers the generic RNN loop only; #23462/#23464 "
        "the LSTM/GRU fast path)",
        "torch",
        _assign_is_routed,
    ),
    PrivateApi(
        "keras.Variable._value",
        "_backends.carried on PyTorch (rebind_torch_value, rebind_torch_tensor)",
        "keras-team/keras#20875, #23462: a state write that keeps the forward pass's tensor",
        "torch",
        lambda: _has(keras.Variable(0.0), "_value"),
    ),
    PrivateApi(
        "keras.Model.jax_state_sync",
        "_backends.sync_before_reset on JAX (ResetStates every n batches)",
        "no public API writes the JAX trainer's in-flight values back mid-epoch",
        "jax",
        lambda: _has(keras.Model, "jax_state_sync"),
    ),
    PrivateApi(
        "tensorflow.python.framework.config.is_op_determinism_enabled",
        "_backends XLA choice on TensorFlow (step, fit_stateful)",
        "TensorFlow has enable_op_determinism but no public getter (Keras uses this one)",
        "tensorflow",
        _tf_getter,
    ),
    PrivateApi(
        "keras.Model._compile_config",
        "stateful.with_batch_size (a clone compiled as the model was)",
        "get_compile_config fails for an unregistered loss or metric; no public API "
        "returns compile's arguments as given",
        None,
        _compile_config_kept,
    ),
)
