"""Evaluation: :func:`backtest` (forecasts from many origins beside the truth),
:func:`score` (RMSE, MAE, MASE and coverage per model, step or entity) and
:func:`conformal` (intervals from the errors of an earlier backtest).

This module imports no Keras: a backtest of the baselines runs without it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import pandas as pd

from .._checks import check_choice, check_fraction, check_int, fail, is_int
from .._errors import ArgumentError
from ..series import TankIndex, as_tanks, from_tanks

Forecaster = Callable[[np.ndarray, int], Any]
"""``forecaster(history, horizon) -> values``: the history in the series' own layout,
``(time,)``, ``(time, features)`` or ``(entities, time, features)``, and the next
``horizon`` values in the same layout (``(horizon,)``, ``(horizon, features)`` or
``(entities, horizon, features)``; a features axis of 1 may be left out). A forecaster
with a ``targets`` attribute (feature positions, e.g. :class:`ModelForecaster`) returns
those features only."""

_FRAME_COLUMNS = ("model", "origin", "step", "actual", "forecast")


def _plain(value: Any) -> Any:
    """A numpy scalar as its Python value, for messages (``3``, not ``np.int64(3)``)."""
    return value.item() if isinstance(value, np.generic) else value


class _Series:
    """A series as ``(entities, time, features)`` float64, with its labels and the mask
    of the values that may be scored (present, and observed by the index)."""

    def __init__(self, name: str, series: Any, index: Any = None):
        # the windows' real-array check: real numbers, no inf, a time index in order;
        # NaN is a step that was not measured (never scored)
        arr, self.ndim = as_tanks(series, name=name, allow_nan=True)
        if 0 in arr.shape:
            fail(name, "non-empty", None, shown=f"{name} with shape {np.shape(series)}")
        self.arr = arr.astype("float64", copy=False)
        self.entities, self.length, self.width = arr.shape
        self.time: np.ndarray | None = None  # (entities, time) stamps, or None
        self.features: list[Any] = list(range(self.width))
        self.ids: np.ndarray | None = None
        self.observed = False  # True when an index gave `observed`
        if isinstance(series, pd.Series | pd.DataFrame):
            self.time = np.broadcast_to(series.index.to_numpy(), (1, self.length))
            if isinstance(series, pd.DataFrame):
                self.features = list(series.columns)
        self.scored = ~np.isnan(self.arr)  # (entities, time, features)
        if index is not None:
            self._index(name, index)

    def _index(self, name: str, index: Any) -> None:
        if not isinstance(index, TankIndex):
            fail("index", "None or the TankIndex of `tanks(..., return_index=True)`", index)
        if self.ndim != 3 or len(index.ids) != self.entities:
            fail(
                "index",
                f"the index of `{name}` (one id per entity of a `(entities, time, "
                "features)` array)",
                None,
                shown=f"index of {len(index.ids)} entities for {name} with shape "
                f"{np.shape(self.arr) if self.ndim == 3 else (self.length, self.width)}",
            )
        self.ids = np.asarray(index.ids)
        stamps = np.full((self.entities, self.length), None, dtype=object)
        for e, times in enumerate(index.times):
            n = min(len(times), self.length)
            stamps[e, :n] = np.asarray(times[:n], dtype=object)
        self.time = stamps
        if index.features and len(index.features) == self.width:
            self.features = list(index.features)
        if index.observed is not None:
            observed = np.asarray(index.observed, dtype=bool)
            if observed.shape != (self.entities, self.length):
                fail(
                    "index",
                    f"the index of `{name}`: `observed` of shape "
                    f"{(self.entities, self.length)} (slice it as the array was sliced)",
                    None,
                    shown=f"index.observed with shape {observed.shape}",
                )
            self.scored &= observed[:, :, None]
            self.observed = True

    def entity(self, e: int) -> str:
        """An entity as messages show it: its id with an index, else its position."""
        return repr(_plain(self.ids[e])) if self.ids is not None else str(e)

    def history(self, origin: int) -> np.ndarray:
        """A fresh read-only copy of everything before ``origin``, in the input's layout."""
        h = from_tanks(self.arr[:, :origin, :].copy(), self.ndim)
        h.flags.writeable = False
        return h

    def layout(self, steps: str | int, width: int) -> str:
        return {
            1: f"({steps},)",
            2: f"({steps}, {width})",
            3: f"({self.entities}, {steps}, {width})",
        }[self.ndim]

    def positions(self, frame: pd.DataFrame) -> np.ndarray:
        """The entity positions of a frame's rows (ids through the index)."""
        if "entity" not in frame:
            return np.zeros(len(frame), dtype=np.int64)
        values = frame["entity"].to_numpy()
        if self.ids is not None:
            lookup = {_plain(i): k for k, i in enumerate(self.ids)}
            missing = [v for v in pd.unique(values) if _plain(v) not in lookup]
            if missing:
                fail(
                    "index",
                    "the index the frame was backtested with (every `entity` is one of its ids)",
                    None,
                    shown=f"entity {_plain(missing[0])!r} not in index.ids",
                )
            return np.array([lookup[_plain(v)] for v in values], dtype=np.int64)
        if not np.issubdtype(values.dtype, np.integer):
            fail(
                "index",
                "the TankIndex the frame was backtested with (its `entity` column holds ids)",
                None,
                shown=f"index=None for entities such as {_plain(values[0])!r}",
            )
        return values.astype(np.int64)


