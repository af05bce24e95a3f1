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
"""

from __future__ import annotations

import mmap
import re
from collections.abc import Hashable, Sequence
from dataclasses import dataclass
from typing import Any

import keras
import numpy as np
import pandas as pd
from numpy.lib.stride_tricks import as_strided

from ._checks import (
    as_array,
    as_series,
    check_bool,
    check_finite,
    check_int,
    check_numeric,
    check_real,
    check_time_index,
    fail,
    is_int,
)

__all__ = [
    "TankIndex",
    "WindowDataset",
    "look_back",
    "next_step",
    "sliding",
    "split",
    "stateful_chunks",
    "tanks",
]


def _windows(arr: np.ndarray, start: int, length: int, count: int, stride: int) -> np.ndarray:
    """``count`` read-only windows ``arr[start + i*stride : ... + length]`` of a 2-D array."""
    if count == 1:
        stride = 1  # one window: its stride is never used (and 2**62 steps would overflow)
    s0, s1 = arr.strides
    base = arr[start:]
    return as_strided(
        base, shape=(count, length, arr.shape[1]), strides=(stride * s0, s0, s1), writeable=False
    )


def _source(name: str, series: Any) -> tuple[np.ndarray, bool]:
    """``series`` as a 3-D ``(entities, time, features)`` array (a view), and whether it was
    given as 3-D (tanks). A 1-D or 2-D series is one entity."""
    arr = np.asarray(series) if isinstance(series, np.ndarray) else None
    if arr is not None and arr.ndim == 3:
        check_numeric(name, arr, series)
        check_finite(name, arr)
        return arr, True
    return as_series(name, series)[None], False


def _target_columns(targets: Any, series: Any, features: int) -> slice | list[int]:
    """The target columns as a slice (consecutive: ``y`` stays a view) or positions."""
    if targets is None:
        return slice(None)
    names = list(series.columns) if isinstance(series, pd.DataFrame) else None
    items = list(targets) if isinstance(targets, list | tuple | np.ndarray) else [targets]
    rule = f"a column position in [0, {features}) or a sequence of them"
    if names is not None:
        rule += " or column names of `series` (" + ", ".join(map(repr, names)) + ")"
    if not items:
        fail("targets", rule, targets)
    positions = []
    for item in items:
        if is_int(item) and 0 <= item < features:
            positions.append(int(item))
        elif names is not None and not is_int(item) and item in names:
            positions.append(names.index(item))
        else:
            fail("targets", rule, targets)
    if len(set(positions)) != len(positions):
        fail("targets", "distinct columns", targets)
    if positions == list(range(positions[0], positions[0] + len(positions))):
        return slice(positions[0], positions[0] + len(positions))
    return positions


def look_back(
    series: Any,
    look_back: int,
    *,
    horizon: int = 1,
    stride: int = 1,
    targets: Any = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Look-back windows and the values that follow them.

    ``x[i] = series[i*stride : i*stride + look_back]`` and ``y[i]`` is the value right
    after that window (or the next ``horizon`` values). The classic tutorial's
    ``create_dataset`` loop makes ``n - look_back - 1`` samples and so silently drops
    the last window; this makes all ``(n - look_back - horizon) // stride + 1``.

    A tank array ``(entities, T, features)`` gives the windows inside each entity, never
    across two, entity after entity: windows ``e * per_entity ... (e + 1) * per_entity - 1``
    are entity ``e``'s, with ``per_entity = (T - look_back - horizon) // stride + 1``.

    Args:
        series: ``(time,)``, ``(time, features)`` (array, ``Series`` or ``DataFrame`` in
            time order) or ``(entities, time, features)``; a 1-D series gets a features
            axis of 1.
        look_back: steps per window, between 1 and ``time - horizon``.
        horizon: how many following values form the target.
        stride: distance between the starts of two windows.
        targets: the columns ``y`` holds: a position, a sequence of positions, or column
            names when ``series`` is a ``DataFrame``; ``None`` for every column.

    Returns:
        ``(x, y)``: ``x`` is ``(samples, steps=look_back, features)``; ``y`` is
        ``(samples, targets)`` for ``horizon=1`` and ``(samples, horizon, targets)``
        otherwise. For a 1-D or 2-D series both are read-only views of it (no values
        copied); for a 3-D series they are read-only copies, ``x`` of
        ``samples * look_back * features`` values (use :class:`WindowDataset` when that
        does not fit in memory). ``y`` of non-consecutive ``targets`` is a copy.

    Raises:
        ValueError: a size out of range, a series that is not 1-D/2-D/3-D, not real
            numbers, holds NaN or inf, or whose time index is not increasing; unknown
            ``targets``.

    >>> x, y = look_back(np.arange(10.0), 3)
    >>> x.shape, y.shape
    ((7, 3, 1), (7, 1))
    >>> x[0, :, 0], y[0]
    (array([0., 1., 2.]), array([3.]))
    >>> tanks3 = np.zeros((3, 20, 2))  # 3 tanks, 20 steps, pressure and temperature
    >>> x, y = look_back(tanks3, 5, targets=0)  # predict pressure only
    >>> x.shape, y.shape
    ((45, 5, 2), (45, 1))
    """
    arr, is_3d = _source("series", series)
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
    count = (n - look_back - horizon) // stride + 1
    xs, ys = [], []
    for entity in arr:
        xs.append(_windows(entity, 0, look_back, count, stride))
        ys.append(_windows(entity, look_back, horizon, count, stride)[..., columns])
    if is_3d and len(arr) != 1:
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

    >>> sliding(np.arange(10.0), 4, stride=3).shape
    (3, 4, 1)
    """
    arr = as_series("series", series)
    n = arr.shape[0]
    steps = check_int("steps", steps, high=n, context=f" for a series of length {n}")
    stride = check_int("stride", stride)
    return _windows(arr, 0, steps, (n - steps) // stride + 1, stride)


def next_step(sequences: Any) -> tuple[np.ndarray, np.ndarray]:
    """Inputs and one-step-ahead targets for training a generator or forecaster.

    Args:
        sequences: ``(samples, steps, features)`` values, or ``(samples, steps)``
            integer tokens.

    Returns:
        ``(sequences[:, :-1], sequences[:, 1:])``: each ``(samples, steps - 1, ...)``,
        read-only views; ``y[:, t]`` is the step after ``x[:, t]``.

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


