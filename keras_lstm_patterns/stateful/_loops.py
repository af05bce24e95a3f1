"""The feedback loops: ``generate`` and ``forecast`` (compiled rollouts, known-future
covariates checked) and ``step`` (one live observation at a time).
"""

from __future__ import annotations

from typing import Any

import keras
import numpy as np

from .. import _backends
from .._backends._cache import cache
from .._checks import STEPS_RENAMED, check_int, fail, old_keywords
from .._model import stateful_layers
from ._checks import _fixed_batch, _real_array, _refuse_replicas, _require_stateful
from ._states import _states_of, reset_states

__all__ = ["MAX_ROLLOUT_VALUES", "forecast", "generate", "step"]


# The rollout keeps every output in memory: at most this many values (256 MiB of float32).
MAX_ROLLOUT_VALUES = 2**26


def _array_shape(value: Any) -> str:
    try:
        return str(np.shape(value))
    except (TypeError, ValueError):
        return f"of type {type(value).__name__}"


def _check_covariates(
    covariates: Any, batch: int, horizon: int, outputs: int, k: int
) -> np.ndarray | None:
    """The known-future inputs as float32 ``(batch, horizon - 1, K)``, or None when there is
    nothing to feed (no covariates, or a horizon of 1)."""
    width = outputs + k
    if k == 0:
        if covariates is not None:
            fail(
                "covariates",
                f"None for a model whose input width equals its output width ({width}): it "
                "reads no known-future inputs",
                None,
                shown=f"covariates with shape {_array_shape(covariates)}",
            )
        return None
    layout = (
        f"`(batch={batch}, horizon - 1={horizon - 1}, K={k})`: the model reads {width} features, "
        f"its {outputs} fed-back outputs then {k} known-future inputs, and covariates[:, i] "
        "goes with output i to make output i + 1"
    )
    if covariates is None:
        if horizon == 1:
            return None
        fail("covariates", f"an array {layout}", None, shown="covariates=None")
    arr = _real_array("covariates", covariates, dtype="float32")
    if arr.ndim != 3:
        fail("covariates", f"of shape {layout}", None, shown=f"shape {arr.shape}")
    if arr.shape[0] != batch:
        fail(
            "covariates",
            f"a batch of the model's fixed batch size {batch}, as {layout}",
            None,
            shown=f"batch size {arr.shape[0]}",
        )
    if arr.shape[1] != horizon - 1:
        fail(
            "covariates",
            f"horizon - 1 = {horizon - 1} steps long for horizon={horizon}, as {layout}",
            None,
            shown=f"{arr.shape[1]} steps, shape {arr.shape}",
        )
    if arr.shape[2] != k:
        fail(
            "covariates",
            f"K={k} features wide, as {layout}",
            None,
            shown=f"{arr.shape[2]} features, shape {arr.shape}",
        )
    return arr if horizon > 1 else None