def _check_frame(name: str, frame: Any) -> pd.DataFrame:
    """A backtest frame: its columns, real finite values, one row per forecast value."""
    if not isinstance(frame, pd.DataFrame) or not set(_FRAME_COLUMNS) <= set(frame.columns):
        fail(
            name,
            "a backtest frame with columns " + ", ".join(sorted(_FRAME_COLUMNS)),
            None,
            shown=f"{name} of type {type(frame).__name__}"
            + (f" with columns {list(frame.columns)}" if isinstance(frame, pd.DataFrame) else ""),
        )
    if len(frame) == 0:
        fail(name, "a backtest frame with rows", None, shown=f"{name} with 0 rows")
    for column in ("origin", "step", "actual", "forecast"):
        values = frame[column].to_numpy()
        integral = column in ("origin", "step")
        kinds = (np.integer,) if integral else (np.integer, np.floating)
        if not any(np.issubdtype(values.dtype, k) for k in kinds) or values.dtype == bool:
            fail(
                name,
                f"a backtest frame whose `{column}` column holds "
                + ("integers" if integral else "real numbers"),
                None,
                shown=f"{name}[{column!r}] with dtype {values.dtype}",
            )
        if not integral and not np.isfinite(values).all():
            k = int(np.argmax(~np.isfinite(values)))
            fail(
                name,
                f"a backtest frame of finite `{column}` values (a forecast that is NaN "
                "or inf cannot be scored; fix or drop that row)",
                None,
                shown=f"{name}.loc[{_plain(frame.index[k])!r}, {column!r}]={_plain(values[k])!r}",
            )
    keys = [c for c in ("model", "seed", "origin", "entity", "feature", "step") if c in frame]
    repeated = frame.duplicated(subset=keys)
    if repeated.any():
        k = int(np.argmax(repeated.to_numpy()))
        row = frame.iloc[k]
        fail(
            name,
            "one row per " + ", ".join(keys) + " (the same backtest concatenated twice "
            "would count its rows twice)",
            None,
            shown=f"{name}.loc[{_plain(frame.index[k])!r}] repeats "
            + ", ".join(f"{c}={_plain(row[c])!r}" for c in keys),
        )
    return frame


def _model_name(forecaster: Any) -> str:
    return str(getattr(forecaster, "__name__", type(forecaster).__name__))