@dataclass(frozen=True)
class TankIndex:
    """Which entity and which time stamp each row of a :func:`tanks` array came from.

    Attributes:
        ids: ``(entities,)``, the id of ``x[e]`` (sorted).
        times: one ``pandas.Index`` per entity, its time stamps in order
            (``len(times[e]) == lengths[e]``).
        lengths: ``(entities,)``, each entity's true number of steps.
        id: the id column's name; time: the time column's name.
    """

    ids: np.ndarray
    times: tuple[pd.Index, ...]
    lengths: np.ndarray
    id: Hashable = "id"
    time: Hashable = "time"

    def window_rows(
        self, look_back: int, *, horizon: int = 1, stride: int = 1, offset: int = 0
    ) -> pd.DataFrame:
        """The ``(id, time)`` of each target that :func:`look_back` makes from the tanks.

        Row ``i`` names sample ``i`` of ``look_back(x[:, offset:], look_back, ...)``'s
        ``y`` (for ``horizon > 1``, rows ``i * horizon ... + horizon - 1`` name its
        steps, with an ``ahead`` column 1..horizon), so predictions join back to the
        original rows: ``rows.assign(predicted=model.predict(x).reshape(len(rows), -1)[:, 0])``.
        ``offset`` is where the windowed part starts in time (for a test part from
        ``split(x, ..., look_back=...)``, ``offset = len(train) - look_back`` steps).

        >>> df = pd.DataFrame({"tank": ["A"] * 4, "t": [0, 1, 2, 3], "P": [1.0, 2, 3, 4]})
        >>> x, index = tanks(df, id="tank", time="t", features="P", return_index=True)
        >>> index.window_rows(2)
          tank  t
        0    A  2
        1    A  3
        """
        steps = int(self.lengths.max()) - offset if len(self.lengths) else 0
        horizon = check_int("horizon", horizon)
        look_back = check_int("look_back", look_back, high=max(steps - horizon, 0))
        stride = check_int("stride", stride)
        offset = check_int("offset", offset, low=0)
        count = (steps - look_back - horizon) // stride + 1
        first = offset + look_back + stride * np.arange(count)
        ahead = np.arange(horizon)
        frames = []
        for ident, times in zip(self.ids, self.times):
            at = (first[:, None] + ahead).reshape(-1)
            stamp = pd.Series(times).reindex(at).to_numpy()  # missing past a short entity
            part = {self.id: np.repeat(ident, len(at)), self.time: stamp}
            if horizon > 1:
                part["ahead"] = np.tile(ahead + 1, count)
            frames.append(pd.DataFrame(part))
        return pd.concat(frames, ignore_index=True)


