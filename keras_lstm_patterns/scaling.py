"""Scaling inside the model, so a saved ``.keras`` file reads and returns raw units.

A recurrent layer learns badly from raw readings (pressures near 100, passenger counts
in the hundreds): its gates saturate and the loss starts in the tens of thousands. The
usual fix, scaling the arrays by hand, leaves the statistics outside the model, where
they are easily taken from the test part or forgotten at prediction time.
:func:`normalized` puts them inside, as Keras layers: a ``Normalization`` in front of
the model (per feature, adapted on the training inputs) and, for the targets, a
``Normalization(invert=True)`` behind it, which maps the model's outputs back to raw
units.
"""

from __future__ import annotations

from typing import Any

import keras
import numpy as np

from ._checks import as_array, check_finite, fail
from .layers import PatternModel

__all__ = ["normalized"]


def _shaped(name: str, data: Any, shape: tuple) -> np.ndarray:
    """``data`` as float32 of the model's input or output ``shape``, refused by name."""
    arr = as_array(name, data)
    width = shape[-1]
    if arr.ndim == len(shape) - 1 and width == 1:
        arr = arr[..., None]  # (samples,) targets for a (batch, 1) output
    fixed = [s for s in shape[1:]]
    ok = arr.ndim == len(shape) and all(s is None or s == g for s, g in zip(fixed, arr.shape[1:]))
    if not ok or len(arr) == 0:
        what = "inputs" if name == "x" else "outputs"
        axes = ", ".join("?" if s is None else str(s) for s in fixed)
        hint = ""
        if name == "y" and arr.ndim >= 2 and fixed and arr.shape[-1] != width:
            hint = (
                f". The model returns {width} number{'s' if width != 1 else ''} per "
                f"{'step' if len(fixed) > 1 else 'sample'}; if each target has "
                f"{arr.shape[-1]}, build it with outputs={arr.shape[-1]} (a Dense head)"
            )
        fail(
            name,
            f"an array shaped like the model's {what}, `(samples, {axes})`",
            shown=f"{name} with shape {arr.shape}{hint}",
        )
    arr = arr.astype("float32")
    check_finite(name, arr)
    return arr


def _adapted(arr: np.ndarray, *, invert: bool) -> keras.layers.Layer:
    """A per-feature ``Normalization`` adapted on the rows of ``arr`` (features last)."""
    layer = keras.layers.Normalization(
        axis=-1, invert=invert, name="denormalize_outputs" if invert else "normalize_inputs"
    )
    layer.adapt(arr.reshape(-1, arr.shape[-1]))
    return layer


def _mask_value(model: keras.Model) -> float | None:
    """The ``mask_value`` of the model's ``Masking`` layer, or ``None`` without one."""
    values = {float(la.mask_value) for la in model.layers if isinstance(la, keras.layers.Masking)}
    if len(values) > 1:
        fail(
            "model",
            "a model with at most one mask value (its `Masking` layers disagree)",
            shown=f"model {model.name!r} with mask values {sorted(values)}",
        )
    return values.pop() if values else None


