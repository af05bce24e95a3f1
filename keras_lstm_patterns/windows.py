"""Arrays shaped ``(samples, steps, features)`` for recurrent layers, as zero-copy views.

A recurrent layer reads a 3-D array: ``samples`` independent sequences, each ``steps``
long, each step a vector of ``features`` numbers. ``steps`` is how far the layer unrolls;
it has nothing to do with the number of ``units``. The functions here cut such arrays out
of one long series (``look_back``, ``sliding``, ``next_step``), out of a long pandas frame
with one row per entity and time step (``tanks``), and split long sequences along time
for a stateful layer (``stateful_chunks``).

What is copied: windows of a 1-D or 2-D series are read-only views of it (no values
copied, whatever the number of windows); ``split`` returns read-only views too. Windows
of a 3-D tank array ``(entities, T, features)`` are copied once into one array, because
windows of two entities cannot share one stride pattern; ``tanks`` copies the frame's
values into a new array; ``WindowDataset`` copies one batch at a time.

This module imports no Keras. ``tanks``, ``TankIndex``, ``split`` and ``window_count``
live in :mod:`keras_lstm_patterns.series` and ``WindowDataset`` in
:mod:`keras_lstm_patterns.streaming` (loaded, with Keras, on first use); all can still
be imported from here.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.lib.stride_tricks import as_strided

from ._checks import as_array, as_series, check_choice, check_finite, check_int, fail
from .series import (
    MISSING,
    _as_tanks,
    _target_columns,
    check_not_padded,
    kept_windows,
    observed_mask,
    window_count,
)
from .series import TankIndex as TankIndex
from .series import split as split
from .series import tanks as tanks

if TYPE_CHECKING:
    from .streaming import WindowDataset as WindowDataset

__all__ = [
    "TankIndex",
    "WindowDataset",
    "look_back",
    "next_step",
    "sliding",
    "split",
    "stateful_chunks",
    "tanks",
    "window_count",
]


def __getattr__(name: str) -> Any:
    """``WindowDataset`` on first use (it loads Keras; the rest of the module does not)."""
    if name == "WindowDataset":
        from .streaming import WindowDataset

        globals()[name] = WindowDataset
        return WindowDataset
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted({*globals(), "WindowDataset"})


def _windows(arr: np.ndarray, start: int, length: int, count: int, stride: int) -> np.ndarray:
    """``count`` read-only windows ``arr[start + i*stride : ... + length]`` of a 2-D array."""
    if count == 1:
        stride = 1  # one window: its stride is never used (and 2**62 steps would overflow)
    s0, s1 = arr.strides
    base = arr[start:]
    return as_strided(
        base, shape=(count, length, arr.shape[1]), strides=(stride * s0, s0, s1), writeable=False
    )


def look_back(
    series: Any,
    look_back: int,
    *,
    horizon: int = 1,
    stride: int = 1,
    targets: Any = None,
    missing: str = "raise",
    observed: Any = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Look-back windows and the values that follow them.

    ``x[i] = series[i*stride : i*stride + look_back]`` and ``y[i]`` is the value right
    after that window (or the next ``horizon`` values). The classic tutorial's
    ``create_dataset`` loop makes ``n - look_back - 1`` samples and so silently drops
    the last window; this makes all ``(n - look_back - horizon) // stride + 1``
    (:func:`window_count`).

    A tank array ``(entities, T, features)`` gives the windows inside each entity, never
    across two, entity after entity: windows ``e * per_entity ... (e + 1) * per_entity - 1``
    are entity ``e``'s, with ``per_entity = (T - look_back - horizon) // stride + 1``.

    Missing steps (NaN, e.g. from ``tanks(..., freq=...)``) are refused unless
    ``missing="drop"``: then only the windows whose inputs (every feature) and targets
    are all present are kept, and ``observed`` (``index.observed``) also drops the
    windows whose target steps were filled rather than measured.
    ``index.window_rows(..., missing="drop", observed=True)`` names exactly the kept
    windows' ``(id, time)``. An array that ``tanks(..., pad=...)`` padded is refused (its
    padded steps would become inputs and targets); one that only looks padded warns.

    Args:
        series: ``(time,)``, ``(time, features)`` (array, ``Series`` or ``DataFrame`` in
            time order) or ``(entities, time, features)``; a 1-D series gets a features
            axis of 1.
        look_back: steps per window, between 1 and ``time - horizon``.
        horizon: how many following values form the target.
        stride: distance between the starts of two windows.
        targets: the columns ``y`` holds: a position, a sequence of positions, or column
            names when ``series`` is a ``DataFrame`` (names first: with integer column
            labels an integer is a name); ``None`` for every column.
        missing: ``"raise"`` (refuse NaN, naming the first) or ``"drop"`` (keep the
            windows without one).
        observed: None, or a bool ``(entities, time)`` array (``(time,)`` for a 1-D/2-D
            series) or a :class:`TankIndex`: windows whose target steps are False are
            dropped.

    Returns:
        ``(x, y)``: ``x`` is ``(samples, steps=look_back, features)``; ``y`` is
        ``(samples, targets)`` for ``horizon=1`` and ``(samples, horizon, targets)``
        otherwise. For a 1-D or 2-D series with every window kept both are read-only
        views of it (no values copied); for a 3-D series, or when windows are dropped,
        they are read-only copies, ``x`` of ``samples * look_back * features`` values
        (use :class:`WindowDataset` when that does not fit in memory). ``y`` of
        non-consecutive ``targets`` is a copy.

    Raises:
        ValueError: a size out of range, a series that is not 1-D/2-D/3-D, not real
            numbers, holds inf (or NaN without ``missing="drop"``), was padded by
            ``tanks``, or whose time index is not increasing; unknown ``targets``; an
            ``observed`` mask of the wrong shape.

    >>> x, y = look_back(np.arange(10.0), 3)
    >>> x.shape, y.shape
    ((7, 3, 1), (7, 1))
    >>> x[0, :, 0], y[0]
    (array([0., 1., 2.]), array([3.]))
    >>> tanks3 = np.zeros((3, 20, 2))  # 3 tanks, 20 steps, pressure and temperature
    >>> x, y = look_back(tanks3, 5, targets=0)  # predict pressure only
    >>> x.shape, y.shape
    ((45, 5, 2), (45, 1))
    >>> gappy = np.array([1.0, 2.0, np.nan, 4.0, 5.0, 6.0])
    >>> x, y = look_back(gappy, 2, missing="drop")  # windows touching step 2 dropped
    >>> x[:, :, 0], y[:, 0]
    (array([[4., 5.]]), array([6.]))
    """
    missing = check_choice("missing", missing, MISSING)
    arr, ndim, has_nan = _as_tanks(series, allow_nan=missing == "drop")
    check_not_padded("series", arr, observed)
    is_3d = ndim == 3
    n = arr.shape[1]
    if n < 2:
        fail("series", "at least 2 steps long", shown=f"series with {n} steps")
    horizon = check_int("horizon", horizon, high=n - 1, context=f" for a series of length {n}")
    look_back = check_int(
        "look_back",
        look_back,
        high=n - horizon,
        context=f" for a series of length {n} and horizon={horizon}",
    )
    stride = check_int("stride", stride)
    columns = _target_columns(targets, series, arr.shape[2])
    mask = observed_mask(observed, arr, ndim)
    keep = kept_windows(
        arr,
        look_back,
        horizon=horizon,
        stride=stride,
        columns=columns,
        has_nan=has_nan,
        observed=mask,
    )
    count = window_count(n, look_back, horizon=horizon, stride=stride)
    xs, ys = [], []
    for e, entity in enumerate(arr):
        xe = _windows(entity, 0, look_back, count, stride)
        ye = _windows(entity, look_back, horizon, count, stride)[..., columns]
        if keep is not None:
            xe, ye = xe[keep[e]], ye[keep[e]]
        xs.append(xe)
        ys.append(ye)
    if (is_3d and len(arr) != 1) or keep is not None:
        x, y = np.concatenate(xs), np.concatenate(ys)
        x.flags.writeable = y.flags.writeable = False
    else:
        x, y = xs[0], ys[0]
        if isinstance(columns, list):
            y.flags.writeable = False
    return x, (y[:, 0, :] if horizon == 1 else y)