def _label(value: Any) -> Any:
    return value.item() if isinstance(value, np.generic) else value


def _column_list(frame: pd.DataFrame, name: str, value: Any) -> list[Hashable]:
    """``value`` as a list of column names of ``frame`` (one name or a sequence)."""
    rule = "a column name of `frame` or a list of them (columns: " + ", ".join(
        map(repr, frame.columns)
    )
    if value is None or (isinstance(value, float) and np.isnan(value)):
        fail(name, rule + ")", value, error=TypeError)
    items = list(value) if isinstance(value, list | tuple | pd.Index) else [value]
    if not items:
        fail(name, "a non-empty list of column names", value)
    for item in items:
        if not isinstance(item, Hashable):
            fail(name, rule + ")", value, error=TypeError)
    missing = [c for c in items if c not in frame.columns]
    if missing:
        fail(name, rule + ")", shown="missing columns " + ", ".join(map(repr, missing)))
    return items


def _time_format(example: Any) -> str:
    """A ``strftime`` format with the layout of a text time stamp, day first.

    Only the layout is read (separators, the year's place, a time of day); which of day
    and month comes first cannot be told from the text, so day first is assumed and the
    message around it says so.

    >>> _time_format("01/06/2024 17:00"), _time_format("2024-06-01T17:00:05")
    ('%d/%m/%Y %H:%M', '%Y-%m-%dT%H:%M:%S')
    """
    text = str(example).strip()
    date = re.match(r"(\d{4})([-/.])(\d{1,2})\2(\d{1,2})", text)
    if date:
        fmt, rest = f"%Y{date.group(2)}%m{date.group(2)}%d", text[date.end() :]
    else:
        date = re.match(r"(\d{1,2})([-/.])(\d{1,2})\2(\d{2,4})", text)
        if not date:
            return "%d/%m/%Y"
        year = "%Y" if len(date.group(4)) == 4 else "%y"
        fmt, rest = f"%d{date.group(2)}%m{date.group(2)}{year}", text[date.end() :]
    clock = re.match(r"([ T])\d{1,2}:\d{2}(:\d{2})?", rest)
    if clock:
        fmt += clock.group(1) + "%H:%M" + (":%S" if clock.group(2) else "")
    return fmt


def _check_time_column(frame: pd.DataFrame, time: Hashable) -> None:
    column = frame[time]
    dtype = column.dtype
    ok = (
        pd.api.types.is_datetime64_any_dtype(dtype)
        or pd.api.types.is_timedelta64_dtype(dtype)
        or isinstance(dtype, pd.PeriodDtype)
        or (pd.api.types.is_numeric_dtype(dtype) and not pd.api.types.is_bool_dtype(dtype))
    )
    if not ok:
        first = column.dropna().iloc[0] if column.notna().any() else None
        fail(
            "time",
            "a datetime, numeric or pandas Period column, so steps are ordered by real time "
            "(text sorts '1/10/2024' before '1/2/2024'). Parse it first, giving the format: "
            f'frame[{time!r}] = pd.to_datetime(frame[{time!r}], format="{_time_format(first)}") '
            "-- day and month order is never guessed: check which comes first in your data",
            shown=f"column {time!r} with dtype {dtype} (first value {first!r})",
        )
    missing = column.isna().to_numpy()
    if missing.any():
        label = frame.index[int(np.argmax(missing))]
        fail(
            "time",
            "a column with no missing values",
            shown=f"frame.loc[{_label(label)!r}, {time!r}]={column.loc[label]!r}",
        )