def _origins(origins: Any, every: int | None, horizon: int, length: int) -> list[int]:
    last = length - horizon
    if is_int(origins):
        every = horizon if every is None else check_int("every", every)
        count = check_int(
            "origins",
            origins,
            high=(last - 1) // every + 1,
            context=(
                f" for a series of length {length}, horizon={horizon} and every={every} "
                "(each origin needs history before it)"
            ),
        )
        return [last - k * every for k in range(count - 1, -1, -1)]
    if every is not None:
        fail("every", "None when `origins` is a list (it spaces a number of origins)", every)
    if isinstance(origins, str | bytes) or not isinstance(origins, Sequence | np.ndarray):
        fail("origins", "a positive integer or a sequence of time positions", origins)
    out = []
    for o in origins:
        if not (is_int(o) and 1 <= o <= last):
            fail(
                "origins",
                f"positions between 1 and {last} (each origin needs history before it and "
                f"horizon={horizon} values from it on, in a series of length {length})",
                None,
                shown=f"origin {o!r}",
            )
        out.append(int(o))
    if not out:
        fail("origins", "a positive integer or a non-empty sequence of positions", origins)
    if len(set(out)) != len(out):
        fail("origins", "distinct positions", origins)
    return sorted(out)


def _targets(forecaster: Any, s: _Series) -> list[int]:
    """The feature positions the forecaster forecasts: its ``targets``, else all."""
    targets = getattr(forecaster, "targets", None)
    if targets is None:
        return list(range(s.width))
    out = [int(t) for t in targets if is_int(t) and 0 <= t < s.width]
    if len(out) != len(targets) or not out or len(set(out)) != len(out):
        fail(
            "forecaster",
            f"a forecaster whose `targets` are distinct feature positions 0..{s.width - 1}",
            None,
            shown=f"{_model_name(forecaster)} with targets={list(targets)!r}",
        )
    return out


def _forecast_array(
    values: Any, s: _Series, horizon: int, origin: int, name: str, width: int
) -> np.ndarray:
    """The forecaster's answer as ``(entities, horizon, width)``, or a named error."""
    try:
        arr = np.asarray(values, dtype="float64")
    except (TypeError, ValueError):
        arr = None
    full = (s.entities, horizon, width)
    accepted = {1: [(horizon,), (horizon, 1)], 2: [(horizon, width)], 3: [full]}[s.ndim]
    if width == 1 and s.ndim > 1:
        accepted.append(full[:-1] if s.ndim == 3 else (horizon,))
    if s.ndim == 1 and width != 1:
        accepted = [(horizon, width)]
    if arr is None or arr.shape not in accepted:
        got = "a non-numeric value" if arr is None else f"shape {arr.shape}"
        fail(
            "forecaster",
            f"a callable returning the next {horizon} values, shape {s.layout(horizon, width)}",
            None,
            shown=f"{name} returned {got} at origin {origin}",
        )
    return arr.reshape(full)


def _refuse_empty(s: _Series, origin: int, entities: Sequence[int], targets: list[int]) -> None:
    """Refuse by name an entity whose history before ``origin`` holds no reading of the
    targets while a target value from ``origin`` on is scored (a tank that starts late)."""
    for e in entities:
        if np.isfinite(s.arr[e, :origin, targets]).any():
            continue
        who = f"entity {s.entity(e)}" if s.ndim == 3 else "the series"
        fail(
            "origins",
            f"positions with a reading before them in every scored entity (the history "
            f"of {who} before origin {origin} holds no reading, so nothing can forecast "
            "it: choose a later origin, or leave "
            + ("that tank out of the array)" if s.ndim == 3 else "that origin out)"),
            None,
            shown=f"origin {origin} for {who}",
        )


