"""Another fixed batch size: the same architecture and weights, the Keras config rewritten."""

from __future__ import annotations

from typing import Any

import keras

from .._checks import check_int, fail
from .._compile import compile_like
from .._model import stateful_layers
from ._checks import _require_model

__all__ = ["with_batch_size"]


def _with_batch(shape: Any, batch_size: int | None) -> Any:
    if isinstance(shape, list | tuple) and shape and isinstance(shape[0], list | tuple):
        return [_with_batch(s, batch_size) for s in shape]
    return [batch_size, *list(shape)[1:]] if isinstance(shape, list | tuple) and shape else shape


def _set_batch(config: Any, batch_size: int | None) -> None:
    """Set the batch axis everywhere a (nested) functional config records a shape: input
    layers, the symbolic tensors between layers, and each layer's build shape."""
    if isinstance(config, dict):
        name = config.get("class_name")
        if name == "InputLayer":
            config["config"]["batch_shape"] = _with_batch(
                config["config"]["batch_shape"], batch_size
            )
        elif name == "__keras_tensor__":
            config["config"]["shape"] = _with_batch(config["config"]["shape"], batch_size)
        build = config.get("build_config")
        if isinstance(build, dict) and "input_shape" in build:
            build["input_shape"] = _with_batch(build["input_shape"], batch_size)
        for value in config.values():
            _set_batch(value, batch_size)
    elif isinstance(config, list):
        for value in config:
            _set_batch(value, batch_size)


def with_batch_size(model: keras.Model, batch_size: int | None) -> keras.Model:
    """The same architecture and weights with another fixed batch size.

    Train with 32 parallel streams, then predict one stream with batch size 1. The new
    model starts from zero state; ``None`` gives a model with a free batch size (only
    meaningful for non-stateful models). A compiled model gives a compiled clone: the
    same loss, metrics and settings, and a new optimizer of the same configuration
    (its step count and moments start afresh).

    Args:
        model: a functional or sequential Keras model.
        batch_size: the new fixed batch size, or None for a free one (only for a model
            with no stateful layer).

    Returns:
        A new model of the same class, with the weights of ``model`` (compiled as
        ``model`` was, if it was).

    Raises:
        TypeError: ``model`` is not a ``keras.Model``; ``batch_size`` is not an integer.
        ValueError: ``batch_size`` below 1, or None for a stateful model.

    >>> from keras_lstm_patterns import stateful_generator
    >>> with_batch_size(stateful_generator(2, batch_size=32), 1).input_shape
    (1, None, 2)
    """
    _require_model(model)
    if batch_size is not None:
        batch_size = check_int("batch_size", batch_size)
    if batch_size is None and stateful_layers(model):
        fail("batch_size", "a positive integer for a stateful model", batch_size)
    config = model.get_config()
    _set_batch(config, batch_size)
    clone = model.__class__.from_config(config)
    clone.set_weights(model.get_weights())
    compile_like(model, clone)
    return clone