def tanks(
    frame: pd.DataFrame,
    *,
    id: Hashable,
    time: Hashable,
    features: Hashable | Sequence[Hashable],
    pad: float | None = None,
    return_index: bool = False,
) -> Any:
    """A long frame (one row per entity and time step) as ``(entities, steps, features)``.

    Entities are sorted by ``id`` and steps by real time within each entity, whatever
    the row order. This is the layout the recurrent layer reads: tank A's pressures and
    temperatures over five hours are ``x[0]``, tank B's ``x[1]``.

    Args:
        frame: a ``pandas.DataFrame`` with the id, time and feature columns.
        id: column naming the entity (tank, speaker, sample).
        time: column ordering the steps within an entity: datetimes, numbers or pandas
            Periods. Text is refused (it sorts as text); parse it with
            ``pd.to_datetime(frame[time], format=...)``.
        features: column name(s) that form one step's vector.
        pad: if given, shorter entities are padded at the end with this value (feed the
            result to a ``Masking(mask_value=pad)`` layer, e.g. a classifier of whole
            sequences); otherwise unequal lengths raise. Do not pad tanks you will cut
            into look-back windows or split along time: the padded steps would become
            inputs and targets (give every entity the same span of time instead).
        return_index: also return a :class:`TankIndex` (each entity's id and time stamps,
            to join predictions back to the original rows).

    Returns:
        ``x`` of shape ``(entities, steps, features)`` (a new array); with ``pad``,
        ``(x, lengths)`` where ``lengths[i]`` is entity i's true number of steps; with
        ``return_index``, ``(x, index)`` (the lengths are ``index.lengths``).

    Raises:
        ValueError: missing or non-numeric columns, a text time column, a missing id or
            time, NaN/inf values (named by the frame's own row label and column),
            duplicate ``(id, time)`` rows, duplicated column names, an empty frame,
            unequal lengths without ``pad``.
        TypeError: ``features``, ``id`` or ``time`` that are not column names.

    >>> df = pd.DataFrame({"tank": ["B", "A", "A", "B"], "hour": [0, 1, 0, 1],
    ...                    "P": [5.0, 2.0, 1.0, 6.0], "T": [50.0, 20.0, 10.0, 60.0]})
    >>> tanks(df, id="tank", time="hour", features=["P", "T"]).shape
    (2, 2, 2)
    """
    if not isinstance(frame, pd.DataFrame):
        fail("frame", "a pandas.DataFrame", shown=f"frame of type {type(frame).__name__}")
    if frame.columns.duplicated().any():
        dups = frame.columns[frame.columns.duplicated()].unique()
        fail(
            "frame",
            "a frame whose column names are unique",
            shown="repeated columns " + ", ".join(map(repr, dups)),
        )
    if len(frame) == 0:
        fail("frame", "a frame with at least one row", shown="an empty frame")
    (id,) = _column_list(frame, "id", id)
    (time,) = _column_list(frame, "time", time)
    feats = _column_list(frame, "features", features)
    bad = [c for c in feats if not pd.api.types.is_numeric_dtype(frame[c])]
    bad += [c for c in feats if pd.api.types.is_bool_dtype(frame[c])]
    if bad:
        fail(
            "features",
            "numeric columns",
            shown=", ".join(f"{c!r} with dtype {frame[c].dtype}" for c in bad),
        )
    pad = check_real("pad", pad, optional=True)
    return_index = check_bool("return_index", return_index)
    missing_id = frame[id].isna().to_numpy()
    if missing_id.any():
        label = frame.index[int(np.argmax(missing_id))]
        fail(
            "id",
            "a column with no missing values",
            shown=f"frame.loc[{_label(label)!r}, {id!r}]={frame[id].loc[label]!r}",
        )
    _check_time_column(frame, time)
    values = frame[feats].to_numpy(dtype="float64")
    check_finite("frame", values, labels=frame[feats])
    dup = frame.duplicated([id, time]).to_numpy()
    if dup.any():
        row = frame.iloc[int(np.argmax(dup))]
        fail(
            "frame",
            f"one row per ({id}, {time})",
            shown=f"duplicate rows for {id}={_label(row[id])!r}, {time}={_label(row[time])!r}",
        )
    entity = pd.factorize(frame[id], sort=True)[0]
    keys = pd.DataFrame({"entity": entity, "time": frame[time].reset_index(drop=True)})
    order = keys.sort_values(["entity", "time"], kind="stable").index.to_numpy()
    ordered = frame.iloc[order]
    codes, uniques = pd.factorize(ordered[id], sort=True)
    lengths = np.bincount(codes)
    longest = int(lengths.max())
    if pad is None and lengths.min() != longest:
        short = int(np.argmin(lengths))
        fail(
            "pad",
            "a number when entities have unequal lengths, for a model that masks the padded "
            "steps (`mask_value=pad`). For look-back windows or a split along time, give "
            "every entity the same steps instead (e.g. the last n of each: "
            f"`frame.sort_values({time!r}).groupby({id!r}).tail(n)`): padded steps would "
            "otherwise become inputs and targets",
            shown=f"pad=None with lengths from {lengths.min()} to {longest} "
            f"({id}={_label(uniques[short])!r} has {lengths[short]} steps)",
        )
    position = ordered.groupby(codes, sort=False).cumcount().to_numpy()
    out = np.full((len(lengths), longest, len(feats)), np.nan if pad is None else pad)
    out[codes, position] = values[order]
    if return_index:
        ends = np.cumsum(lengths)
        stamps = pd.Index(ordered[time])
        times = tuple(stamps[e - k : e] for e, k in zip(ends, lengths))
        index = TankIndex(np.asarray(uniques), times, lengths, id=id, time=time)
        return out, index
    return out if pad is None else (out, lengths)


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


