"""Series and long frames: shapes, window counts, one time grid for all tanks, splits.

The one home for what turns user data into the ``(entities, T, features)`` layout the
windows are cut from: shape normalisation (:func:`as_tanks`), the one window-count
formula (:func:`window_count`), long frames (a real export: one row per tank and reading)
to one regular time grid (:func:`tanks`, :class:`TankIndex`) and chronological splits
(:func:`split`). Nothing here imports Keras.

Missing steps are kept known all the way: :func:`tanks` leaves a step nobody measured as
NaN (and ``TankIndex.observed`` False), the window functions refuse NaN unless told to
drop the windows that touch one, and ``TankIndex.window_rows`` names exactly the kept
windows' ``(id, time)``.
"""

from __future__ import annotations

import datetime as _dt
import re
import warnings
import weakref
from collections.abc import Hashable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from ._checks import (
    _all_finite,
    as_array,
    check_bool,
    check_choice,
    check_int,
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

AGGS = ("mean", "median", "min", "max", "first", "last")
FILLS = ("ffill", "interpolate")
MISSING = ("raise", "drop")
DUPLICATES = ("raise", "drop")
_MAX_CELLS = 2_000_000_000  # values of a grid (entities * steps * features) worth allocating


def window_count(steps: int, look_back: int, *, horizon: int = 1, stride: int = 1) -> int:
    """How many look-back windows a series of ``steps`` steps gives (0 if none fits).

    The one formula every window function uses (``look_back``, ``WindowDataset``,
    ``TankIndex.window_rows``, ``klp windows``): a window needs ``look_back`` inputs and
    ``horizon`` targets and starts every ``stride`` steps, so there are
    ``(steps - look_back - horizon) // stride + 1`` of them per entity.

    Args:
        steps: length of the series (of one entity).
        look_back: steps per window.
        horizon: following values per target (0 for windows without a target).
        stride: distance between window starts.

    Returns:
        The number of windows, ``0`` when the series is too short for one.

    Raises:
        ValueError: a size that is not an integer, ``steps`` or ``horizon`` below 0,
            ``look_back`` or ``stride`` below 1 (an ``ArgumentError`` naming it).

    >>> window_count(144, 3), window_count(10, 3, horizon=2, stride=3), window_count(3, 3)
    (141, 2, 0)
    """
    steps, horizon = check_int("steps", steps, low=0), check_int("horizon", horizon, low=0)
    look_back, stride = check_int("look_back", look_back), check_int("stride", stride)
    return max((steps - look_back - horizon) // stride + 1, 0)


# --- arrays: shape normalisation, missing values, padding -------------------------------


def _where(name: str, arr: np.ndarray, bad: tuple[int, ...], labels: Any) -> str:
    """``name[i, j]=value``, or the pandas row label and column when ``labels`` is one."""
    value = arr[bad].item()
    if isinstance(labels, pd.DataFrame | pd.Series) and labels.ndim == arr.ndim:
        parts = [repr(labels.index[bad[0]])]
        if isinstance(labels, pd.DataFrame) and len(bad) == 2:
            parts.append(repr(labels.columns[bad[1]]))
        return f"{name}.loc[{', '.join(parts)}]={value!r}"
    return f"{name}[{', '.join(map(str, bad))}]={value!r}"


def _missing_rule(name: str) -> str:
    return (
        "finite (no NaN or inf). A NaN is a step that was not measured: pass "
        '`missing="drop"` to keep only the windows whose inputs and targets are all '
        'present, or fill short gaps first (`tanks(..., freq=..., fill="ffill", '
        "limit=k)`)"
    )


def check_missing(name: str, arr: np.ndarray, *, allow_nan: bool, labels: Any = None) -> bool:
    """Refuse inf always and NaN unless ``allow_nan``; return whether NaN is present.

    One pass (a dot product) when every value is finite; the first bad value is named by
    its position, or by its row label and column for a pandas ``labels``.
    """
    if not (arr.size and np.issubdtype(arr.dtype, np.floating)) or _all_finite(arr):
        return False
    inf = np.isinf(arr)
    if inf.any():
        bad = tuple(int(i) for i in np.argwhere(inf)[0])
        fail(name, "finite (no NaN or inf)", shown=_where(name, arr, bad, labels))
    if not allow_nan:
        bad = tuple(int(i) for i in np.argwhere(np.isnan(arr))[0])
        fail(name, _missing_rule(name), shown=_where(name, arr, bad, labels))
    return True


def _as_tanks(
    series: Any, name: str = "series", *, allow_nan: bool = False
) -> tuple[np.ndarray, int, bool]:
    """``(arr, ndim, has_nan)``: the 3-D view of :func:`as_tanks` and whether it holds NaN."""
    arr = as_array(name, series)
    if arr.ndim not in (1, 2, 3):
        fail(
            name,
            "1-D `(time,)`, 2-D `(time, features)` or 3-D `(entities, time, features)`",
            shown=f"{name} with shape {arr.shape}",
        )
    if arr.ndim == 3 and (arr.shape[0] == 0 or arr.shape[2] == 0):
        fail(
            name,
            "at least one entity and one feature",
            shown=f"{name} with shape {arr.shape}",
        )
    has_nan = check_missing(name, arr, allow_nan=allow_nan, labels=series)
    ndim = arr.ndim
    if ndim == 1:
        arr = arr[None, :, None]
    elif ndim == 2:
        arr = arr[None]
    return arr, ndim, has_nan


def as_tanks(
    series: Any, *, name: str = "series", allow_nan: bool = False
) -> tuple[np.ndarray, int]:
    """Any series as a 3-D ``(entities, T, features)`` view, and its original ``ndim``.

    A 1-D ``(T,)`` or 2-D ``(T, features)`` series is one entity; a 3-D array is taken as
    tanks. The values are checked (real numbers; no inf; no NaN unless ``allow_nan``; a
    pandas input in time order) and never copied when ``series`` is a numeric ndarray.
    :func:`from_tanks` undoes it.

    Args:
        series: ``(T,)``, ``(T, features)`` (array, ``Series`` or ``DataFrame``) or
            ``(entities, T, features)``.
        name: the argument's name in messages.
        allow_nan: accept NaN (missing steps); inf is always refused.

    Returns:
        ``(arr, ndim)``: ``arr`` of shape ``(entities, T, features)``, ``ndim`` 1, 2 or 3.

    Raises:
        ValueError: not real numbers, NaN or inf, a shape that is not 1-D/2-D/3-D, no
            entity or feature, or a pandas time index that does not increase.

    >>> arr, ndim = as_tanks(np.arange(5.0))
    >>> arr.shape, ndim
    ((1, 5, 1), 1)
    """
    arr, ndim, _ = _as_tanks(series, name, allow_nan=check_bool("allow_nan", allow_nan))
    return arr, ndim


def from_tanks(arr: np.ndarray, ndim: int) -> np.ndarray:
    """Undo :func:`as_tanks`: a ``(1, T, features)`` array back to ``ndim`` axes.

    Args:
        arr: ``(entities, T, features)``, one entity unless ``ndim`` is 3.
        ndim: the original number of axes, 1, 2 or 3.

    Returns:
        A view of ``arr`` with ``ndim`` axes.

    Raises:
        ValueError: ``ndim`` is not 1, 2 or 3, ``arr`` is not 3-D, or it holds more
            than one entity (for ``ndim`` 1 or 2) or more than one feature (for ``ndim``
            1), which the shape asked for cannot hold (an ``ArgumentError`` naming it).

    >>> from_tanks(np.zeros((1, 5, 1)), 1).shape
    (5,)
    """
    if ndim not in (1, 2, 3) or isinstance(ndim, bool):
        fail("ndim", "1, 2 or 3", ndim)
    shape = np.shape(arr)
    if len(shape) != 3 or (ndim < 3 and shape[0] != 1) or (ndim == 1 and shape[2] != 1):
        rule = {1: "(1, steps, 1)", 2: "(1, steps, features)", 3: "3-D"}[ndim]
        fail("arr", f"of shape {rule} to come back to {ndim} axes", shown=f"arr.shape={shape}")
    return {1: lambda a: a[0, :, 0], 2: lambda a: a[0], 3: lambda a: a}[ndim](arr)


def _target_columns(targets: Any, series: Any, features: int) -> slice | list[int]:
    """The target columns as a slice (consecutive: ``y`` stays a view) or positions.

    For a ``DataFrame`` an item is a column name first: with integer column labels an
    integer is only ever a name (``[1, 0]`` and ``targets=0`` is the column named 0), so
    a label is never mistaken for a position.
    """
    if targets is None:
        return slice(None)
    names = list(series.columns) if isinstance(series, pd.DataFrame) else None
    int_labels = names is not None and any(is_int(n) for n in names)
    items = list(targets) if isinstance(targets, list | np.ndarray) else [targets]
    if isinstance(targets, tuple) and not (names is not None and targets in names):
        items = list(targets)
    if int_labels:
        rule = "column names of `series` (" + ", ".join(map(repr, names)) + ")"
        rule += "; its column labels are integers, so an integer is read as a name"
    else:
        rule = f"a column position in [0, {features}) or a sequence of them"
        if names is not None:
            rule += " or column names of `series` (" + ", ".join(map(repr, names)) + ")"
    if not items:
        fail("targets", rule, targets)
    positions = []
    for item in items:
        if isinstance(item, bool | np.bool_):
            fail("targets", rule, targets)
        if names is not None and isinstance(item, Hashable) and item in names:
            if not is_int(item) or int_labels:
                positions.append(names.index(item))
                continue
        if not int_labels and is_int(item) and 0 <= item < features:
            positions.append(int(item))
        else:
            fail("targets", rule, targets)
    if len(set(positions)) != len(positions):
        fail("targets", "distinct columns", targets)
    if positions == list(range(positions[0], positions[0] + len(positions))):
        return slice(positions[0], positions[0] + len(positions))
    return positions


# Arrays that tanks(pad=...) made, so the windows can recognise them (and their views).
_PADDED: dict[int, tuple[weakref.ref, float]] = {}


def _remember_padded(arr: np.ndarray, pad: float) -> None:
    key = id(arr)
    _PADDED[key] = (weakref.ref(arr, lambda _: _PADDED.pop(key, None)), pad)


def padded_value(arr: np.ndarray) -> float | None:
    """The ``pad`` of a :func:`tanks` array (or a view of one) made with ``pad=``, else None."""
    base: Any = arr
    while isinstance(base, np.ndarray):
        entry = _PADDED.get(id(base))
        if entry is not None and entry[0]() is base:
            return entry[1]
        base = base.base
    return None


def _looks_padded(arr: np.ndarray) -> tuple[int, float] | None:
    """``(entity, value)`` when an entity ends in 2+ steps of one whole number on every
    feature while another entity does not: what end padding looks like."""
    if arr.ndim != 3 or arr.shape[0] < 2 or arr.shape[1] < 3:
        return None
    last = np.asarray(arr[:, -1, :], dtype="float64")
    before = np.asarray(arr[:, -2, :], dtype="float64")
    value = last[:, 0]
    with np.errstate(invalid="ignore"):
        flat = (last == value[:, None]).all(axis=1) & (before == value[:, None]).all(axis=1)
        flat &= np.isfinite(value) & (value == np.round(value))
    for v in np.unique(value[flat]):
        alike = flat & (value == v)
        if not alike.all():
            return int(np.argmax(alike)), float(v)
    return None


def check_not_padded(name: str, arr: np.ndarray, observed: Any = None) -> None:
    """Refuse an array :func:`tanks` padded (known by its identity or by an index with
    ``pad``); warn when an array only looks padded and nothing says otherwise (an index
    without ``pad`` says the array was never padded, an ``observed`` mask that its last
    steps were real readings)."""
    pad = padded_value(arr)
    if pad is None and isinstance(observed, TankIndex) and observed.pad is not None:
        pad = observed.pad
    if pad is not None:
        fail(
            name,
            "an array without padding: padded steps would become inputs and targets. "
            "`pad` is for models that mask it (`Masking(mask_value=pad)`, e.g. a classifier "
            "of whole sequences); for windows, put the tanks on one grid with "
            '`tanks(..., freq=...)` and pass `missing="drop"`',
            shown=f"{name} padded by tanks(..., pad={pad!r})",
        )
    if isinstance(observed, TankIndex) and observed.observed is not None:
        return  # made by tanks without pad: its end steps are readings or NaN
    found = _looks_padded(arr)
    if found is not None and observed is not None:
        mask = np.asarray(observed)
        if mask.dtype == bool and mask.shape == arr.shape[:2] and mask[found[0], -2:].all():
            found = None  # the flat end was measured: not padding
    if found is not None:
        e, value = found
        warnings.warn(
            f"`{name}` looks padded: entity {e} ends in steps that all equal {value!r} "
            "while another entity does not. Padded steps would become inputs and targets; "
            'if they are padding, use `tanks(..., freq=...)` and `missing="drop"` instead',
            UserWarning,
            stacklevel=3,
        )


def _window_any(bad: np.ndarray, starts: np.ndarray, begin: int, length: int) -> np.ndarray:
    """``(entities, windows)``: whether ``bad[e, s + begin : s + begin + length]`` has a True."""
    total = np.zeros((bad.shape[0], bad.shape[1] + 1), dtype=np.int64)
    np.cumsum(bad, axis=1, out=total[:, 1:])
    return (total[:, starts + begin + length] - total[:, starts + begin]) > 0


def kept_windows(
    arr: np.ndarray,
    look_back: int,
    *,
    horizon: int,
    stride: int,
    columns: slice | list[int],
    has_nan: bool,
    observed: np.ndarray | None,
) -> np.ndarray | None:
    """``(entities, windows)`` bool: the windows whose inputs (every feature) and targets
    (``columns``) are present and, with ``observed``, whose target steps were observed.
    ``None`` when every window is kept."""
    if not has_nan and observed is None:
        return None  # nothing to drop: allocate nothing (look_back stays zero-copy)
    count = window_count(arr.shape[1], look_back, horizon=horizon, stride=stride)
    starts = stride * np.arange(count, dtype=np.int64)
    drop = np.zeros((arr.shape[0], count), dtype=bool)
    if has_nan:
        nan = np.isnan(arr)
        drop |= _window_any(nan.any(axis=2), starts, 0, look_back)
        drop |= _window_any(nan[..., columns].any(axis=2), starts, look_back, horizon)
    if observed is not None:
        drop |= _window_any(~observed, starts, look_back, horizon)
    return None if not drop.any() else ~drop


def observed_mask(observed: Any, arr: np.ndarray, ndim: int) -> np.ndarray | None:
    """``observed`` (an array or a :class:`TankIndex`) as ``(entities, T)`` bool."""
    if observed is None:
        return None
    if isinstance(observed, TankIndex):
        observed = observed.observed
    expected = arr.shape[:2] if ndim == 3 else arr.shape[1:2]
    mask = np.asarray(observed)
    if mask.dtype != bool or mask.shape != tuple(expected):
        fail(
            "observed",
            f"a bool array of shape {tuple(expected)} (one value per entity and step of "
            "`series`; for a part from `split`, slice it the same way: "
            "`index.observed[:, start:end]`)",
            shown=f"observed with dtype {mask.dtype} and shape {mask.shape}",
        )
    return mask.reshape(arr.shape[:2])


# --- long frames: one time grid --------------------------------------------------------


@dataclass(frozen=True, eq=False)
class TankIndex:
    """Which tank and which time stamp each step of a :func:`tanks` array is.

    Entities are named by id and steps by time stamp, so predictions, forecasts and
    scores join back to the rows of the original frame.

    :func:`tanks` makes one with ``return_index=True``; it is rarely built by hand. A
    frozen dataclass: each argument below is kept, unchanged, as the attribute of the
    same name.

    Args:
        ids: ``(entities,)``, the id of ``x[e]`` (sorted).
        times: one ``pandas.Index`` per entity, its time stamps in order
            (``len(times[e]) == lengths[e]``). With ``freq`` every entity has the same
            ones, the common grid (also ``grid``). Time zone aware stamps are in UTC.
        lengths: ``(entities,)`` integers, each entity's number of steps in ``x``.
        id: the id column's name (default ``"id"``).
        time: the time column's name (default ``"time"``).
        features: the feature columns' names, in the order of ``x[..., f]``.
        observed: ``(entities, steps)`` bool, True where at least one real reading
            of every feature stood in that step (finite, not in ``na_values``); filled,
            padded and missing steps are False. None when not known.
        present: ``(entities, steps, features)`` bool, True where ``x`` holds a number
            (a reading or a filled value) rather than NaN or padding. None when not
            known.
        freq: the grid's step (a ``pandas.Timedelta``, a month, quarter or year start
            offset, or a number) when ``tanks`` was given ``freq``, else None.
        pad: the padding value when ``tanks`` was given ``pad``, else None.
        grid: the time stamps every entity shares (with ``freq``, or without ``pad``
            when every tank has the same stamps), else None.
        summary: the table :meth:`report` returns (one row per tank), else None.

    Raises:
        Nothing of its own when made: the arguments are not checked against each
            other. Its methods refuse what the index lacks: :meth:`report` without a
            ``summary``, ``window_rows(missing="drop")`` or ``observed=True`` without
            ``present``/``observed`` (``ValueError``, an ``ArgumentError`` naming
            ``index``).

    >>> df = pd.DataFrame({"tank": ["A", "A", "B"], "t": [0, 2, 2], "P": [1.0, 3.0, 5.0]})
    >>> x, index = tanks(df, id="tank", time="t", features="P", freq=1, return_index=True)
    >>> x[:, :, 0]
    array([[ 1., nan,  3.],
           [nan, nan,  5.]])
    >>> index.observed
    array([[ True, False,  True],
           [False, False,  True]])
    """

    ids: np.ndarray
    times: tuple[pd.Index, ...]
    lengths: np.ndarray
    id: Hashable = "id"
    time: Hashable = "time"
    features: tuple[Hashable, ...] = ()
    observed: np.ndarray | None = None
    present: np.ndarray | None = None
    freq: Any = None
    pad: float | None = None
    grid: pd.Index | None = None
    summary: pd.DataFrame | None = field(default=None, repr=False)

    def report(self) -> pd.DataFrame:
        """What the export holds, one row per tank, to read before training.

        Columns: ``rows`` (rows of the frame), ``first`` and ``last`` (time stamps),
        ``interval`` (the tank's usual spacing between readings), ``steps`` (grid steps
        from its first to its last reading), ``missing`` (of those, steps with no
        reading of some feature: gaps, empty cells, ``na_values``), ``filled`` (missing
        steps that ``fill`` filled), ``longest_gap`` (the longest time between two
        consecutive readings) and ``sentinels`` (values that repeat at an extreme far
        from the others, such as ``-999``: candidates for ``na_values``).

        Returns:
            A ``pandas.DataFrame`` indexed by id.

        Raises:
            ValueError: the index has no ``summary`` (it was not made by ``tanks``; an
                ``ArgumentError`` naming ``index``).

        >>> df = pd.DataFrame({"tank": ["A"] * 5, "t": [0, 1, 2, 4, 5],
        ...                    "P": [300.0, -999.0, 301.0, -999.0, 302.0]})
        >>> x, index = tanks(df, id="tank", time="t", features="P", freq=1,
        ...                  return_index=True)
        >>> index.report()[["steps", "missing", "longest_gap", "sentinels"]]
              steps  missing  longest_gap        sentinels
        tank
        A         6        1            2  P: -999 (2 rows)
        """
        if self.summary is None:
            fail("index", "an index made by `tanks(..., return_index=True)`", shown="no report")
        return self.summary.copy()

    def _stamps(self) -> tuple[pd.Index, np.ndarray]:
        """Every entity's stamps in one Index, and where each entity's start."""
        starts = np.concatenate([[0], np.cumsum(self.lengths)[:-1]]).astype(np.int64)
        if self.grid is not None:
            return self.grid, np.zeros(len(self.lengths), dtype=np.int64)
        if not self.times:
            return pd.Index([]), starts
        return self.times[0].append(list(self.times[1:])), starts

    def window_rows(
        self,
        look_back: int,
        *,
        horizon: int = 1,
        stride: int = 1,
        offset: int = 0,
        end: int | None = None,
        targets: Any = None,
        missing: str = "keep",
        observed: bool = False,
    ) -> pd.DataFrame:
        """The ``(id, time)`` of each target that :func:`look_back` makes from the tanks.

        Row ``i`` names sample ``i`` of ``look_back(x[:, offset:end], look_back, ...)``'s
        ``y`` (for ``horizon > 1``, rows ``i * horizon ... + horizon - 1`` name its
        steps, with an ``ahead`` column 1..horizon), so predictions join back to the
        original rows: ``rows.assign(predicted=model.predict(x).reshape(len(rows), -1)[:, 0])``.
        ``offset`` and ``end`` say which part of the steps is windowed (for the test part
        of ``split(x, cut, look_back=k)``, ``offset=cut - k``; for its train part,
        ``end=cut``).

        With ``missing="drop"`` (and ``observed=True``) the rows are exactly those of the
        windows that ``look_back(..., missing="drop")`` (with ``observed=``) keeps: the
        windows whose inputs and targets are all present (and whose target steps were
        observed, not filled).

        Args:
            look_back: steps per window.
            horizon: following values per target.
            stride: distance between window starts.
            offset: the first step of the windowed part.
            end: the step after its last (None: every step).
            targets: the target columns, as in :func:`look_back` (positions or feature
                names); they decide which missing values make a target missing.
            missing: ``"keep"`` (every window) or ``"drop"`` (as ``look_back``).
            observed: also drop windows whose target steps were not observed.

        Returns:
            A ``pandas.DataFrame`` with the id and time columns (and ``ahead``).

        Raises:
            ValueError: a size or part out of range, unknown ``targets``, ``missing``
                not ``"keep"`` or ``"drop"``, ``observed`` not a bool, or dropping asked
                of an index without ``present``/``observed`` masks (an
                ``ArgumentError`` naming the argument, or ``index``).
            TypeError: ``offset`` or ``end`` that is not an integer (an
                ``ArgumentTypeError``).

        >>> df = pd.DataFrame({"tank": ["A"] * 4, "t": [0, 1, 2, 3], "P": [1.0, 2, 3, 4]})
        >>> x, index = tanks(df, id="tank", time="t", features="P", return_index=True)
        >>> index.window_rows(2)
          tank  t
        0    A  2
        1    A  3
        """
        longest = int(self.lengths.max()) if len(self.lengths) else 0
        for name, value in (("offset", offset), ("end", end)):
            if value is not None and not is_int(value):
                fail(
                    name,
                    "an integer step" + (" or None" if name == "end" else ""),
                    value,
                    error=TypeError,
                )
        if offset is None:
            fail("offset", "an integer step", offset, error=TypeError)
        offset = check_int(
            "offset", offset, low=0, high=longest - 2, context=f" for tanks of {longest} steps"
        )
        if end is None:
            end = longest
        end = check_int(
            "end",
            end,
            low=offset + 2,
            high=longest,
            context=f" for tanks of {longest} steps and offset={offset}",
        )
        steps = end - offset
        horizon = check_int("horizon", horizon, high=steps - 1, context=f" for {steps} steps")
        look_back = check_int(
            "look_back",
            look_back,
            high=steps - horizon,
            context=f" for {steps} steps and horizon={horizon}",
        )
        stride = check_int("stride", stride)
        missing = check_choice("missing", missing, ("keep", "drop"))
        observed = check_bool("observed", observed)
        count = window_count(steps, look_back, horizon=horizon, stride=stride)
        entities = len(self.ids)
        keep = None
        if missing == "drop" or observed:
            if self.present is None or self.observed is None:
                fail(
                    "index",
                    "an index made by `tanks(..., return_index=True)`",
                    shown="an index without `present`/`observed` masks",
                )
            names = pd.DataFrame(columns=list(self.features)) if self.features else None
            columns = _target_columns(targets, names, self.present.shape[2])
            present = self.present[:, offset:end]
            starts = stride * np.arange(count, dtype=np.int64)
            drop = np.zeros((entities, count), dtype=bool)
            if missing == "drop":
                drop |= _window_any(~present.all(axis=2), starts, 0, look_back)
                drop |= _window_any(~present[..., columns].all(axis=2), starts, look_back, horizon)
            if observed:
                drop |= _window_any(~self.observed[:, offset:end], starts, look_back, horizon)
            keep = ~drop
        first = offset + look_back + stride * np.arange(count, dtype=np.int64)
        at = (first[:, None] + np.arange(horizon)).reshape(-1)  # steps of one entity
        entity = np.repeat(np.arange(entities), len(at))
        step = np.tile(at, entities)
        if keep is not None:
            rows = np.repeat(keep.reshape(-1), horizon)
            entity, step = entity[rows], step[rows]
        stamps, starts_at = self._stamps()
        inside = step < self.lengths[entity]
        where = np.where(inside, starts_at[entity] + step, -1)
        stamp = stamps.take(where, allow_fill=True, fill_value=None) if len(where) else stamps[:0]
        part: dict[Hashable, Any] = {
            self.id: np.asarray(self.ids)[entity],
            self.time: np.asarray(stamp) if len(stamp) else stamp,
        }
        if horizon > 1:
            part["ahead"] = np.tile(np.arange(1, horizon + 1), len(step) // horizon)
        return pd.DataFrame(part)


def _label(value: Any) -> Any:
    return value.item() if isinstance(value, np.generic) else value


def _show(value: Any) -> str:
    """A cell for a message: time stamps as text, everything else as its repr."""
    if isinstance(value, _dt.datetime | _dt.timedelta | pd.Period | np.datetime64):
        return str(value)
    return repr(_label(value))


def _one_column(frame: pd.DataFrame, name: str, value: Any) -> Hashable:
    """``value`` as one column name of ``frame`` (a tuple naming a MultiIndex column is one)."""
    if isinstance(value, tuple) and _has_column(frame, value):
        return value
    if isinstance(value, list | tuple | pd.Index) and not isinstance(value, str):
        if len(value) != 1:
            fail(
                name,
                "one column name (an entity is named by one column: join several with "
                f"`frame[{'+'.join(map(str, value))!r}] = frame[[...]].astype(str).agg('/'.join, "
                "axis=1)`)",
                value,
                error=TypeError,
            )
    return _column_list(frame, name, value)[0]


def _has_column(frame: pd.DataFrame, value: Any) -> bool:
    try:
        if isinstance(frame.columns, pd.MultiIndex):
            levels = frame.columns.nlevels
            return isinstance(value, tuple) and len(value) == levels and value in frame.columns
        return isinstance(value, Hashable) and value in frame.columns
    except (TypeError, ValueError):
        return False


def _column_list(frame: pd.DataFrame, name: str, value: Any) -> list[Hashable]:
    """``value`` as a list of column names of ``frame`` (one name or a sequence)."""
    rule = "a column name of `frame` or a list of them (columns: " + ", ".join(
        map(repr, frame.columns)
    )
    if value is None or (isinstance(value, float) and np.isnan(value)):
        fail(name, rule + ")", value, error=TypeError)
    if isinstance(value, tuple) and _has_column(frame, value):
        items: list[Any] = [value]
    elif isinstance(value, list | tuple | pd.Index):
        items = list(value)
    else:
        items = [value]
    if not items:
        fail(name, "a non-empty list of column names", value)
    for item in items:
        if not isinstance(item, Hashable):
            fail(name, rule + ")", value, error=TypeError)
    missing = [c for c in items if not _has_column(frame, c)]
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
    >>> _time_format("1949-01")
    '%Y-%m'
    """
    text = str(example).strip()
    month = re.fullmatch(r"\d{4}([-/.])\d{1,2}", text)
    if month:  # a year and a month, such as "1949-01"
        return f"%Y{month.group(1)}%m"
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


_OFFSET = re.compile(r"(Z|[+-]\d{2}:?\d{2})$")
_ISO = re.compile(r"\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?)?(Z|[+-]\d{2}:?\d{2})?$")
_ISO_ZONED = r"\s*\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2})\s*"


def _parse_hint(time: Hashable, first: Any) -> str:
    """The one line that parses a text time column like ``first``, to paste as it is."""
    text = str(first).strip()
    if _OFFSET.search(text):
        if _ISO.match(text):
            return (
                f'frame[{time!r}] = pd.to_datetime(frame[{time!r}], format="ISO8601", '
                "utc=True) -- the stamps carry UTC offsets, so they become UTC (offsets "
                "that change at daylight saving are then one clock)"
            )
        return (
            f"frame[{time!r}] = pd.to_datetime(frame[{time!r}], "
            f'format="{_time_format(first)} %z", utc=True) -- the stamps carry UTC offsets, '
            "so they become UTC; day and month order is never guessed: check which comes "
            "first in your data"
        )
    return (
        f'frame[{time!r}] = pd.to_datetime(frame[{time!r}], format="{_time_format(first)}") '
        "-- day and month order is never guessed: check which comes first in your data"
    )


def _iso_zoned(values: pd.Series) -> bool:
    """Whether every value is ISO 8601 text with a time of day and a UTC offset."""
    if not all(isinstance(v, str) for v in values):
        return False
    return bool(values.str.fullmatch(_ISO_ZONED).all())


def _time_values(frame: pd.DataFrame, time: Hashable) -> tuple[pd.Series, str]:
    """The time column ready to order by, and its kind (datetime, timedelta, period,
    number). Time zone aware stamps, offsets mixed or not, are converted to UTC, and so
    is ISO 8601 text whose every stamp carries its UTC offset."""
    column = frame[time]
    dtype = column.dtype
    if isinstance(dtype, pd.DatetimeTZDtype):
        column, kind = column.dt.tz_convert("UTC"), "datetime"
    elif pd.api.types.is_datetime64_any_dtype(dtype):
        kind = "datetime"
    elif pd.api.types.is_timedelta64_dtype(dtype):
        kind = "timedelta"
    elif isinstance(dtype, pd.PeriodDtype):
        kind = "period"
    elif (
        pd.api.types.is_numeric_dtype(dtype)
        and not pd.api.types.is_bool_dtype(dtype)
        and not pd.api.types.is_complex_dtype(dtype)
    ):
        kind = "number"
    else:
        values = column.dropna()
        stamps = len(values) > 0 and all(isinstance(v, _dt.datetime) for v in values)
        if stamps:
            aware = np.array([v.utcoffset() is not None for v in values])
            if aware.all() or not aware.any():
                column = pd.to_datetime(column, utc=bool(aware.all()))
                kind = "datetime"
            else:
                k = int(np.argmin(aware))
                fail(
                    "time",
                    "time stamps that all carry a time zone or none does (a local time "
                    "without one cannot be put on the UTC clock); give the naive ones their "
                    "zone first",
                    shown=f"column {time!r} mixing {values.iloc[int(np.argmax(aware))]!s} "
                    f"and {values.iloc[k]!s}",
                )
        elif len(values) and _iso_zoned(values):
            # unambiguous instants: each stamp says its offset, so each is one UTC time
            column, kind = pd.to_datetime(column, format="ISO8601", utc=True), "datetime"
        else:
            first = values.iloc[0] if len(values) else None
            texts = len(values) > 0 and all(isinstance(v, str) for v in values)
            zoned = values.str.fullmatch(_ISO_ZONED) if texts else None
            if zoned is not None and zoned.any():
                # some stamps say their offset and some do not: utc=True would read the
                # bare ones as UTC, which they are not
                bare = values[~zoned]
                fail(
                    "time",
                    "time stamps that all carry their UTC offset or none does (a local time "
                    "without one cannot be put on the UTC clock); give the stamps without "
                    "one their offset",
                    shown=f"column {time!r} mixing {values[zoned].iloc[0]!r} and "
                    f"frame.loc[{_label(bare.index[0])!r}, {time!r}]={bare.iloc[0]!r}",
                )
            fail(
                "time",
                "a datetime, numeric or pandas Period column, so steps are ordered by real "
                "time (text sorts '1/10/2024' before '1/2/2024'). Parse it first: "
                + _parse_hint(time, first),
                shown=f"column {time!r} with dtype {dtype} (first value {first!r})",
            )
    missing = column.isna().to_numpy()
    if missing.any():
        k = int(np.argmax(missing))
        fail(
            "time",
            "a column with no missing values",
            shown=f"frame.loc[{_label(frame.index[k])!r}, {time!r}]={_show(frame[time].iloc[k])}",
        )
    return column, kind


def _ticks(column: pd.Series, kind: str) -> np.ndarray:
    """Time stamps as numbers to compute with: ns for datetimes and timedeltas, ordinals
    for periods, the numbers themselves otherwise."""
    if kind in ("datetime", "month"):
        index = pd.DatetimeIndex(column)
        index = index.tz_localize(None) if index.tz else index
        if kind == "month":  # calendar months since 1970-01
            return index.to_numpy().astype("datetime64[M]").astype(np.int64)
        return index.as_unit("ns").asi8
    if kind == "timedelta":
        return pd.TimedeltaIndex(column).as_unit("ns").asi8
    if kind == "period":
        return np.asarray(column.array.asi8, dtype=np.int64)
    values = column.to_numpy()
    if np.issubdtype(values.dtype, np.integer):
        return values.astype(np.int64)
    return values.astype(np.float64)


def _by_group(values: np.ndarray, codes: np.ndarray) -> np.ndarray:
    """``np.lexsort((values, codes))``, as two stable sorts (faster on large arrays)."""
    order = np.argsort(values, kind="stable")
    return order[np.argsort(codes[order], kind="stable")]


def _intervals(values: np.ndarray, kind: str, column: pd.Series) -> list[Any]:
    """Many tick differences in the time column's own unit (NaN: none)."""
    values = np.asarray(values, dtype=np.float64)
    if kind in ("datetime", "timedelta"):
        return list(pd.to_timedelta(values, unit="ns"))
    if kind == "number" and pd.api.types.is_integer_dtype(column.dtype):
        return [np.nan if np.isnan(v) else int(v) for v in values]
    return [_interval(v, kind, column) for v in values]


def _interval(value: Any, kind: str, column: pd.Series) -> Any:
    """A tick difference in the time column's own unit."""
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return pd.NaT if kind in ("datetime", "timedelta") else np.nan
    if kind in ("datetime", "timedelta"):
        return pd.Timedelta(int(value), unit="ns")
    if kind == "month":
        return _MONTHS.get(int(value)) or pd.offsets.MonthBegin(int(value))
    if kind == "period":
        return int(value) * column.dtype.freq
    return value.item() if isinstance(value, np.generic) else value


_MONTHS = {
    1: pd.offsets.MonthBegin(),
    3: pd.offsets.QuarterBegin(startingMonth=1),
    12: pd.offsets.YearBegin(),
}


def _calendar(freq: Any, kind: str, column: pd.Series) -> tuple[int, int | None] | None:
    """``(months, phase)`` when steps are calendar months: ``freq`` a month, quarter or
    year start (``"MS"``, ``"QS"``, ``"YS"``: a regular grid though months differ in
    length), or, without ``freq``, stamps that all fall at midnight on the first of a
    month. ``phase`` is the month (0-11) bins start from (None: the first month)."""
    if kind not in ("datetime", "period"):
        return None
    if freq is None:
        if kind != "datetime":
            return None
        index = pd.DatetimeIndex(column)
        starts = bool((index.day == 1).all() and (index == index.normalize()).all())
        return (1, None) if starts else None
    try:
        offset = (
            pd.tseries.frequencies.to_offset(freq)
            if isinstance(freq, str | pd.DateOffset)
            else None
        )
    except ValueError:
        return None
    n = getattr(offset, "n", 0)
    if isinstance(offset, pd.offsets.MonthBegin) and n > 0:
        return n, (0 if n == 1 else None)
    if isinstance(offset, pd.offsets.QuarterBegin) and n > 0:
        return 3 * n, (offset.startingMonth - 1) % 3 if n == 1 else offset.startingMonth - 1
    if isinstance(offset, pd.offsets.YearBegin) and n > 0:
        return 12 * n, offset.month - 1
    return None


def _alias(value: Any) -> str:
    """``freq=`` as the user would write it: ``'h'``, ``'30min'``, or a number."""
    if isinstance(value, pd.Timedelta):
        try:
            return repr(pd.tseries.frequencies.to_offset(value).freqstr)
        except ValueError:
            return f"pd.Timedelta({str(value)!r})"
    if isinstance(value, pd.DateOffset):
        return repr(value.freqstr)
    return repr(value)


def _check_ids(frame: pd.DataFrame, id: Hashable) -> None:
    column = frame[id]
    missing = column.isna().to_numpy()
    if missing.any():
        k = int(np.argmax(missing))
        fail(
            "id",
            "a column with no missing values",
            shown=f"frame.loc[{_label(frame.index[k])!r}, {id!r}]={_show(column.iloc[k])}",
        )
    if column.dtype != object:
        return
    kinds: dict[str, Any] = {}
    for value in pd.unique(column.map(lambda v: (type(v).__name__, v))):
        name, v = value
        kind = (
            "bool"
            if isinstance(v, bool | np.bool_)
            else "number"
            if isinstance(v, int | float | np.number)
            else "text"
            if isinstance(v, str)
            else name
        )
        kinds.setdefault(kind, v)
    if len(kinds) > 1:
        fail(
            "id",
            "a column of one kind of value (True and 1, or 1 and '1', would otherwise be "
            f"one tank or sort apart): make them text with `frame[{id!r}] = "
            f"frame[{id!r}].astype(str)`",
            shown=f"column {id!r} mixing " + ", ".join(f"{k} ({v!r})" for k, v in kinds.items()),
        )


def _check_id_spelling(frame: pd.DataFrame, id: Hashable) -> None:
    """Refuse ids that differ only by surrounding spaces or case (``'T-01'``, ``'t-01 '``)."""
    column = frame[id]
    if not (pd.api.types.is_string_dtype(column.dtype) or column.dtype == object):
        return
    uniques = pd.Series(pd.unique(column))
    if not all(isinstance(v, str) for v in uniques):
        return
    norm = uniques.str.strip().str.casefold()
    clash = norm.duplicated(keep=False).to_numpy()
    if not clash.any():
        return
    counts = column.value_counts()
    groups = [list(g) for _, g in uniques[clash].groupby(norm[clash].to_numpy())]
    canon = [max(g, key=lambda v: (counts[v], v == v.strip())) for g in groups]
    stripped = [c.strip() for c in canon]
    if all(c == c.strip() for c in canon) and all(len({v.strip() for v in g}) == 1 for g in groups):
        fix = f"frame[{id!r}] = frame[{id!r}].str.strip()"
    elif all(c == c.upper() for c in stripped):
        fix = f"frame[{id!r}] = frame[{id!r}].str.strip().str.upper()"
    elif all(c == c.lower() for c in stripped):
        fix = f"frame[{id!r}] = frame[{id!r}].str.strip().str.lower()"
    else:
        mapping = {v.strip(): c for g, c in zip(groups, stripped) for v in g if v.strip() != c}
        fix = f"frame[{id!r}] = frame[{id!r}].str.strip().replace({mapping!r})"
    shown = "; ".join(", ".join(map(repr, sorted(g))) for g in groups[:5])
    more = f" and {len(groups) - 5} more groups" if len(groups) > 5 else ""
    fail(
        "id",
        "one spelling per tank: ids that differ only by surrounding spaces or by case "
        "would be separate tanks. Pass `clean_ids=True` (every text id stripped and "
        f"upper-cased), or fix them with `{fix}`",
        shown=f"ids {shown}{more}",
    )


def _cleaned_ids(column: pd.Series) -> pd.Series:
    """``clean_ids=True``: text ids without surrounding whitespace, upper-cased (other
    values as they are)."""
    if pd.api.types.is_string_dtype(column.dtype) and column.dtype != object:
        return column.str.strip().str.upper()
    if column.dtype != object:
        return column
    return column.map(lambda v: v.strip().upper() if isinstance(v, str) else v)


def _without_exact_duplicates(frame: pd.DataFrame) -> pd.DataFrame:
    """``duplicates="drop"``: rows equal in every column dropped, the first kept (as
    ``frame.drop_duplicates()``); rows that differ in any value all stay."""
    try:
        dup = frame.duplicated().to_numpy()
    except TypeError:  # unhashable cells: no row can be shown to repeat another
        return frame
    return frame[~dup] if dup.any() else frame


def _check_exact_duplicates(frame: pd.DataFrame, id: Hashable, time: Hashable) -> None:
    try:
        dup = frame.duplicated().to_numpy()
    except TypeError:  # unhashable cells: compare the columns tanks reads
        return
    if not dup.any():
        return
    labels = frame.index[dup]
    k = int(np.argmax(dup))
    shown = ", ".join(repr(_label(v)) for v in labels[:10]) + (" ..." if len(labels) > 10 else "")
    fail(
        "frame",
        f"one row per ({id}, {time}), without exact duplicate rows: pass "
        '`duplicates="drop"` (the first of each kept), or drop them with '
        "`frame = frame.drop_duplicates()`",
        shown=f"{int(dup.sum())} exact duplicate row(s), row labels {shown} (the first for "
        f"{id}={_show(frame[id].iloc[k])}, {time}={_show(frame[time].iloc[k])})",
    )


def _check_repeated_times(
    frame: pd.DataFrame,
    id: Hashable,
    time: Hashable,
    kind: str,
    tz_aware: bool,
    codes: np.ndarray,
    ticks: np.ndarray,
    order: np.ndarray,
    stamps: pd.Series,
    grid: bool,
) -> None:
    """Exact duplicate rows are always refused. Other repeated ``(id, time)`` are refused
    without ``freq`` (two readings cannot be one step), and with it only when naive
    stamps repeat at night, the mark of a daylight-saving change on wall-clock times;
    otherwise ``agg`` combines them, as pandas' ``resample`` does."""
    c, t = codes[order], ticks[order]
    same = (c[1:] == c[:-1]) & (t[1:] == t[:-1])
    if not same.any():
        return
    _check_exact_duplicates(frame, id, time)
    naive = kind == "datetime" and not tz_aware
    if grid:
        if not naive:
            return
        hours = pd.DatetimeIndex(stamps.iloc[order[1:][same]]).hour
        night = np.asarray(hours <= 3)
        if not night.any():
            return
        same = same.copy()
        same[np.flatnonzero(same)[~night]] = False
    i = int(np.argmax(same))
    a, b = int(order[i]), int(order[i + 1])
    stamp = stamps.iloc[a]
    n = int(same.sum())
    rule = f"one row per ({id}, {time}): two readings of one tank at one time are ambiguous"
    if not grid:
        rule += " (`freq=` combines the readings of one grid step with `agg`)"
    if naive and 0 <= pd.Timestamp(stamp).hour <= 3:
        rule += (
            ". A repeated local hour at night is what the end of daylight saving time "
            "does to wall-clock stamps: read the stamps with their UTC offsets "
            f'(`pd.to_datetime(frame[{time!r}], format="ISO8601", utc=True)`), or give '
            f"their zone: `frame[{time!r}] = frame[{time!r}].dt.tz_localize('Europe/Paris', "
            "ambiguous='infer')` with your zone"
        )
    elif tz_aware:
        rule += " (times compared in UTC)"
    fail(
        "frame",
        rule,
        shown=f"{n} repeated stamp(s); {id}={_show(frame[id].iloc[a])}, "
        f"{time}={stamp!s} in rows {_label(frame.index[a])!r} and {_label(frame.index[b])!r}",
    )


def _sentinels(value: Any) -> np.ndarray:
    if value is None:
        return np.array([], dtype=np.float64)
    items = list(value) if isinstance(value, list | tuple | set | np.ndarray) else [value]
    for item in items:
        ok = isinstance(item, int | float | np.number) and not isinstance(item, bool | np.bool_)
        if not ok or not np.isfinite(float(item)):
            fail("na_values", "None, a finite number or a list of them (e.g. [-999])", value)
    return np.array(items, dtype=np.float64)


def _fill(out: np.ndarray, span: np.ndarray, how: str, limit: int | None) -> None:
    """Fill, in place, runs of NaN inside each entity's span of at most ``limit`` steps
    (each feature apart): a longer run stays missing as a whole, and nothing is filled
    without a reading before it (``ffill``) or on both sides (``interpolate``)."""
    entities, steps, features = out.shape
    for f in range(features):
        v = out[:, :, f]
        nan = np.isnan(v)
        miss = nan & span
        if not miss.any():
            continue
        valid = ~nan & span
        edges = np.zeros((entities, steps + 2), dtype=np.int8)
        edges[:, 1:-1] = miss
        change = np.diff(edges, axis=1)
        row, start = np.nonzero(change == 1)
        _, stop = np.nonzero(change == -1)
        length = stop - start
        left, right = start - 1, stop
        ok = (left >= 0) & valid[row, np.clip(left, 0, steps - 1)]
        if how == "interpolate":
            ok &= (right < steps) & valid[row, np.clip(right, 0, steps - 1)]
        if limit is not None:
            ok &= length <= limit
        row, start, length, left, right = row[ok], start[ok], length[ok], left[ok], right[ok]
        run = np.repeat(np.arange(len(row)), length)
        k = np.arange(len(run)) - np.repeat(np.cumsum(length) - length, length)
        at_row, at_col = row[run], start[run] + k
        before = v[row, left][run]
        if how == "ffill":
            v[at_row, at_col] = before
        else:
            after = v[row, right][run]
            v[at_row, at_col] = before + (after - before) * (k + 1) / (length[run] + 1)


def _freq_ticks(freq: Any, kind: str) -> int | float:
    """``freq`` in the time column's ticks (ns for datetimes and timedeltas)."""
    if kind == "number":
        ok = isinstance(freq, int | float | np.number) and not isinstance(freq, bool | np.bool_)
        if not ok or not np.isfinite(float(freq)) or float(freq) <= 0:
            fail("freq", "a positive number for a numeric time column", freq)
        return freq.item() if isinstance(freq, np.generic) else freq
    rule = (
        "a fixed step such as 'h', '30min', '1D' or a pandas.Timedelta, or for datetimes "
        "a month, quarter or year start ('MS', 'QS', 'YS'; other calendar offsets such as "
        "month ends have no fixed length)"
    )
    try:
        if isinstance(freq, str | pd.DateOffset):
            step = pd.Timedelta(pd.tseries.frequencies.to_offset(freq))
        elif isinstance(freq, pd.Timedelta | _dt.timedelta | np.timedelta64):
            step = pd.Timedelta(freq)
        else:
            fail("freq", rule, freq)
    except (ValueError, TypeError):
        fail("freq", rule, freq)
    if pd.isna(step) or step.value <= 0:
        fail("freq", rule, freq)
    return int(step.value)


def _summary(
    ids: np.ndarray,
    id: Hashable,
    kind: str,
    column: pd.Series,
    codes_sorted: np.ndarray,
    ticks_sorted: np.ndarray,
    first_stamp: pd.Index,
    last_stamp: pd.Index,
    usual: np.ndarray,
    steps: np.ndarray,
    missing: np.ndarray,
    filled: np.ndarray,
    sentinels: list[str],
) -> pd.DataFrame:
    entities = len(ids)
    same = codes_sorted[1:] == codes_sorted[:-1]
    gaps = pd.Series(ticks_sorted[1:][same] - ticks_sorted[:-1][same])
    longest = gaps.groupby(codes_sorted[1:][same]).max().reindex(range(entities))
    table = pd.DataFrame(
        {
            "rows": np.bincount(codes_sorted, minlength=entities),
            "first": first_stamp,
            "last": last_stamp,
            "interval": _intervals(usual, kind, column),
            "steps": steps,
            "missing": missing,
            "filled": filled,
            "longest_gap": _intervals(longest.to_numpy(dtype=np.float64), kind, column),
            "sentinels": sentinels,
        },
        index=pd.Index(ids, name=id),
    )
    return table


def _sentinel_candidates(
    values: np.ndarray, codes: np.ndarray, starts: np.ndarray, features: Sequence[Hashable]
) -> list[str]:
    """Per entity, values that repeat at an extreme far from all the others (``-999``):
    at least 2 such rows, at least 3 other rows, and a gap to the nearest other value
    more than 3 times the spread of the others. ``values`` and ``codes`` are sorted by
    entity, whose rows begin at ``starts``."""
    entities = len(starts)
    found: list[list[str]] = [[] for _ in range(entities)]
    for f, name in enumerate(features):
        v = values[:, f]
        ok = ~np.isnan(v)
        ends = {}
        for low in (True, False):  # each extreme, and the rows repeating it
            reduce = np.minimum.reduceat if low else np.maximum.reduceat
            extreme = reduce(np.where(ok, v, np.inf if low else -np.inf), starts)
            at = ok & (v == extreme[codes])
            n_at = np.bincount(codes, weights=at, minlength=entities).astype(np.int64)
            ends[low] = extreme, at, n_at
        for low in (True, False):
            big = np.inf if low else -np.inf
            reduce = np.minimum.reduceat if low else np.maximum.reduceat
            other = np.maximum.reduceat if low else np.minimum.reduceat
            extreme, at, n_at = ends[low]
            _, at_other, n_other = ends[not low]
            rest = ok & ~at & ~(at_other & (n_other[codes] >= 2))  # not the other sentinel
            near = reduce(np.where(rest, v, big), starts)
            far = other(np.where(rest, v, -big), starts)
            n_rest = np.bincount(codes, weights=rest, minlength=entities)
            usable = (n_at >= 2) & (n_rest >= 3)
            with np.errstate(invalid="ignore"):
                gap, spread = np.abs(extreme - near), np.abs(far - near)
                hit = usable & (gap > 3 * spread) & (gap > 0)
            for e in np.flatnonzero(hit):
                found[e].append(f"{name}: {extreme[e]:g} ({n_at[e]} rows)")
    return ["; ".join(items) for items in found]


def tanks(
    frame: pd.DataFrame,
    *,
    id: Hashable,
    time: Hashable,
    features: Hashable | Sequence[Hashable],
    freq: Any = None,
    agg: str = "mean",
    fill: str | None = None,
    limit: int | None = None,
    na_values: Any = None,
    clean_ids: bool = False,
    duplicates: str = "raise",
    pad: float | None = None,
    return_index: bool = False,
) -> Any:
    """A long frame (one row per tank and reading) as ``(entities, steps, features)``.

    Entities are sorted by ``id`` and steps by real time, whatever the row order: tank
    A's pressures and temperatures are ``x[0]``, tank B's ``x[1]``, and ``x[:, k]`` is one
    time for every tank. Spacing is never assumed:

    - Without ``freq``, each tank's readings must be evenly spaced, all tanks at the
      same interval over the same times (stamps on the first of each month are evenly
      spaced in calendar months); anything else is refused, naming the tank and the two
      time stamps, with the ``freq=`` that fixes it.
    - With ``freq``, every tank is put on one common grid of that step, from the
      earliest reading of any tank to the latest (bins anchored at midnight of the
      earliest day, as pandas' ``resample``). Readings inside one step are aggregated
      with ``agg``. A step with no reading, a step before a tank started or after it
      stopped, an empty cell and a value in ``na_values`` are **missing**: NaN in ``x``
      and False in ``index.observed``, unless ``fill`` fills them.

    Time zone aware stamps (mixed UTC offsets included), and ISO 8601 text stamps that
    carry their UTC offsets, are converted to UTC. Empty
    cells (NaN) are missing steps in both modes; inf is refused. The window functions
    refuse NaN unless given ``missing="drop"``, so a step nobody measured never becomes
    an input or a target.

    Args:
        frame: a ``pandas.DataFrame`` with the id, time and feature columns.
        id: the column naming the tank (one column; a tuple names a column of a
            MultiIndex).
        time: the column ordering each tank's readings: datetimes (naive, or aware in
            any zone), timedeltas, numbers or pandas Periods. ISO 8601 text whose every
            stamp carries a UTC offset (``"2024-11-03T01:00:00-04:00"``, offsets mixed
            or not) names instants without ambiguity: it is read and converted to UTC.
            Other text (no offsets, or not ISO 8601) is refused with the line that
            parses it.
        features: column name(s) that form one step's vector (real numbers).
        freq: the grid's step: a fixed pandas offset alias (``"h"``, ``"30min"``) or a
            ``Timedelta``; for datetimes also a month, quarter or year start (``"MS"``,
            ``"QS"``, ``"YS"``: one step per calendar month, quarter or year, as pandas'
            ``resample``, though months differ in length); a number for a numeric time
            column. None: check that the readings are already evenly spaced (stamps at
            midnight on the first of a month are counted in calendar months).
        agg: how readings inside one grid step combine: ``"mean"``, ``"median"``,
            ``"min"``, ``"max"``, ``"first"`` or ``"last"`` (missing values skipped).
        fill: ``"ffill"`` (the last reading before) or ``"interpolate"`` (linear
            between the readings on both sides) for missing steps inside a tank's own
            span; never before its first reading or after its last.
        limit: with ``fill``, the longest run of consecutive missing steps to fill; a
            longer run stays missing as a whole (None: any length).
        na_values: a number or list of numbers that mean "no reading" (sentinels such as
            ``-999``); ``index.report()`` lists candidates.
        clean_ids: strip surrounding whitespace from text ids and upper-case them
            before grouping (``" T-01"``, ``"t-01"`` and ``"T-01"`` are one tank,
            ``"T-01"``). False: ids that differ only so are refused.
        duplicates: ``"raise"`` refuses exact duplicate rows (equal in every column);
            ``"drop"`` drops them, keeping the first, as ``frame.drop_duplicates()``
            (after ``clean_ids``). Rows that differ in any value are never dropped: two
            readings of one tank at one time are combined by ``agg`` with ``freq``
            and refused without it.
        pad: fill every step still missing with this number instead of NaN, for a
            model that masks it (``Masking(mask_value=pad)``, e.g. a classifier of whole
            sequences). Without ``freq`` shorter tanks are padded at the end. Padded
            arrays are refused by ``look_back`` and ``WindowDataset``: padded steps would
            become inputs and targets.
        return_index: also return a :class:`TankIndex` (ids, time stamps, the
            ``observed`` mask and ``report()``, to join predictions back to rows).

    Returns:
        ``x`` of shape ``(entities, steps, features)`` (a new float64 array); with
        ``pad``, ``(x, lengths)`` where ``lengths[i]`` is entity i's number of steps;
        with ``return_index``, ``(x, index)`` (the lengths are ``index.lengths``).

    Raises:
        ValueError: missing or non-numeric columns, a text time column (with the line
            that parses it), a missing id or time, inf values, exact duplicate rows
            (with ``duplicates="raise"``),
            repeated ``(id, time)``, ids differing only by spaces or case (without
            ``clean_ids``), unevenly
            spaced readings or tanks over different times without ``freq``, unequal
            lengths without ``pad`` or ``freq``, an empty frame, a bad option.
        TypeError: ``id``, ``time`` or ``features`` that are not column names, ``id`` or
            ``time`` naming several columns.

    >>> df = pd.DataFrame({"tank": ["B", "A", "A", "B"], "hour": [0, 1, 0, 1],
    ...                    "P": [5.0, 2.0, 1.0, 6.0], "T": [50.0, 20.0, 10.0, 60.0]})
    >>> tanks(df, id="tank", time="hour", features=["P", "T"]).shape
    (2, 2, 2)
    >>> late = pd.DataFrame({"tank": ["A", "A", "A", "B"], "hour": [0, 1, 2, 2],
    ...                      "P": [1.0, -999.0, 3.0, 7.0]})
    >>> tanks(late, id="tank", time="hour", features="P", freq=1, na_values=[-999])[..., 0]
    array([[ 1., nan,  3.],
           [nan, nan,  7.]])
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
    id = _one_column(frame, "id", id)
    time = _one_column(frame, "time", time)
    feats = _column_list(frame, "features", features)
    bad = [
        c
        for c in feats
        if not pd.api.types.is_numeric_dtype(frame[c])
        or pd.api.types.is_bool_dtype(frame[c])
        or pd.api.types.is_complex_dtype(frame[c])
    ]
    if bad:
        fail(
            "features",
            "numeric columns (real numbers: not text, bool or complex)",
            shown=", ".join(f"{c!r} with dtype {frame[c].dtype}" for c in bad),
        )
    agg = check_choice("agg", agg, AGGS)
    if fill is not None:
        check_choice("fill", fill, FILLS)
    if limit is not None:
        limit = check_int("limit", limit)
        if fill is None:
            fail("limit", 'used with `fill` ("ffill" or "interpolate")', limit)
    sentinels = _sentinels(na_values)
    clean_ids = check_bool("clean_ids", clean_ids)
    duplicates = check_choice("duplicates", duplicates, DUPLICATES)
    pad = check_real("pad", pad, optional=True)
    return_index = check_bool("return_index", return_index)
    if clean_ids:
        frame = frame.copy(deep=False)  # the caller's frame is never changed
        frame[id] = _cleaned_ids(frame[id])
    if duplicates == "drop":  # after clean_ids: " T-01" and "T-01" rows may repeat
        frame = _without_exact_duplicates(frame)
    _check_ids(frame, id)
    column, kind = _time_values(frame, time)
    tz_aware = isinstance(column.dtype, pd.DatetimeTZDtype)
    _check_id_spelling(frame, id)
    values = frame[feats].to_numpy(dtype="float64", copy=True)
    inf = np.isinf(values)
    if inf.any():
        r, f = (int(i) for i in np.argwhere(inf)[0])
        fail(
            "frame",
            "finite (no inf; an empty cell or NaN is a missing step, and a sentinel such "
            "as -999 goes in `na_values`)",
            shown=f"frame.loc[{_label(frame.index[r])!r}, {feats[f]!r}]={float(values[r, f])!r}",
        )
    if sentinels.size:
        values[np.isin(values, sentinels)] = np.nan
    codes, uniques = pd.factorize(frame[id], sort=True)
    ids = np.asarray(uniques)
    entities = len(ids)
    calendar = _calendar(freq, kind, column)
    if calendar is not None and kind == "datetime":
        kind = "month"  # calendar months: ticks count months, however long each is
    ticks = _ticks(column, kind)
    order = _by_group(ticks, codes)
    _check_repeated_times(
        frame, id, time, kind, tz_aware, codes, ticks, order, column, freq is not None
    )
    if freq is not None and kind == "period":
        column = column.dt.to_timestamp()
        kind = "month" if calendar is not None else "datetime"
        ticks = _ticks(column, kind)
    c_sorted, t_sorted = codes[order], ticks[order]
    lengths_rows = np.bincount(codes, minlength=entities)
    ends = np.cumsum(lengths_rows)
    starts = ends - lengths_rows
    stamps = pd.Index(column.iloc[order])
    usual = _usual_intervals(c_sorted, t_sorted, entities)
    if freq is None:
        _check_spacing(id, time, kind, column, ids, c_sorted, t_sorted, order, stamps, usual)
        lengths = lengths_rows
        longest = int(lengths.max())
        if pad is None and lengths.min() != longest:
            short = int(np.argmin(lengths))
            fail(
                "pad",
                "a number when entities have unequal lengths, for a model that masks the "
                "padded steps (`mask_value=pad`). For look-back windows or a split along "
                "time, pass `freq=` instead: every tank on one time grid, the steps a tank "
                "did not log missing (NaN), so they are never inputs or targets",
                shown=f"pad=None with lengths from {lengths.min()} to {longest} "
                f"({id}={_label(ids[short])!r} has {lengths[short]} steps)",
            )
        if pad is None and entities > 1:
            differ = t_sorted.reshape(entities, longest) != t_sorted[:longest][None]
            if differ.any():
                e = int(np.argmax(differ.any(axis=1)))
                hint = ""
                if not np.isnan(usual).all():
                    hint = f"; e.g. freq={_alias(_interval(np.nanmin(usual), kind, column))}"
                fail(
                    "freq",
                    "given when the tanks cover different times (without it, step k "
                    "would be a different time in each tank). `freq=` puts every tank "
                    "on one grid, steps before a tank started or after it stopped missing",
                    shown=f"freq=None with {id}={_label(ids[0])!r} from {stamps[0]!s} and "
                    f"{id}={_label(ids[e])!r} from {stamps[int(starts[e])]!s}{hint}",
                )
        position = np.arange(len(order)) - np.repeat(starts, lengths)
        out = np.full((entities, longest, len(feats)), np.nan)
        out[c_sorted, position] = values[order]
        span = np.arange(longest)[None, :] < lengths[:, None]
        if pad is None:
            grid = stamps[:longest].rename(time)
            times = (grid,) * entities
        else:
            grid = None
            times = tuple(stamps[s:e] for s, e in zip(starts, ends))
        bins_first = np.zeros(entities, dtype=np.int64)
        bins_last = lengths - 1
        real = ~np.isnan(out)
        observed = real.all(axis=2) & span
        step = None
    else:
        if kind == "month":  # calendar bins: months, from the phase of the offset
            step, origin = calendar if calendar[1] is not None else (calendar[0], int(ticks.min()))
        else:
            step = _freq_ticks(freq, kind)
        if kind == "datetime":
            day = 86_400 * 10**9
            origin = (int(ticks.min()) // day) * day
        elif kind != "month":
            origin = 0
        if isinstance(step, int) and np.issubdtype(ticks.dtype, np.integer):
            bins = (ticks - origin) // step
        else:
            bins = np.floor((ticks - origin) / step).astype(np.int64)
        low, high = int(bins.min()), int(bins.max())
        longest = high - low + 1
        if entities * longest * len(feats) > _MAX_CELLS:
            fail(
                "freq",
                f"coarse enough for a grid that fits in memory ({entities} tanks x "
                f"{longest} steps x {len(feats)} features is more than {_MAX_CELLS:,} values)",
                freq,
            )
        key = codes.astype(np.int64) * longest + (bins - low)
        table = pd.DataFrame(values[order], columns=range(len(feats)))  # in time order
        grouped = table.groupby(key[order], sort=False)
        combined = getattr(grouped, agg)()
        counts = grouped.count()
        flat = np.full((entities * longest, len(feats)), np.nan)
        flat[combined.index.to_numpy()] = combined.to_numpy()
        real_flat = np.zeros((entities * longest, len(feats)), dtype=bool)
        real_flat[counts.index.to_numpy()] = counts.to_numpy() > 0
        out = flat.reshape(entities, longest, len(feats))
        real = real_flat.reshape(entities, longest, len(feats))
        b_sorted = bins[order] - low
        bins_first, bins_last = b_sorted[starts], b_sorted[ends - 1]
        steps_at = np.arange(longest)[None, :]
        span = (steps_at >= bins_first[:, None]) & (steps_at <= bins_last[:, None])
        observed = real.all(axis=2)
        lengths = np.full(entities, longest)
        labels = origin + (low + np.arange(longest)) * step
        if kind in ("datetime", "month"):
            if kind == "month":  # month ordinals (since 1970-01) to month starts
                grid = pd.DatetimeIndex(labels.astype("datetime64[M]").astype("datetime64[ns]"))
            else:
                grid = pd.DatetimeIndex(pd.to_datetime(labels.astype(np.int64), unit="ns"))
            grid = grid.tz_localize("UTC") if tz_aware else grid
            grid = _same_unit(grid, pd.DatetimeIndex(column))  # joins back to the frame
        elif kind == "timedelta":
            grid = pd.TimedeltaIndex(pd.to_timedelta(labels.astype(np.int64), unit="ns"))
            grid = _same_unit(grid, pd.TimedeltaIndex(column))
        else:
            grid = pd.Index(labels)
        grid = grid.rename(time)
        times = (grid,) * entities
    if fill is not None:
        _fill(out, span, fill, limit)
    present = ~np.isnan(out)
    steps_in_span = bins_last - bins_first + 1
    missing = (span & ~observed).sum(axis=1)
    filled = (span & ~observed & present.all(axis=2)).sum(axis=1)
    if pad is not None:
        out[~present] = pad
        _remember_padded(out, pad)
    if not return_index:
        return out if pad is None else (out, lengths)
    summary = _summary(
        ids,
        id,
        kind,
        column,
        c_sorted,
        t_sorted,
        stamps[starts],
        stamps[ends - 1],
        usual,
        steps_in_span,
        missing,
        filled,
        _sentinel_candidates(values[order], c_sorted, starts, feats),
    )
    index = TankIndex(
        ids,
        times,
        lengths,
        id=id,
        time=time,
        features=tuple(feats),
        observed=observed,
        present=present,
        freq=None
        if step is None
        else pd.tseries.frequencies.to_offset(freq)
        if kind == "month"
        else _interval(step, kind, column),
        pad=pad,
        grid=grid,
        summary=summary,
    )
    return out, index


def _same_unit(grid: Any, like: Any) -> Any:
    """``grid`` in the resolution of the frame's own stamps when that holds it exactly."""
    try:
        return grid.as_unit(like.unit) if (grid == grid.as_unit(like.unit)).all() else grid
    except (ValueError, OverflowError):
        return grid


def _usual_intervals(c_sorted: np.ndarray, t_sorted: np.ndarray, entities: int) -> np.ndarray:
    """Each entity's most common interval between consecutive readings (the smallest of
    the most common ones; NaN for an entity with one reading)."""
    same = c_sorted[1:] == c_sorted[:-1]
    table = pd.DataFrame({"c": c_sorted[1:][same], "d": t_sorted[1:][same] - t_sorted[:-1][same]})
    counts = table.groupby(["c", "d"]).size().reset_index(name="n")
    counts = counts.sort_values(["c", "n", "d"], ascending=[True, False, True])
    mode = counts.drop_duplicates("c").set_index("c")["d"]
    usual = np.full(entities, np.nan)
    usual[mode.index.to_numpy()] = mode.to_numpy(dtype=np.float64)
    return usual


def _check_spacing(
    id: Hashable,
    time: Hashable,
    kind: str,
    column: pd.Series,
    ids: np.ndarray,
    c_sorted: np.ndarray,
    t_sorted: np.ndarray,
    order: np.ndarray,
    stamps: pd.Index,
    usual: np.ndarray,
) -> None:
    """Without ``freq``: every tank evenly spaced, all at one interval."""
    same = c_sorted[1:] == c_sorted[:-1]
    diff = (t_sorted[1:] - t_sorted[:-1]).astype(np.float64)
    expected = usual[c_sorted[1:]]
    if np.issubdtype(t_sorted.dtype, np.floating):
        off = ~np.isclose(diff, expected, rtol=1e-9, atol=0.0)
    else:
        off = diff != expected
    off &= same
    rule = (
        "given when readings are not evenly spaced (nothing is taken as evenly spaced "
        "unchecked): `freq=` puts every tank on one grid of that step, readings inside "
        "one step aggregated with `agg`, steps with no reading missing (NaN)"
    )
    if off.any():
        i = int(np.argmax(off))
        e = int(c_sorted[i + 1])
        step = _interval(usual[e], kind, column)
        gap = _interval(t_sorted[i + 1] - t_sorted[i], kind, column)
        smallest = _interval(np.nanmin(usual), kind, column)
        fail(
            "freq",
            rule,
            shown=f"freq=None with {id}={_label(ids[e])!r}: {stamps[i]!s} followed by "
            f"{stamps[i + 1]!s} ({gap}, where its usual interval is {step}); "
            f"e.g. freq={_alias(smallest)}",
        )
    known = ~np.isnan(usual)
    if known.any() and np.unique(usual[known]).size > 1:
        a = int(np.argmax(known))
        b = int(np.argmax(known & (usual != usual[a])))
        fail(
            "freq",
            rule,
            shown=f"freq=None with {id}={_label(ids[a])!r} every "
            f"{_interval(usual[a], kind, column)} and {id}={_label(ids[b])!r} every "
            f"{_interval(usual[b], kind, column)}; e.g. "
            f"freq={_alias(_interval(np.nanmin(usual), kind, column))}",
        )


def split(series: Any, train: float | int = 0.67, *, look_back: int = 0) -> tuple[Any, Any]:
    """Chronological train/test split along time, never shuffled.

    A 3-D tank array ``(entities, T, features)`` (or a nested list of that shape) is
    split along time for every entity: ``(entities, T_train, features)`` and
    ``(entities, T - T_train, features)``, so every tank's early steps train and its
    late steps test.

    ``look_back`` is the window length you will cut from the test part (the same
    ``look_back`` as ``windows.look_back(test, look_back)``): the test part starts
    ``look_back`` steps before the cut so its first window's target is the first test
    step. No test target is ever a training step, and no step is lost to the test
    windows' warm-up.

    Args:
        series: an array (1-D/2-D along its first axis, 3-D along its second), or a
            ``Series``/``DataFrame`` in time order.
        train: a fraction in (0, 1) (the first ``int(T * train)`` steps train, as in the
            classic tutorial) or a count of steps between 1 and ``T - 1``.
        look_back: the window length you will cut from the test part: the test part
            starts ``look_back`` steps before the cut so its first window's target is
            the first test step. Between 0 (no windows: a plain cut) and the number of
            training steps.

    Returns:
        ``(train_part, test_part)``: read-only views for arrays (and nested lists of 3
        axes), ``.iloc`` slices for pandas objects, slices otherwise.

    Raises:
        ValueError: fewer than 2 steps, more than 3 axes, a ``train`` or ``look_back``
            out of range, or a pandas time index that does not increase.

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
    elif not isinstance(series, np.ndarray):
        try:
            ndim = np.ndim(series)
        except ValueError:  # ragged nested lists: split the outer list
            ndim = 1
        if ndim == 3:
            series = np.asarray(series)
    if isinstance(series, np.ndarray) and series.ndim not in (1, 2, 3):
        fail(
            "series",
            "1-D or 2-D (split along its first axis) or 3-D `(entities, time, features)` "
            "(split along time)",
            shown=f"series with shape {series.shape}",
        )
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
