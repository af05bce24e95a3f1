"""Series and long frames: shapes, window counts, one time grid per set of tanks, splits.

The one home for what turns user data into the ``(entities, T, features)`` layout the
windows are cut from: shape normalisation (:func:`as_tanks`), the one window-count
formula (:func:`window_count`), long frames to arrays (:func:`tanks`, :class:`TankIndex`)
and chronological splits (:func:`split`). Nothing here imports Keras.
"""

from __future__ import annotations

import re
from collections.abc import Hashable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from ._checks import (
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
    "as_tanks",
    "from_tanks",
    "split",
    "tanks",
    "window_count",
]


def window_count(steps: int, look_back: int, *, horizon: int = 1, stride: int = 1) -> int:
    """How many look-back windows a series of ``steps`` steps gives (0 if none fits).

    The one formula every window function uses: a window needs ``look_back`` inputs and
    ``horizon`` targets, and starts every ``stride`` steps, so there are
    ``(steps - look_back - horizon) // stride + 1`` of them per entity.

    Args:
        steps: length of the series (of one entity).
        look_back: steps per window.
        horizon: following values per target.
        stride: distance between window starts.

    Returns:
        The number of windows, ``0`` when the series is too short for one.

    >>> window_count(144, 3), window_count(10, 3, horizon=2, stride=3), window_count(3, 3)
    (141, 2, 0)
    """
    return max((int(steps) - int(look_back) - int(horizon)) // int(stride) + 1, 0)


def as_tanks(series: Any, *, name: str = "series") -> tuple[np.ndarray, int]:
    """Any series as a 3-D ``(entities, T, features)`` view, and its original ``ndim``.

    A 1-D ``(T,)`` or 2-D ``(T, features)`` series is one entity; a 3-D array is taken as
    tanks. The values are checked (real numbers, finite; a pandas input in time order)
    and never copied when ``series`` is a numeric ndarray. :func:`from_tanks` undoes it.

    Args:
        series: ``(T,)``, ``(T, features)`` (array, ``Series`` or ``DataFrame``) or
            ``(entities, T, features)``.
        name: the argument's name in messages.

    Returns:
        ``(arr, ndim)``: ``arr`` of shape ``(entities, T, features)``, ``ndim`` 1, 2 or 3.

    Raises:
        ValueError: not real numbers, NaN or inf, a shape that is not 1-D/2-D/3-D, or a
            pandas time index that does not increase.

    >>> arr, ndim = as_tanks(np.arange(5.0))
    >>> arr.shape, ndim
    ((1, 5, 1), 1)
    """
    arr = np.asarray(series) if isinstance(series, np.ndarray) else None
    if arr is not None and arr.ndim == 3:
        check_numeric(name, arr, series)
        check_finite(name, arr)
        return arr, 3
    flat = as_series(name, series)
    return flat[None], (1 if np.ndim(series) == 1 else 2)


def from_tanks(arr: np.ndarray, ndim: int) -> np.ndarray:
    """Undo :func:`as_tanks`: a ``(1, T, features)`` array back to ``ndim`` axes.

    >>> from_tanks(np.zeros((1, 5, 1)), 1).shape
    (5,)
    """
    return {1: lambda a: a[0, :, 0], 2: lambda a: a[0], 3: lambda a: a}[ndim](arr)


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
        count = window_count(steps, look_back, horizon=horizon, stride=stride)
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