def split(series: Any, train: float | int = 0.67, *, look_back: int = 0) -> tuple[Any, Any]:
    """Chronological train/test split along time, never shuffled.

    A 3-D tank array ``(entities, T, features)`` is split along time for every entity:
    ``(entities, T_train, features)`` and ``(entities, T - T_train, features)``, so every
    tank's early steps train and its late steps test.

    With ``look_back``, the test part starts ``look_back`` steps before the cut: its
    first look-back window ends at the last training step, so its first target is the
    first test step. No test target is ever a training step, and no step is lost to the
    test windows' warm-up.

    Args:
        series: an array (1-D/2-D along its first axis, 3-D along its second), or a
            ``Series``/``DataFrame`` in time order.
        train: a fraction in (0, 1) (the first ``int(T * train)`` steps train, as in the
            classic tutorial) or a count of steps between 1 and ``T - 1``.
        look_back: steps of training history the test part starts with, between 0 and
            the number of training steps.

    Returns:
        ``(train_part, test_part)``: read-only views for arrays, ``.iloc`` slices for
        pandas objects, slices otherwise.

    Raises:
        ValueError: fewer than 2 steps, a ``train`` or ``look_back`` out of range, or a
            pandas time index that does not increase.

    >>> a, b = split(np.arange(144.0))
    >>> len(a), len(b)
    (96, 48)
    >>> a, b = split(np.zeros((3, 200, 2)), 0.8, look_back=24)  # 3 tanks
    >>> a.shape, b.shape
    ((3, 160, 2), (3, 64, 2))
    """
    if isinstance(series, pd.Series | pd.DataFrame):
        check_time_index("series", series)
    elif not hasattr(series, "__len__") or isinstance(series, str | bytes):
        fail("series", "an array or a sequence", shown=f"series of type {type(series).__name__}")
    is_3d = isinstance(series, np.ndarray) and series.ndim == 3
    n = series.shape[1] if is_3d else len(series)
    if n < 2:
        fail("series", "at least 2 steps long", shown=f"series of length {n}")
    if is_int(train):
        cut = check_int("train", train, high=n - 1, context=f" for a series of length {n}")
    elif isinstance(train, float | np.floating) and 0.0 < train < 1.0:
        cut = int(n * train)
        if not 1 <= cut <= n - 1:
            fail("train", f"a fraction leaving both parts non-empty for length {n}", train)
    else:
        fail("train", "a fraction in (0, 1) or a count", train)
    look_back = check_int(
        "look_back", look_back, low=0, high=cut, context=f" for {cut} training steps"
    )
    start = cut - look_back
    if isinstance(series, np.ndarray):
        view = series.view()
        view.flags.writeable = False
        if is_3d:
            return view[:, :cut], view[:, start:]
        return view[:cut], view[start:]
    if isinstance(series, pd.Series | pd.DataFrame):
        return series.iloc[:cut], series.iloc[start:]
    return series[:cut], series[start:]