def _check_feedback(
    model: keras.Model, name: str, data: Any, horizon: int, covariates: Any
) -> tuple[np.ndarray, np.ndarray | None]:
    _require_stateful(model)
    _refuse_replicas(model, "generate and forecast")
    batch = _fixed_batch(model)
    in_shape, out_shape = model.input_shape, model.output_shape
    if len(in_shape) != 3:
        fail(
            "model",
            "a model that reads `(batch, steps, features)`",
            None,
            shown=f"input shape {in_shape}",
        )
    width, outputs = in_shape[-1], out_shape[-1]
    if outputs > width:
        fail(
            "model",
            "a model whose input width is its output width plus K >= 0 known-future inputs "
            "(covariates), so an output step can be fed back as the first columns of the "
            "next input",
            None,
            shown=f"input features={width}, output features={outputs}",
        )
    if in_shape[1] not in (None, 1):
        fail(
            "model",
            "a model with a free steps axis (keras.Input(batch_shape=(batch, None, "
            "features))), so one output step can be fed back as the next input",
            None,
            shown=f"model {model.name!r} with fixed steps: input shape {in_shape}",
        )
    arr = _real_array(name, data, dtype="float32")
    if arr.ndim != 3 or arr.shape[-1] != width:
        extra = f" = outputs {outputs} + covariates {width - outputs}" if width > outputs else ""
        fail(
            name,
            f"of shape `(batch={batch}, steps, features={width}{extra})`",
            None,
            shown=f"shape {arr.shape}",
        )
    if arr.shape[0] != batch:
        fail(
            name,
            f"a batch of the model's fixed batch size {batch} (use "
            "stateful.with_batch_size(model, n) for another)",
            None,
            shown=f"batch size {arr.shape[0]}",
        )
    if arr.shape[1] == 0:
        fail(name, "at least one step long", None, shown=f"shape {arr.shape}")
    if in_shape[1] is not None and arr.shape[1] != in_shape[1]:
        fail(
            name,
            f"{in_shape[1]} steps long (the model's fixed steps)",
            None,
            shown=f"shape {arr.shape}",
        )
    per_step = batch * width
    horizon = check_int(
        "horizon",
        horizon,
        high=max(1, MAX_ROLLOUT_VALUES // per_step),
        context=f" (the outputs, batch x horizon x features = {batch} x horizon x {width}, "
        f"are held in memory: at most {MAX_ROLLOUT_VALUES} values)",
    )
    return arr, _check_covariates(covariates, batch, horizon, outputs, width - outputs)


@old_keywords(steps=STEPS_RENAMED)
def generate(
    model: keras.Model, first_step: Any, horizon: int, *, covariates: Any = None
) -> np.ndarray:
    """One-to-many by feedback: reset, feed ``first_step``, feed each output back.

    Args:
        model: a stateful model, ``(batch, 1, outputs + K) -> (batch, 1, outputs)``, e.g.
            from ``stateful_generator``; ``K`` is the number of known-future inputs
            (covariates), 0 for a model whose input width equals its output width.
        first_step: ``(batch, 1, outputs + K)`` with ``batch`` the model's batch size
            (its own covariates in the last ``K`` columns).
        horizon: how many outputs to produce (called ``steps`` before 0.3.0).
        covariates: ``(batch, horizon - 1, K)``, the known-future inputs: the input that
            produces output ``i + 1`` is ``[output i, covariates[:, i]]`` (outputs first,
            then the covariates, along the feature axis). None when ``K`` is 0 (or
            ``horizon`` is 1).

    Returns:
        ``(batch, horizon, outputs)``: the outputs in order; output k was fed back as
        input k+1. Equal to the hand loop ``y = model.predict_on_batch(y)`` (with the
        covariates concatenated) but run as one compiled program. The state is left where
        the loop ended.

    Raises:
        ValueError: a model with fixed steps or whose output is wider than its input, a
            ``first_step`` of the wrong shape or with NaN/inf, ``horizon`` below 1 or
            beyond :data:`MAX_ROLLOUT_VALUES` outputs, ``covariates`` missing for a model
            with covariates or given for one without, or of the wrong batch, length or
            width, or with NaN/inf.
        TypeError: the old keyword ``steps=`` (renamed ``horizon``).

    >>> import numpy as np
    >>> import keras
    >>> inp = keras.Input(batch_shape=(1, None, 3))  # 1 output fed back, 2 covariates
    >>> lstm = keras.layers.LSTM(4, stateful=True, return_sequences=True)(inp)
    >>> model = keras.Model(inp, keras.layers.Dense(1)(lstm))
    >>> generate(model, np.zeros((1, 1, 3)), 5, covariates=np.ones((1, 4, 2))).shape
    (1, 5, 1)
    """
    arr, cov = _check_feedback(model, "first_step", first_step, horizon, covariates)
    if arr.shape[1] != 1:
        fail(
            "first_step", "one step long, `(batch, 1, features)`", None, shown=f"shape {arr.shape}"
        )
    return _run_rollout(model, arr, horizon, cov)


@old_keywords(steps=STEPS_RENAMED)
def forecast(
    model: keras.Model, history: Any, horizon: int, *, covariates: Any = None
) -> np.ndarray:
    """Many-to-many forecasting: reset, run ``history`` to set the state, then roll out.

    The model's output at the last history step is the first new step; each new step is
    fed back (followed by that step's covariates, if the model reads any) to produce the
    next.

    Args:
        model: a stateful model trained to predict the next step,
            ``(batch, T, outputs + K) -> (batch, T, outputs)``, with ``K`` known-future
            inputs (0 when the input width equals the output width).
        history: the known steps, ``(batch, T, outputs + K)``: the series and, in the last
            ``K`` columns, its covariates.
        horizon: how many new steps to produce (called ``steps`` before 0.3.0).
        covariates: ``(batch, horizon - 1, K)``: the covariates that go with new steps
            ``0 .. horizon - 2`` when each is fed back (the input that produces new step
            ``i + 1`` is ``[new step i, covariates[:, i]]``). None when ``K`` is 0.

    Returns:
        ``(batch, horizon, outputs)``, the new steps only.

    Raises:
        ValueError: as :func:`generate`, for ``history`` (empty, wrong shape, NaN/inf),
            ``horizon`` and ``covariates``.
        TypeError: the old keyword ``steps=`` (renamed ``horizon``).

    >>> import numpy as np
    >>> from keras_lstm_patterns import stateful_generator
    >>> model = stateful_generator(1, batch_size=2, units=4)
    >>> forecast(model, np.zeros((2, 12, 1)), 6).shape
    (2, 6, 1)
    """
    arr, cov = _check_feedback(model, "history", history, horizon, covariates)
    return _run_rollout(model, arr, horizon, cov)


def _run_rollout(
    model: keras.Model, prefix: np.ndarray, horizon: int, covariates: np.ndarray | None
) -> np.ndarray:
    reset_states(model)
    return _backends.rollout(model, stateful_layers(model), prefix, horizon, covariates)


def _check_stepping(model: Any) -> tuple[list[keras.layers.Layer], int, int]:
    """``(stateful layers, batch, features)`` of a model ``step`` can drive, cached."""
    if isinstance(model, keras.Model):
        known = cache.record(model).get("stepping")
        if known is not None:
            return known
    layers = _require_stateful(model)
    _refuse_replicas(model, "step")
    batch = _fixed_batch(model)
    in_shape = model.input_shape
    if not isinstance(in_shape, tuple) or len(in_shape) != 3 or in_shape[1] not in (None, 1):
        fail(
            "model",
            "a model that reads `(batch, steps, features)` with a free steps axis (or 1 "
            "step), so it can take one observation at a time",
            None,
            shown=f"model {model.name!r} with input shape {in_shape}",
        )
    for layer in layers:
        _states_of(layer)
    known = cache.record(model)["stepping"] = (layers, batch, int(in_shape[-1]))
    return known


def step(model: keras.Model, observation: Any) -> np.ndarray:
    """Live stepping: feed one observation, return that step's output, keep the state.

    For data that arrives one time step at a time (a sensor, a market feed): each call
    continues from the state the previous call left, so after :func:`reset_states`,
    stepping through a sequence gives exactly the outputs of the whole sequence in one
    call. :func:`save_states` and :func:`load_states` carry the state across a restart.
    Each call runs one compiled program: a traced ``tf.function`` on TensorFlow, the
    jitted pure call on JAX, the recurrent cells' own ``call`` on PyTorch.

    Args:
        model: a stateful model with a fixed batch size and a free (or 1) steps axis,
            ``(batch, steps, features) -> (batch, steps, outputs)`` or
            ``(batch, outputs)``.
        observation: ``(batch, features)``, one time step for every row of the batch.

    Returns:
        ``(batch, outputs)``: the model's output at this step.

    Raises:
        ValueError: a model with no stateful layer, no fixed batch size or fixed steps
            (other than 1); an ``observation`` of the wrong shape, or with NaN/inf.
        TypeError: ``model`` is not a ``keras.Model``; ``observation`` is not real numbers.

    >>> import numpy as np
    >>> from keras_lstm_patterns import stateful_generator
    >>> model = stateful_generator(2, batch_size=1, units=4)
    >>> reset_states(model)
    1
    >>> step(model, np.zeros((1, 2))).shape
    (1, 2)
    """
    layers, batch, features = _check_stepping(model)
    arr = _real_array("observation", observation, dtype="float32")
    if arr.shape != (batch, features):
        fail(
            "observation",
            f"one time step of shape `(batch={batch}, features={features})`",
            None,
            shown=f"shape {arr.shape}",
        )
    return _backends.step(model, layers, np.ascontiguousarray(arr))