def _call(forecaster: Forecaster, s: _Series, origin: int, horizon: int, targets: list[int]) -> Any:
    """``forecaster(history, horizon)`` at one origin; a refusal it raises is raised
    again with the origin (and the entity whose history is empty, if one is)."""
    try:
        return forecaster(s.history(origin), horizon)
    except ArgumentError as err:
        where = f"at origin {origin}"
        entity = getattr(err, "entity", None)  # set by the column-wise forecasters
        if is_int(entity) and s.ndim == 3 and 0 <= entity < s.entities:
            try:
                _refuse_empty(s, origin, [entity], targets)
            except ArgumentError as empty:
                raise empty from err
            where += f", entity {s.entity(entity)}"
        raise type(err)(err.name, err.rule, f"{err.received} ({where})", err.value) from err


def backtest(
    forecaster: Forecaster,
    series: Any,
    *,
    horizon: int,
    origins: int | Sequence[int],
    every: int | None = None,
    model: str | None = None,
    index: TankIndex | None = None,
) -> pd.DataFrame:
    """Forecast ``horizon`` values from each origin and tabulate them beside the truth.

    At each origin ``o`` (in increasing order) the forecaster is called as
    ``forecaster(history, horizon)`` with a fresh read-only copy of ``series[:o]``
    (``series[:, :o]`` for a tank array), nothing else: it cannot see a value at or after
    ``o``. Its answer is compared with ``series[o : o + horizon]``.

    A value that was not measured is never scored: a NaN in ``series`` (a missing step
    of a :func:`~keras_lstm_patterns.series.tanks` grid), and with ``index`` a step whose
    ``observed`` is False (a filled or padded step), has no row. The history keeps them
    as they are (NaN, or the filled value), for the forecaster to handle.

    Args:
        forecaster: ``forecaster(history, horizon) -> values`` (see :data:`Forecaster`),
            for example :func:`seasonal_naive_forecaster` or :func:`model_forecaster`.
            With a ``targets`` attribute (feature positions) it forecasts those features
            only, and only they are scored.
        series: ``(time,)``, ``(time, features)`` or a tank array
            ``(entities, time, features)``; a pandas ``Series``/``DataFrame`` keeps its
            index as the ``time`` column and its column names as ``feature``.
        horizon: how many values each forecast holds.
        origins: time positions to forecast from (each between 1 and
            ``time - horizon``), or how many origins: that many, ``every`` apart, the
            last forecast ending at the series' end (statsforecast's ``n_windows``).
        every: the distance between origins when ``origins`` is a number; default
            ``horizon`` (forecasts side by side, no overlap).
        model: the ``model`` column, so the frames of several forecasters concatenate;
            default the forecaster's ``__name__``.
        index: for a tank array, its :class:`~keras_lstm_patterns.series.TankIndex`
            (``tanks(..., return_index=True)``): entities are then named by id, each
            forecast value by its time stamp, features by name, and steps whose
            ``observed`` is False are not scored.

    Returns:
        A tidy ``DataFrame``, one row per origin, entity, feature and step, with columns
        ``model``, ``origin`` (the position of the first forecast value), ``time`` (the
        time stamp of the forecast value; pandas input or ``index`` only), ``entity``
        (tank arrays only: the id with ``index``, else the position), ``feature``
        (several features only), ``step`` (1..horizon), ``actual`` and ``forecast``.

    Raises:
        ValueError: a bad ``horizon``, an origin with no history before it or no room
            for ``horizon`` values after it, a series that is not real numbers or runs
            backwards in time, an ``index`` of another array, or a forecaster that
            returns the wrong shape or a non-finite value where a value is scored
            (named ``forecaster``); an origin before which a scored entity holds no
            reading (a tank that starts later; named ``origins``, with the entity's id),
            and origins where no target value was observed (the frame would be empty).
            A refusal the forecaster raises (``ArgumentError``) is raised again with the
            origin, and the entity for the column-wise baselines, added to it.

    >>> from keras_lstm_patterns.backtesting import seasonal_naive_forecaster
    >>> frame = backtest(seasonal_naive_forecaster(4), np.arange(24.0), horizon=4, origins=2)
    >>> frame.shape, frame["origin"].unique().tolist()
    ((8, 5), [16, 20])
    """
    if not callable(forecaster):
        fail("forecaster", "a callable `forecaster(history, horizon)`", forecaster)
    s = _Series("series", series, index)
    if s.length < 2:
        fail("series", "at least 2 steps long", None, shown=f"series with {s.length} steps")
    horizon = check_int(
        "horizon", horizon, high=s.length - 1, context=f" for a series of length {s.length}"
    )
    points = _origins(origins, every, horizon, s.length)
    if model is None:
        model = _model_name(forecaster)
    elif not isinstance(model, str):
        fail("model", "a string (the name in the `model` column)", model)
    targets = _targets(forecaster, s)

    name = _model_name(forecaster)
    forecasts = np.stack(
        [
            _forecast_array(
                _call(forecaster, s, o, horizon, targets), s, horizon, o, name, len(targets)
            )
            for o in points
        ]
    )  # (origins, entities, horizon, targets)
    o_idx, e_idx, h_idx, t_idx = np.indices(forecasts.shape).reshape(4, -1)
    origin = np.asarray(points)[o_idx]
    position = origin + h_idx
    f_idx = np.asarray(targets)[t_idx]
    keep = s.scored[e_idx, position, f_idx]
    values = forecasts.reshape(-1)
    bad = keep & ~np.isfinite(values)
    if bad.any():
        k = int(np.argmax(bad))
        o, e = int(origin[k]), int(e_idx[k])
        _refuse_empty(s, o, [e], targets)
        readings = int(np.isfinite(s.arr[e, :o, targets]).any(axis=-1).sum())
        fail(
            "forecaster",
            "a callable returning finite values (no NaN or inf) where the truth is known",
            None,
            shown=f"{name} returned {_plain(values[k])!r} at origin {o}"
            + (f" for entity {s.entity(e)}" if s.ndim == 3 else "")
            + f" (whose history before that origin holds {readings} readings)",
        )
    if not keep.any():
        fail(
            "origins",
            f"positions where some target value in the {horizon} steps from them was "
            "observed (none was, so the backtest would have no row to score; check that "
            "the targets hold readings there"
            + (
                ", and that `index.observed` is True there: a step is observed only when "
                "every feature has a reading, so select the features you forecast, "
                "e.g. `tanks(..., features=[...])`"
                if s.observed
                else ""
            )
            + ")",
            None,
            shown=f"origins={points} with no observed target",
        )
    columns: dict[str, Any] = {"model": model, "origin": origin}
    if s.time is not None:
        stamps = s.time[np.minimum(e_idx, len(s.time) - 1), position]
        columns["time"] = pd.Index(stamps, tupleize_cols=False) if s.ids is not None else stamps
    if s.ndim == 3:
        columns["entity"] = e_idx if s.ids is None else s.ids[e_idx]
    if s.width > 1:
        columns["feature"] = np.asarray(s.features, dtype=object)[f_idx]
    columns["step"] = h_idx + 1
    columns["actual"] = s.arr[e_idx, position, f_idx]
    columns["forecast"] = values
    order = np.lexsort((h_idx, f_idx, e_idx, o_idx))  # origin, entity, feature, step
    order = order[keep[order]]
    frame = pd.DataFrame(columns)
    return frame.iloc[order].reset_index(drop=True)