def _file_mapping(arr: np.ndarray) -> mmap.mmap | None:
    """The read-only file mapping under a memmap view, if there is one."""
    base: Any = arr
    while base is not None:
        mapping = getattr(base, "_mmap", None)
        if isinstance(mapping, mmap.mmap):
            return mapping if hasattr(mapping, "madvise") else None
        if isinstance(base, mmap.mmap):
            return base
        base = getattr(base, "base", None)
    return None


class WindowDataset(keras.utils.PyDataset):
    """Look-back windows cut on demand, one batch at a time, for ``model.fit``.

    For a series too long to hold as ``(samples, look_back, features)`` (an array or a
    ``numpy.memmap`` of years of readings): memory holds one batch of windows. A 3-D
    source ``(entities, T, features)`` (tanks) gives windows within each entity, never
    across two. ``shuffle=True`` permutes the window start indices each epoch (with a
    random affine permutation, so no index array is stored); the values inside a window
    are never reordered. Each batch is checked for NaN and inf as it is cut.

    For several workers (``MultiWorkerMirroredStrategy``), give each its own
    ``shard_index`` out of ``num_shards``: worker ``i`` takes every ``num_shards``-th
    window of the (shuffled) order starting at ``i``, so with the same ``seed`` the
    shards are disjoint and together cover every window exactly once per epoch.

    Args:
        series: ``(time,)``, ``(time, features)`` or ``(entities, time, features)``.
        look_back: steps per window.
        horizon: following values per target (``y`` is ``(batch, features)`` for 1).
        batch_size: windows per batch (the last batch may be smaller).
        stride: steps between the starts of consecutive windows (``look_back`` gives
            windows that do not overlap, so an epoch reads every value once).
        shuffle: visit the windows in a new random order each epoch.
        seed: for the shuffling (the same on every worker when sharding).
        num_shards, shard_index: this worker's share of the windows.
        targets: the columns ``y`` holds, as in :func:`look_back`.
        **kwargs: passed to ``keras.utils.PyDataset`` (``workers``...).

    >>> ds = WindowDataset(np.arange(100.0), 10, batch_size=32)
    >>> len(ds), ds[0][0].shape, ds[0][1].shape
    (3, (32, 10, 1), (32, 1))
    >>> WindowDataset(np.arange(100.0), 10, batch_size=32, stride=10).count
    9
    """

    RELEASE_EVERY = 16

    def __init__(
        self,
        series: Any,
        look_back: int,
        *,
        horizon: int = 1,
        batch_size: int,
        stride: int = 1,
        shuffle: bool = False,
        seed: int | None = None,
        num_shards: int = 1,
        shard_index: int = 0,
        targets: Any = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        arr = as_array("series", series)  # a memmap stays a view of the file
        if arr.ndim in (1, 2) and arr.size:
            arr = arr.reshape(1, arr.shape[0], -1)
        if arr.ndim != 3:
            fail(
                "series",
                "`(time,)`, `(time, features)` or `(entities, time, features)`",
                shown=f"series with shape {arr.shape}",
            )
        if arr.shape[0] == 0 or arr.shape[2] == 0:
            fail("series", "at least one entity and one feature", shown=f"shape {arr.shape}")
        t = arr.shape[1]
        if t < 2:
            fail("series", "at least 2 steps long", shown=f"series with {t} steps")
        self.horizon = check_int(
            "horizon", horizon, high=t - 1, context=f" for series of length {t}"
        )
        self.look_back = check_int(
            "look_back",
            look_back,
            high=t - self.horizon,
            context=f" for series of length {t} and horizon={self.horizon}",
        )
        self.batch_size = check_int("batch_size", batch_size)
        self.stride = check_int("stride", stride)
        self.num_shards = check_int("num_shards", num_shards)
        self.shard_index = check_int("shard_index", shard_index, low=0, high=self.num_shards - 1)
        self.series = arr
        self._mapping = _file_mapping(arr)
        self.per_entity = (t - self.look_back - self.horizon) // self.stride + 1
        self.total = arr.shape[0] * self.per_entity  # windows of all shards
        if self.total < self.num_shards:
            fail("num_shards", f"at most the number of windows ({self.total})", num_shards)
        self.count = len(range(self.shard_index, self.total, self.num_shards))  # this shard
        self.shuffle = check_bool("shuffle", shuffle)
        if seed is not None and not (is_int(seed) and seed >= 0):
            fail("seed", "None or an integer >= 0", seed)
        self.targets = _target_columns(targets, series, arr.shape[2])
        self._rng = np.random.default_rng(seed)
        self._affine = (1, 0)
        if self.shuffle:
            self._draw_order()

    def _draw_order(self) -> None:
        n = self.total
        while True:
            a = int(self._rng.integers(1, max(n, 2)))
            if np.gcd(a, n) == 1:
                break
        self._affine = (a, int(self._rng.integers(0, n)))

    def on_epoch_end(self) -> None:
        if self.shuffle:
            self._draw_order()
        self.release()

    def release(self) -> None:
        """Drop the file pages a memmap source has read from this process's memory.

        Reading a memmap maps the pages it touched into the process, so an epoch over a
        file would otherwise leave the whole file resident. The pages stay in the
        operating system's cache; only the process's share is released. Called every
        ``RELEASE_EVERY`` batches and at the end of each epoch; does nothing for arrays.
        """
        if self._mapping is not None:
            self._mapping.madvise(mmap.MADV_DONTNEED)

    @property
    def num_batches(self) -> int:
        return -(-self.count // self.batch_size)

    def __len__(self) -> int:
        return self.num_batches

    def positions(self, i: int) -> np.ndarray:
        """The window numbers in batch ``i`` (entity * windows_per_entity + window)."""
        k = np.arange(
            i * self.batch_size, min(self.count, (i + 1) * self.batch_size), dtype=np.int64
        )
        k = k * self.num_shards + self.shard_index  # this shard's places in the order
        a, c = self._affine
        return (a * k + c) % self.total

    def __getitem__(self, i: int) -> tuple[np.ndarray, np.ndarray]:
        if not is_int(i):
            fail("index", "an integer batch number", i, error=TypeError)
        if not 0 <= i < len(self):
            raise IndexError(f"batch {i} out of range for {len(self)} batches")
        if i % self.RELEASE_EVERY == self.RELEASE_EVERY - 1:
            self.release()
        pos = self.positions(i)
        entity, start = np.divmod(pos, self.per_entity)
        start = start * self.stride
        steps = start[:, None] + np.arange(self.look_back)
        x = self.series[entity[:, None], steps]
        ahead = start[:, None] + self.look_back + np.arange(self.horizon)
        y = self.series[entity[:, None], ahead][..., self.targets]
        check_finite(f"series (batch {i})", x)
        check_finite(f"series (batch {i})", y)
        return x, (y[:, 0] if self.horizon == 1 else y)
