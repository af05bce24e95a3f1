"""The checks the stateful functions share: a model, its stateful layers, its fixed
batch size, one replica, arrays of finite real numbers.
"""

from __future__ import annotations

from typing import Any

import keras
import numpy as np

from .._checks import as_array, check_finite, fail
from .._model import stateful_layers


def _require_model(model: Any) -> keras.Model:
    if not isinstance(model, keras.Model):
        fail(
            "model",
            "a keras.Model",
            model,
            shown=f"model of type {type(model).__name__}",
            error=TypeError,
        )
    return model


def _real_array(name: str, value: Any, *, dtype: str | None = None) -> np.ndarray:
    """``value`` as an array of finite real numbers, refused by name otherwise (no object,
    string, bool or complex values; NaN and inf are named by position)."""
    arr = as_array(name, value, error=TypeError)
    check_finite(name, arr)
    if dtype is None:
        return arr
    with np.errstate(over="ignore"):
        cast = arr.astype(dtype, copy=False)
    if cast is not arr and np.issubdtype(cast.dtype, np.floating) and not np.isfinite(cast).all():
        bad = tuple(int(i) for i in np.argwhere(~np.isfinite(cast))[0])
        fail(
            name,
            f"values that {dtype} can hold (magnitude below {float(np.finfo(dtype).max):.3g})",
            None,
            shown=f"{name}[{', '.join(map(str, bad))}]={arr[bad].item()!r}",
        )
    return cast


def _require_stateful(model: Any) -> list[keras.layers.Layer]:
    _require_model(model)
    layers = stateful_layers(model)
    if not layers:
        fail(
            "model",
            "a model with a stateful recurrent layer (stateful=True and a fixed batch size)",
            model.name,
            shown=f"model {model.name!r} with no stateful layer",
        )
    return layers


def _replicas(model: keras.Model) -> tuple[int, str]:
    """How many data-parallel replicas the model's batches are split across, and under
    what: a ``tf.distribute`` strategy the model was built under (TensorFlow), or the
    ``keras.distribution`` in force (its devices along the batch axis); ``(1, "")``
    without either."""
    strategy = getattr(model, "distribute_strategy", None)  # TensorFlow only
    replicas = int(getattr(strategy, "num_replicas_in_sync", 1) or 1)
    if replicas > 1:
        return replicas, type(strategy).__name__
    distribution = keras.distribution.distribution()
    if distribution is not None:
        mesh = distribution.device_mesh
        axis = distribution.batch_dim_name
        if axis in mesh.axis_names:
            replicas = int(mesh.shape[mesh.axis_names.index(axis)])
        if replicas > 1:
            return replicas, f"keras.distribution.{type(distribution).__name__}"
    return 1, ""


def _refuse_replicas(model: keras.Model, what: str) -> None:
    replicas, under = _replicas(model)
    if replicas > 1:
        fail(
            "model",
            f"used without data parallelism for {what}: under a distribution strategy or a "
            f"keras.distribution with {replicas} replicas each replica receives a slice of "
            "every batch while a stateful layer's states hold the whole batch, so row i "
            "would not continue row i; train stateful models on one device (or give each "
            "worker its own sequences and model)",
            model.name,
            shown=f"model {model.name!r} under {under} with {replicas} replicas",
        )


def _fixed_batch(model: keras.Model) -> int:
    batch = model.input_shape[0]
    if batch is None:
        fail(
            "model",
            "built with a fixed batch size (keras.Input(batch_shape=...))",
            model.name,
            shown=f"model {model.name!r} with input shape {model.input_shape}",
        )
    return int(batch)