def score(
    frame: pd.DataFrame,
    series: Any,
    *,
    season: int = 1,
    by: str | None = None,
    index: TankIndex | None = None,
) -> pd.DataFrame:
    """RMSE, MAE and MASE per model (and feature), per step and over all steps, or per
    entity.

    MASE divides each absolute error by the mean absolute error of the seasonal naive
    forecast ``y[t] = y[t - season]`` *inside the history before that row's origin*
    (Hyndman and Koehler 2006), for that entity and feature, so it is free of units and
    below 1 where a forecaster beats the in-sample seasonal naive. ``season=1`` is the
    plain naive (persistence). Pairs with a missing value (NaN, or not ``observed`` in
    ``index``) are left out of that mean.

    Args:
        frame: :func:`backtest` output, or several concatenated (``pd.concat``), one row
            per model, origin, entity, feature and step (and ``seed``, a column that
            tells apart the runs of several seeds pooled in one frame).
        series: the series the frame was backtested on (it gives the history before
            each origin; the frame's ``actual`` column is checked against it).
        season: the seasonal period of the naive forecast that scales MASE.
        by: ``None`` for one row per model (and feature) and step, then ``"all"``;
            ``"entity"`` for one row per model (and feature) and entity, over all steps.
        index: the ``index`` the frame was backtested with (its entities are ids).

    Returns:
        A ``DataFrame`` indexed by ``model``, ``feature`` (several features only) and
        ``step`` (1..horizon, then ``"all"``: every row of that model) or ``entity``
        (``by="entity"``), with columns ``n`` (rows), ``rmse``, ``mae`` and ``mase``,
        and ``coverage`` (the share of actual values inside ``[lower, upper]``, NaN for
        a model without intervals) for a frame from :func:`conformal`.

    Raises:
        ValueError: a frame without the backtest columns, with NaN forecasts or repeated
            rows; a series that is not the frame's, a ``season`` the history before an
            origin cannot hold or holds no two known values ``season`` apart (named
            ``season``), a history whose seasonal naive error is 0, or a ``by``
            other than ``None`` and ``"entity"``.

    >>> from keras_lstm_patterns.backtesting import drift_forecaster
    >>> y = np.arange(12.0) ** 2
    >>> frame = backtest(drift_forecaster(), y, horizon=3, origins=2)
    >>> score(frame, y).loc[("drift", "all")].round(3).tolist()
    [6.0, 19.908, 17.667, 2.758]
    """
    frame = _check_frame("frame", frame)
    if by is not None:
        by = check_choice("by", by, ("entity",))
    s = _Series("series", series, index)
    origin = frame["origin"].to_numpy()
    step = frame["step"].to_numpy()
    entity = s.positions(frame)
    if "feature" in frame:
        lookup = {f: i for i, f in enumerate(s.features)}
        if not set(frame["feature"]) <= set(lookup):
            fail("series", "the series the frame was backtested on", None, shown="other features")
        feature = frame["feature"].map(lookup).to_numpy()
    else:
        feature = np.zeros(len(frame), int)
    position = origin + step - 1
    fits = (
        origin.min() >= 1
        and position.max() < s.length
        and entity.min() >= 0
        and entity.max() < s.entities
        and (s.width == 1 or "feature" in frame)
    )
    if not fits or not np.allclose(
        s.arr[entity, position, feature], frame["actual"].to_numpy(), rtol=1e-12, atol=0.0
    ):
        fail(
            "series",
            "the series the frame was backtested on (the frame's `actual` values differ)",
            None,
            shown=f"series with shape {s.arr.shape} in `(entities, time, features)`",
        )
    if by == "entity" and "entity" not in frame:
        fail("by", "None for a frame without entities (a backtest of one series)", by)
    first = int(origin.min())
    season = check_int(
        "season",
        season,
        high=first - 1,
        context=f" (the history before the first origin, {first}, must hold a season and more)",
    )
    # in-sample seasonal naive MAE of the history before each origin, from cumulative
    # sums over the pairs whose two values are both known
    known = np.where(s.scored, s.arr, np.nan)
    gaps = np.abs(known[:, season:, :] - known[:, :-season, :])  # gaps[:, t - season]
    valid = np.isfinite(gaps)
    zeros = np.zeros((s.entities, 1, s.width))
    total = np.concatenate([zeros, np.cumsum(np.where(valid, gaps, 0.0), axis=1)], axis=1)
    count = np.concatenate([zeros, np.cumsum(valid, axis=1)], axis=1)
    pairs = count[entity, origin - season, feature]
    with np.errstate(divide="ignore", invalid="ignore"):
        scale = total[entity, origin - season, feature] / pairs
    if (pairs == 0).any():
        k = int(np.argmax(pairs == 0))
        who = f" of entity {s.entity(int(entity[k]))}" if "entity" in frame else ""
        fail(
            "season",
            f"short enough that the history{who} before origin {origin[k]} holds two "
            f"known values `season` apart (MASE divides by the in-sample seasonal naive "
            "error; use a smaller season, or later origins)",
            season,
        )
    if (scale == 0).any():
        k = int(np.argmax(scale == 0))
        fail(
            "series",
            "varying before each origin (MASE divides by the in-sample seasonal naive "
            "error, which is 0 there)",
            None,
            shown=f"a constant season before origin {origin[k]}",
        )
    err = frame["forecast"].to_numpy() - frame["actual"].to_numpy()
    parts = pd.DataFrame({"sq": err**2, "abs": np.abs(err), "scaled": np.abs(err) / scale})
    intervals = {"lower", "upper"} <= set(frame.columns)
    if intervals:
        inside = (frame["lower"] <= frame["actual"]) & (frame["actual"] <= frame["upper"])
        has = frame["lower"].notna() & frame["upper"].notna()  # rows of interval models
        parts["inside"] = np.where(has, inside.to_numpy(dtype=float), np.nan)
    keys = ["model", "feature"] if "feature" in frame else ["model"]
    for k in keys:
        parts[k] = frame[k].to_numpy()

    def summary(groups: Any) -> pd.DataFrame:
        stats = {
            "n": ("sq", "size"),
            "rmse": ("sq", "mean"),
            "mae": ("abs", "mean"),
            "mase": ("scaled", "mean"),
        }
        if intervals:
            stats["coverage"] = ("inside", "mean")
        out = groups.agg(**stats)
        out["rmse"] = np.sqrt(out["rmse"])
        return out

    if by == "entity":
        parts["entity"] = frame["entity"].to_numpy()
        return summary(parts.groupby([*keys, "entity"], sort=False))
    parts["step"] = step
    by_step = summary(parts.groupby([*keys, "step"], sort=False))
    overall = summary(parts.groupby(keys, sort=False))
    rows = []
    for key, block in by_step.groupby(level=keys, sort=False):
        rows.append(block.sort_index(level="step"))
        key = key if isinstance(key, tuple) else (key,)
        total_row = overall.loc[[key[0]] if len(keys) == 1 else [key]]
        total_row.index = pd.MultiIndex.from_tuples([(*key, "all")], names=[*keys, "step"])
        rows.append(total_row)
    return pd.concat(rows)