def normalized(model: keras.Model, x: Any, y: Any = None) -> PatternModel:
    """``model`` between a normalisation of its inputs and the inverse for its outputs.

    The returned model reads raw inputs and returns raw outputs: a
    ``keras.layers.Normalization`` adapted on ``x`` (mean and variance per feature, over
    every sample and step) feeds ``model``; when ``y`` is given, a
    ``Normalization(invert=True)`` adapted on ``y`` turns the model's outputs back into
    the targets' units. Give it the training part only: the statistics are fixed here
    and travel with the model when it is saved (one ``.keras`` file).

    A model with ``mask_value`` (a ``Masking`` layer) keeps skipping padded steps: the
    statistics come from the real steps only (a step is padded when every feature
    equals ``mask_value``), and padded steps reach the model's ``Masking`` unscaled.

    Train it on raw ``x`` and ``y``: the loss is then in raw units (squared pressure
    units for MSE). Adam and its relatives are insensitive to that scale; plain SGD
    needs a learning rate of the targets' scale.

    Args:
        model: a model that reads real-valued steps, e.g. ``many_to_one(...)``; it
            becomes a layer of the new model and shares its weights.
        x: training inputs shaped like the model's input, ``(samples, steps, features)``.
        y: training targets shaped like the model's output (``(samples,)`` for an
            output of width 1 is accepted), or ``None`` to leave the outputs unscaled.

    Returns:
        An uncompiled :class:`PatternModel` named ``normalized_<model name>``, with the
        same input and output shapes as ``model``.

    Raises:
        ValueError: ``model`` is not a built one-input, one-output model of real values;
            ``x`` or ``y`` of the wrong shape, empty, or with NaN or inf; ``y`` with
            another number of samples than ``x``.

    >>> import numpy as np
    >>> from keras_lstm_patterns import many_to_one
    >>> x = np.random.default_rng(0).normal(100.0, 5.0, size=(64, 12, 2))
    >>> y = x[:, -1, :1] + 1.0  # raw pressures near 100
    >>> model = normalized(many_to_one(12, 2, 8, outputs=1), x, y)
    >>> model.input_shape, model.output_shape
    ((None, 12, 2), (None, 1))
    """
    if not isinstance(model, keras.Model):
        fail("model", "a keras.Model", shown=f"model of type {type(model).__name__}")
    try:
        inputs, outputs = model.inputs, model.outputs
    except (AttributeError, ValueError):
        inputs = outputs = None
    if inputs is None or outputs is None:
        fail(
            "model",
            "a built model with a known input shape (give a `Sequential` its "
            "`keras.Input(shape)` first, or call `model.build(input_shape)`)",
            shown=f"model {model.name!r}, not built",
        )
    if len(inputs) != 1 or len(outputs) != 1:
        fail(
            "model",
            "a model with one input and one output",
            shown=f"model {model.name!r} with {len(inputs)} inputs and {len(outputs)} outputs",
        )
    if "int" in str(inputs[0].dtype):
        fail(
            "model",
            "a model of real-valued inputs (token ids are not scaled)",
            shown=f"model {model.name!r} with input dtype {inputs[0].dtype}",
        )
    in_shape = tuple(inputs[0].shape)
    mask_value = _mask_value(model)
    x = _shaped("x", x, in_shape)
    if y is not None:
        y = _shaped("y", y, tuple(model.output_shape))
        if len(y) != len(x):
            fail(
                "y",
                f"one target per sample of `x` ({len(x)} samples)",
                shown=f"y with {len(y)} samples",
            )
    x_rows, y_rows = x, y
    if mask_value is not None and x.ndim == 3:
        # Padded steps (every feature equal to mask_value) are no data: the statistics
        # come from the real steps only, and the padded ones are handed to the model's
        # own Masking layer unscaled, so it still skips them.
        real = ~np.all(x == mask_value, axis=-1)  # (samples, steps)
        if not real.any():
            fail(
                "x",
                f"an array with real steps (every step equals mask_value={mask_value})",
                shown=f"x with shape {x.shape}",
            )
        x_rows = x[real]
        if y is not None and y.shape[:2] == x.shape[:2]:
            y_rows = y[real]
    scale_in = _adapted(x_rows, invert=False)
    scale_out = None if y is None else _adapted(y_rows, invert=True)
    inp = keras.Input(batch_shape=in_shape, name="raw_in")
    scaled = scale_in(inp)
    if mask_value is not None:
        pad = keras.ops.all(keras.ops.equal(inp, mask_value), axis=-1, keepdims=True)
        scaled = keras.ops.where(pad, mask_value, scaled)
    out = model(scaled)
    if scale_out is not None:
        out = scale_out(out)
    return PatternModel(inp, out, name=f"normalized_{model.name}")
