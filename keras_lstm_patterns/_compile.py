"""Compiling one model as another was compiled: Keras's convention, the caller compiles.

``with_batch_size`` (a clone), ``fit_closed_loop`` (the rollout model around a
generator) and ``model_forecaster(normalize=True)`` (the scaling wrapper) each train a
model the caller did not compile, with the settings of one the caller did.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import keras

__all__ = ["compile_like", "is_compiled"]


def is_compiled(model: keras.Model) -> bool:
    """Whether ``model`` was compiled with an optimizer (what ``fit`` needs)."""
    return bool(getattr(model, "compiled", False)) and getattr(model, "optimizer", None) is not None


def compile_like(model: keras.Model, other: keras.Model) -> bool:
    """Compile ``other`` as ``model`` was compiled; False (``other`` left alone) when
    ``model`` is not compiled.

    ``other`` gets the same loss, metrics and settings and a new optimizer of the same
    class and configuration (learning rate included; its step count and moments start
    afresh), built from the serialized settings as ``keras.models.load_model`` does; a
    loss or metric Keras cannot serialize is reused as it is.
    """
    import keras

    from ._backends._keras_private import compile_settings

    settings = compile_settings(model) if is_compiled(model) else None
    if settings is None:
        return False
    # Keras's compile_from_config only warns for a class with its own compile: call it
    if type(other).compile is keras.Model.compile:
        try:  # fresh objects from the serialized settings, as keras.models.load_model does
            other.compile_from_config(model.get_compile_config())
        except (TypeError, ValueError):  # a loss or metric Keras cannot serialize: reuse it
            pass
    if not is_compiled(other):
        optimizer = model.optimizer
        settings["optimizer"] = optimizer.__class__.from_config(optimizer.get_config())
        other.compile(**settings)
    return True