def conformal(
    calibration: pd.DataFrame,
    frame: pd.DataFrame,
    *,
    coverage: float = 0.8,
    relative: bool = False,
) -> pd.DataFrame:
    """Prediction intervals from the errors of an earlier backtest (split conformal).

    For each model, feature and step, the interval's half-width is the
    ``ceil((n + 1) * coverage) / n`` quantile of the ``n`` absolute errors that
    ``calibration`` (a backtest at earlier origins) made at that step. If the errors of
    the later forecasts behave like the calibration errors (exchangeable), the interval
    covers the truth with probability at least ``coverage``: a guarantee that needs no
    model of the noise and works for any forecaster, Keras or classical. With
    ``relative=True`` the errors are ``|actual / forecast - 1|`` and the interval is
    ``forecast * (1 +/- width)``: for series whose spread grows with their level.

    Args:
        calibration: :func:`backtest` output at origins before those of ``frame``, with
            the same models and steps; the runs of several seeds pooled carry a ``seed``
            column (one row per model, seed, origin and step).
        frame: the :func:`backtest` output to put intervals around.
        coverage: the nominal coverage, in (0, 1).
        relative: scale the errors by the forecast.

    Returns:
        ``frame`` with two more columns, ``lower`` and ``upper``; :func:`score` then
        reports each model's ``coverage`` (the share of actual values inside).

    Raises:
        ValueError: frames without the backtest columns, a calibration frame that misses
            a (model, feature, step) of ``frame`` or has too few rows for the coverage
            (``ceil(1 / (1 - coverage)) - 1`` per step), calibration origins that are not
            all before ``frame``'s, or a ``coverage`` outside (0, 1).

    >>> from keras_lstm_patterns.backtesting import seasonal_naive_forecaster
    >>> y = np.sin(np.arange(60.0))
    >>> f = seasonal_naive_forecaster(6)
    >>> calib = backtest(f, y, horizon=2, origins=list(range(10, 40)))
    >>> test = conformal(calib, backtest(f, y, horizon=2, origins=[44, 50]), coverage=0.8)
    >>> test[["origin", "step", "actual", "lower", "upper"]].round(2)
       origin  step  actual  lower  upper
    0      44     1    0.02   0.04   0.55
    1      44     2    0.85   0.71   1.22
    2      50     1   -0.26  -0.24   0.28
    3      50     2    0.67   0.59   1.11
    >>> score(test, y)["coverage"].tolist()  # step 1, step 2, all: 4 values are too few
    [0.0, 1.0, 0.5]
    """
    calibration = _check_frame("calibration", calibration)
    frame = _check_frame("frame", frame)
    coverage = check_fraction("coverage", coverage, low=0.0)
    if coverage == 0.0:
        fail("coverage", "a number in (0, 1)", coverage)
    if calibration["origin"].max() + calibration["step"].max() - 1 >= frame["origin"].min():
        fail(
            "calibration",
            "a backtest whose forecasts all end before the first origin of `frame` (its "
            "errors must not have seen the values being covered)",
            None,
            shown=f"calibration forecasts up to position "
            f"{calibration['origin'].max() + calibration['step'].max() - 1}, frame from "
            f"origin {frame['origin'].min()}",
        )
    keys = ["model", "feature", "step"] if "feature" in frame else ["model", "step"]
    if ("feature" in frame) != ("feature" in calibration):
        fail(
            "calibration",
            "a backtest of the same models, features and steps as `frame`",
            None,
            shown="calibration "
            + ("without" if "feature" in frame else "with")
            + " a `feature` column, frame "
            + ("with" if "feature" in frame else "without"),
        )
    actual, fc = calibration["actual"].to_numpy(), calibration["forecast"].to_numpy()
    with np.errstate(divide="ignore", invalid="ignore"):
        err = np.abs(actual / fc - 1.0) if relative else np.abs(actual - fc)
    errors = pd.Series(err, index=pd.MultiIndex.from_frame(calibration[keys]))
    need_n = int(np.ceil(1.0 / (1.0 - coverage) - 1e-9)) - 1  # ceil((n+1)c) <= n
    widths = {}
    for key, group in errors.groupby(level=keys, sort=False):
        values = np.sort(group.to_numpy())
        n = len(values)
        if n < need_n or not np.isfinite(values).all():
            fail(
                "calibration",
                f"a backtest with at least {need_n} finite errors per {', '.join(keys)} "
                f"for coverage={coverage}",
                None,
                shown=f"{n} rows for {key}",
            )
        rank = min(int(np.ceil((n + 1) * coverage)), n)
        widths[key] = values[rank - 1]
    index = pd.MultiIndex.from_frame(frame[keys])
    missing = [k for k in index.unique() if k not in widths]
    if missing:
        fail(
            "calibration",
            "a backtest of the same models, features and steps as `frame`",
            None,
            shown=f"no calibration rows for {missing[0]}",
        )
    width = np.array([widths[k] for k in index])
    forecast = frame["forecast"].to_numpy()
    half = np.abs(forecast) * width if relative else width
    return frame.assign(lower=forecast - half, upper=forecast + half)