def sliding(series: Any, steps: int, *, stride: int = 1) -> np.ndarray:
    """Every window of ``steps`` consecutive values, ``stride`` apart.

    Element for element the windows that
    ``keras.utils.timeseries_dataset_from_array(series, None, sequence_length=steps,
    sequence_stride=stride)`` yields, but as one view (and always with a features axis,
    which Keras drops for a 1-D series).

    Args:
        series: ``(time,)`` or ``(time, features)``.
        steps: window length, between 1 and ``time``.
        stride: distance between window starts.

    Returns:
        A read-only ``(samples, steps, features)`` view with
        ``samples = (time - steps) // stride + 1``.

    Raises:
        ValueError: (an ``ArgumentError`` naming the argument) ``series`` that is not
            real numbers, not 1-D or 2-D, holds NaN or inf, or is a pandas input whose
            time index does not increase; ``steps`` not an integer in ``[1, time]``;
            ``stride`` not a positive integer.

    >>> sliding(np.arange(10.0), 4, stride=3).shape
    (3, 4, 1)
    """
    arr = as_series("series", series)
    n = arr.shape[0]
    steps = check_int("steps", steps, high=n, context=f" for a series of length {n}")
    stride = check_int("stride", stride)
    return _windows(arr, 0, steps, window_count(n, steps, horizon=0, stride=stride), stride)


def next_step(sequences: Any) -> tuple[np.ndarray, np.ndarray]:
    """Inputs and one-step-ahead targets for training a generator or forecaster.

    Args:
        sequences: ``(samples, steps, features)`` values, or ``(samples, steps)``
            integer tokens.

    Returns:
        ``(sequences[:, :-1], sequences[:, 1:])``: each ``(samples, steps - 1, ...)``,
        read-only views; ``y[:, t]`` is the step after ``x[:, t]``.

    Raises:
        ValueError: ``sequences`` that is not real numbers, not 2-D or 3-D, has fewer
            than 2 steps, holds NaN or inf, or is a pandas input whose time index does
            not increase (an ``ArgumentError`` naming ``sequences``).

    >>> x, y = next_step(np.zeros((2, 5, 3)))
    >>> x.shape, y.shape
    ((2, 4, 3), (2, 4, 3))
    """
    arr = as_array("sequences", sequences)
    if arr.ndim not in (2, 3):
        fail(
            "sequences",
            "3-D `(samples, steps, features)` or 2-D `(samples, steps)` tokens",
            shown=f"sequences with shape {arr.shape}",
        )
    if arr.shape[1] < 2:
        fail(
            "sequences",
            "at least 2 steps long",
            arr.shape,
            shown=f"sequences with shape {arr.shape}",
        )
    check_finite("sequences", arr)
    view = arr.view()
    view.flags.writeable = False
    return view[:, :-1], view[:, 1:]


def stateful_chunks(sequences: Any, chunk: int) -> list[np.ndarray]:
    """Split long sequences along time into consecutive batches for a stateful layer.

    With ``stateful=True``, row i of each batch continues row i of the previous batch.
    This cuts ``(N, T, F)`` into ``(N, chunk, F)`` pieces in time order (the last may be
    shorter), which is exactly that layout: feed them in order, reset after the last.

    Args:
        sequences: ``(samples, steps, features)``.
        chunk: steps per batch, between 1 and ``steps``.

    Returns:
        A list of read-only views, ``ceil(steps / chunk)`` long.

    Raises:
        ValueError: (an ``ArgumentError`` naming the argument) ``sequences`` that is not
            real numbers, not 3-D, or holds NaN or inf; ``chunk`` not an integer in
            ``[1, steps]`` (no value fits sequences of 0 steps).

    >>> [c.shape for c in stateful_chunks(np.zeros((4, 5, 2)), 2)]
    [(4, 2, 2), (4, 2, 2), (4, 1, 2)]
    """
    arr = as_array("sequences", sequences)
    if arr.ndim != 3:
        fail(
            "sequences",
            "3-D `(samples, steps, features)`",
            shown=f"sequences with shape {arr.shape}",
        )
    check_finite("sequences", arr)
    t = arr.shape[1]
    chunk = check_int("chunk", chunk, high=t, context=f" for sequences of {t} steps")
    view = arr.view()
    view.flags.writeable = False
    return [view[:, s : s + chunk] for s in range(0, t, chunk)]
