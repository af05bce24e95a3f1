"""Rolling-origin backtests: score a forecaster at many origins, beside classical models.

One train/test split scores a model on one stretch of months, chosen once. A backtest
forecasts from many origins: at each origin the forecaster sees only the history
before it and returns the next ``horizon`` values, which are compared with what came
(darts' ``historical_forecasts``/``backtest``, statsforecast's ``cross_validation``).

A *forecaster* is any callable ``forecaster(history, horizon) -> values``. The
history is a fresh read-only copy of ``series[:origin]`` (for a tank array
``series[:, :origin]``): a forecaster cannot read a value at or after its origin, so
:func:`backtest` cannot leak the future by construction. The factories below make
forecasters of the baselines (:mod:`keras_lstm_patterns.baselines`), of classical
models fitted at each origin (SARIMA and exponential smoothing, with the optional
``statsmodels``: ``pip install keras_lstm_patterns[classical]``), and of a Keras model
trained at each origin (:func:`model_forecaster`).

>>> import numpy as np
>>> frame = backtest(persistence_forecaster(), np.arange(10.0), horizon=2, origins=3)
>>> frame[["origin", "step", "actual", "forecast"]].head(3)
   origin  step  actual  forecast
0       4     1     4.0       3.0
1       4     2     5.0       3.0
2       6     1     6.0       5.0
>>> float(score(frame, np.arange(10.0)).loc[("persistence", "all"), "mase"])
1.5
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import pandas as pd

from . import baselines
from ._checks import as_array, check_choice, check_fraction, check_int, fail, is_int
from .windows import look_back as _look_back

__all__ = [
    "Forecaster",
    "autoregression_forecaster",
    "backtest",
    "conformal",
    "differencing",
    "drift_forecaster",
    "ets_forecaster",
    "model_forecaster",
    "persistence_forecaster",
    "sarima_forecaster",
    "score",
    "seasonal_naive_forecaster",
    "seasonal_random_walk_forecaster",
]

Forecaster = Callable[[np.ndarray, int], Any]
"""``forecaster(history, horizon) -> values``: the history in the series' own layout,
``(time,)``, ``(time, features)`` or ``(entities, time, features)``, and the next
``horizon`` values in the same layout (``(horizon,)``, ``(horizon, features)`` or
``(entities, horizon, features)``; a features axis of 1 may be left out)."""


# ----------------------------------------------------------------------------------------
# The series: one canonical (entities, time, features) array plus its labels


class _Series:
    """A series as ``(entities, time, features)`` float64, with its layout and labels."""

    def __init__(self, name: str, series: Any):
        self.time: np.ndarray | None = None
        self.features: list[Any] | None = None
        # the windows' real-array check: real numbers only, a time index in time order
        raw = as_array(name, series)
        if isinstance(series, pd.Series | pd.DataFrame):
            self.time = series.index.to_numpy()
            if isinstance(series, pd.DataFrame):
                self.features = list(series.columns)
        arr = raw.astype("float64")
        if arr.ndim not in (1, 2, 3):
            fail(
                name,
                "1-D `(time,)`, 2-D `(time, features)` or 3-D `(entities, time, features)`",
                None,
                shown=f"{name} with shape {arr.shape}",
            )
        self.ndim = arr.ndim
        self.arr = {1: lambda a: a[None, :, None], 2: lambda a: a[None], 3: lambda a: a}[arr.ndim](
            arr
        )
        if 0 in self.arr.shape:
            fail(name, "non-empty", None, shown=f"{name} with shape {arr.shape}")
        if not np.isfinite(self.arr).all():
            bad = tuple(int(i) for i in np.argwhere(~np.isfinite(arr))[0])
            fail(name, "finite (no NaN or inf)", None, shown=f"{name}{list(bad)}={arr[bad]!r}")
        self.entities, self.length, self.width = self.arr.shape
        if self.features is None:
            self.features = list(range(self.width))

    def history(self, origin: int) -> np.ndarray:
        """A fresh read-only copy of everything before ``origin``, in the input's layout."""
        h = self.arr[:, :origin, :].copy()
        h = {1: h[0, :, 0], 2: h[0], 3: h}[self.ndim]
        h.flags.writeable = False
        return h

    def layout(self, steps: str | int) -> str:
        return {
            1: f"({steps},)",
            2: f"({steps}, {self.width})",
            3: f"({self.entities}, {steps}, {self.width})",
        }[self.ndim]


def _plain(value: Any) -> Any:
    """A numpy scalar as its Python value, for messages (``3``, not ``np.int64(3)``)."""
    return value.item() if isinstance(value, np.generic) else value


_FRAME_COLUMNS = ("model", "origin", "step", "actual", "forecast")


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
    keys = [c for c in ("model", "origin", "entity", "feature", "step") if c in frame]
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


def _forecast_array(values: Any, s: _Series, horizon: int, origin: int, name: str) -> np.ndarray:
    """The forecaster's answer as ``(entities, horizon, features)``, or a named error."""
    try:
        arr = np.asarray(values, dtype="float64")
    except (TypeError, ValueError):
        arr = None
    full = (s.entities, horizon, s.width)
    accepted = {1: [(horizon,), (horizon, 1)], 2: [(horizon, s.width)], 3: [full]}[s.ndim]
    if s.width == 1 and s.ndim > 1:
        accepted.append(full[:-1] if s.ndim == 3 else (horizon,))
    if arr is None or arr.shape not in accepted:
        got = "a non-numeric value" if arr is None else f"shape {arr.shape}"
        fail(
            "forecaster",
            f"a callable returning the next {horizon} values, shape {s.layout(horizon)}",
            None,
            shown=f"{name} returned {got} at origin {origin}",
        )
    if not np.isfinite(arr).all():
        fail(
            "forecaster",
            "a callable returning finite values (no NaN or inf)",
            None,
            shown=f"{name} returned {arr.ravel()[~np.isfinite(arr.ravel())][0]!r} "
            f"at origin {origin}",
        )
    return arr.reshape(full)


def backtest(
    forecaster: Forecaster,
    series: Any,
    *,
    horizon: int,
    origins: int | Sequence[int],
    every: int | None = None,
    model: str | None = None,
) -> pd.DataFrame:
    """Forecast ``horizon`` values from each origin and tabulate them beside the truth.

    At each origin ``o`` (in increasing order) the forecaster is called as
    ``forecaster(history, horizon)`` with a fresh read-only copy of ``series[:o]``
    (``series[:, :o]`` for a tank array), nothing else: it cannot see a value at or after
    ``o``. Its answer is compared with ``series[o : o + horizon]``.

    Args:
        forecaster: ``forecaster(history, horizon) -> values`` (see :data:`Forecaster`),
            for example :func:`seasonal_naive_forecaster` or :func:`model_forecaster`.
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

    Returns:
        A tidy ``DataFrame``, one row per origin, entity, feature and step, with columns
        ``model``, ``origin`` (the position of the first forecast value), ``time`` (the
        index label of the forecast value; pandas input only), ``entity`` (tank arrays
        only), ``feature`` (several features only), ``step`` (1..horizon), ``actual``
        and ``forecast``.

    Raises:
        ValueError: a bad ``horizon``, an origin with no history before it or no room
            for ``horizon`` values after it, or a forecaster that returns the wrong
            shape or a non-finite value (named ``forecaster``).

    >>> frame = backtest(seasonal_naive_forecaster(4), np.arange(24.0), horizon=4, origins=2)
    >>> frame.shape, frame["origin"].unique().tolist()
    ((8, 5), [16, 20])
    """
    if not callable(forecaster):
        fail("forecaster", "a callable `forecaster(history, horizon)`", forecaster)
    s = _Series("series", series)
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

    name = _model_name(forecaster)
    forecasts = np.stack(
        [_forecast_array(forecaster(s.history(o), horizon), s, horizon, o, name) for o in points]
    )  # (origins, entities, horizon, features)
    o_idx, e_idx, h_idx, f_idx = np.indices(forecasts.shape).reshape(4, -1)
    origin = np.asarray(points)[o_idx]
    position = origin + h_idx
    columns: dict[str, Any] = {"model": model, "origin": origin}
    if s.time is not None:
        columns["time"] = s.time[position]
    if s.ndim == 3:
        columns["entity"] = e_idx
    if s.width > 1:
        columns["feature"] = np.asarray(s.features, dtype=object)[f_idx]
    columns["step"] = h_idx + 1
    columns["actual"] = s.arr[e_idx, position, f_idx]
    columns["forecast"] = forecasts.reshape(-1)
    order = np.lexsort((h_idx, f_idx, e_idx, o_idx))  # origin, entity, feature, step
    frame = pd.DataFrame(columns)
    return frame.iloc[order].reset_index(drop=True)


def score(frame: pd.DataFrame, series: Any, *, season: int = 1) -> pd.DataFrame:
    """RMSE, MAE and MASE per model (and feature), per step and over all steps.

    MASE divides each absolute error by the mean absolute error of the seasonal naive
    forecast ``y[t] = y[t - season]`` *inside the history before that row's origin*
    (Hyndman and Koehler 2006), for that entity and feature, so it is free of units and
    below 1 where a forecaster beats the in-sample seasonal naive. ``season=1`` is the
    plain naive (persistence).

    Args:
        frame: :func:`backtest` output, or several concatenated (``pd.concat``).
        series: the series the frame was backtested on (it gives the history before
            each origin; the frame's ``actual`` column is checked against it).
        season: the seasonal period of the naive forecast that scales MASE.

    Returns:
        A ``DataFrame`` indexed by ``model``, ``feature`` (several features only) and
        ``step`` (1..horizon, then ``"all"``: every row of that model), with columns
        ``n`` (rows), ``rmse``, ``mae`` and ``mase``, and ``coverage`` (the share of
        actual values inside ``[lower, upper]``) for a frame from :func:`conformal`.

    Raises:
        ValueError: a frame without the backtest columns, a series that is not the
            frame's, a ``season`` the history before an origin cannot hold, or a
            history whose seasonal naive error is 0.

    >>> y = np.arange(12.0) ** 2
    >>> frame = backtest(drift_forecaster(), y, horizon=3, origins=2)
    >>> score(frame, y).loc[("drift", "all")].round(3).tolist()
    [6.0, 19.908, 17.667, 2.758]
    """
    frame = _check_frame("frame", frame)
    s = _Series("series", series)
    origin = frame["origin"].to_numpy()
    step = frame["step"].to_numpy()
    entity = frame["entity"].to_numpy() if "entity" in frame else np.zeros(len(frame), int)
    if "feature" in frame:
        lookup = {f: i for i, f in enumerate(s.features)}
        if not set(frame["feature"]) <= set(lookup):
            fail("series", "the series the frame was backtested on", None, shown="other features")
        feature = frame["feature"].map(lookup).to_numpy()
    else:
        feature = np.zeros(len(frame), int)
    position = origin + step - 1
    fits = (
        len(frame) > 0
        and origin.min() >= 1
        and position.max() < s.length
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
    first = int(origin.min())
    season = check_int(
        "season",
        season,
        high=first - 1,
        context=f" (the history before the first origin, {first}, must hold a season and more)",
    )
    # in-sample seasonal naive MAE of the history before each origin, from cumulative sums
    gaps = np.abs(s.arr[:, season:, :] - s.arr[:, :-season, :])  # gaps[:, t - season]
    cum = np.concatenate([np.zeros((s.entities, 1, s.width)), np.cumsum(gaps, axis=1)], axis=1)
    scale = cum[entity, origin - season, feature] / (origin - season)
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
    parts["step"] = step

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

    by_step = summary(parts.groupby([*keys, "step"], sort=False))
    overall = summary(parts.groupby(keys, sort=False))
    rows = []
    for key, block in by_step.groupby(level=keys, sort=False):
        rows.append(block.sort_index(level="step"))
        key = key if isinstance(key, tuple) else (key,)
        total = overall.loc[[key[0]] if len(keys) == 1 else [key]]
        total.index = pd.MultiIndex.from_tuples([(*key, "all")], names=[*keys, "step"])
        rows.append(total)
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
            the same models and steps.
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


# ----------------------------------------------------------------------------------------
# Forecasters: baselines, classical models fitted at each origin, Keras models


def _named(fn: Callable[..., Any], name: str) -> Callable[..., Any]:
    fn.__name__ = fn.__qualname__ = name
    return fn


def _columnwise(one: Callable[[np.ndarray, int], Any], name: str) -> Forecaster:
    """A forecaster applying a 1-D ``one(history, horizon)`` to every entity and feature."""

    def forecaster(history: np.ndarray, horizon: int) -> np.ndarray:
        h = np.asarray(history, dtype="float64")
        if h.ndim == 1:
            return np.asarray(one(h, horizon), dtype="float64")
        cube = h[None] if h.ndim == 2 else h
        out = np.empty((cube.shape[0], horizon, cube.shape[2]))
        for e in range(cube.shape[0]):
            for f in range(cube.shape[2]):
                out[e, :, f] = one(cube[e, :, f], horizon)
        return out[0] if h.ndim == 2 else out

    return _named(forecaster, name)


def persistence_forecaster() -> Forecaster:
    """Repeat the last value: ``y_hat[o + k] = y[o - 1]``.

    >>> persistence_forecaster()(np.array([1.0, 3.0]), 2)
    array([3., 3.])
    """
    return _columnwise(lambda h, n: np.full(n, h[-1]), "persistence")


def seasonal_naive_forecaster(period: int = 12) -> Forecaster:
    """Repeat the last ``period`` values (``baselines.seasonal_naive_rollout``).

    >>> seasonal_naive_forecaster(2)(np.array([1.0, 2.0, 3.0]), 3)
    array([2., 3., 2.])
    """
    period = check_int("period", period)
    return _columnwise(
        lambda h, n: baselines.seasonal_naive_rollout(h, n, period), f"seasonal naive ({period})"
    )


def drift_forecaster() -> Forecaster:
    """The last value plus the average change of the history per step (the random walk
    with drift): ``y_hat[o - 1 + k] = y[o - 1] + k (y[o - 1] - y[0]) / (o - 1)``.

    >>> drift_forecaster()(np.array([1.0, 2.0, 4.0]), 2)
    array([5.5, 7. ])
    """

    def one(h: np.ndarray, n: int) -> np.ndarray:
        if len(h) < 2:
            fail("history", "at least 2 values long for the drift", None, shown=f"{len(h)} value")
        return h[-1] + np.arange(1, n + 1) * (h[-1] - h[0]) / (len(h) - 1)

    return _columnwise(one, "drift")


def autoregression_forecaster(order: int, *, ridge: float = 0.0) -> Forecaster:
    """A linear AR(``order``) with intercept, least squares on the history, rolled out
    (``baselines.autoregression_rollout``).

    >>> autoregression_forecaster(1)(2.0 ** np.arange(6), 2).round(6)
    array([ 64., 128.])
    """
    order = check_int("order", order)
    return _columnwise(
        lambda h, n: baselines.autoregression_rollout(h, order, n, ridge=ridge), f"AR({order})"
    )


def seasonal_random_walk_forecaster(
    period: int = 12, *, ar_order: int | None = None, ridge: float = 0.0
) -> Forecaster:
    """The seasonal random walk on logs rolled out (``baselines.seasonal_random_walk_rollout``):
    the last value times last year's same-step changes, for positive series.

    With ``ar_order``, a linear AR of what the walk leaves unexplained,
    ``w[t] = log y[t] - log y[t-1] - log y[t-period] + log y[t-period-1]``, is fitted on
    the history and its rollout corrects the walk (the airline recipes' linear models).

    >>> seasonal_random_walk_forecaster(2)(np.array([1.0, 2.0, 2.0, 4.0]), 2)
    array([4., 8.])
    """
    period = check_int("period", period)
    ar_order = None if ar_order is None else check_int("ar_order", ar_order)

    def one(h: np.ndarray, n: int) -> np.ndarray:
        if (h <= 0).any():
            fail("history", "positive (the walk runs on logs)", None, shown=f"min {h.min()!r}")
        corrections = None
        if ar_order is not None:
            logy = np.log(h)
            w = logy[period + 1 :] - logy[period:-1] - logy[1:-period] + logy[: -period - 1]
            corrections = baselines.autoregression_rollout(w, ar_order, n, ridge=ridge)
        return baselines.seasonal_random_walk_rollout(h, n, period, corrections=corrections)

    name = f"seasonal random walk ({period})"
    return _columnwise(one, name if ar_order is None else f"{name} + AR({ar_order}) on w")


def _statsmodels(what: str) -> Any:
    try:
        import statsmodels.tsa.api as tsa
    except ImportError:
        raise ImportError(
            f"{what} needs statsmodels: pip install keras_lstm_patterns[classical]"
        ) from None
    return tsa


def _orders(name: str, value: Any, form: str) -> tuple[int, ...]:
    """A statsmodels order such as ``(p, d, q)``: that many non-negative integers."""
    size = form.count(",") + 1
    ok = (
        isinstance(value, tuple | list)
        and len(value) == size
        and all(is_int(v) and v >= 0 for v in value)
    )
    if not ok:
        fail(name, f"{size} non-negative integers {form}", value)
    return tuple(int(v) for v in value)


def _quiet_fit(fit: Callable[[], Any], caught: list | None = None) -> Any:
    """Run a statsmodels fit without its optimiser warnings (convergence, starting
    parameters): at dozens of origins they are noise, and the forecasts are checked.
    With a list ``caught``, statsmodels' estimation warnings (too few observations for
    the starting parameters) are appended to it for the caller to read."""
    from statsmodels.tools import sm_exceptions

    with warnings.catch_warnings(record=caught is not None) as inner:
        for category in (sm_exceptions.ConvergenceWarning, sm_exceptions.ValueWarning):
            warnings.simplefilter("ignore", category)
        warnings.filterwarnings("ignore", category=UserWarning, module="statsmodels")
        warnings.filterwarnings("ignore", category=RuntimeWarning, module="statsmodels")
        # last, so it comes first: recorded for the caller, or ignored
        keep = "ignore" if caught is None else "always"
        warnings.simplefilter(keep, sm_exceptions.EstimationWarning)
        out = fit()
    if caught is not None:
        caught.extend(w for w in inner if issubclass(w.category, sm_exceptions.EstimationWarning))
    return out


def _log_or_not(h: np.ndarray, log: bool) -> np.ndarray:
    if log and (h <= 0).any():
        fail("history", "positive when log=True", None, shown=f"min {h.min()!r}")
    return np.log(h) if log else h


def sarima_forecaster(
    order: tuple[int, int, int] = (0, 1, 1),
    seasonal_order: tuple[int, int, int, int] = (0, 1, 1, 12),
    *,
    log: bool = True,
    trend: str | None = None,
) -> Forecaster:
    """A SARIMA fitted by maximum likelihood at each origin (statsmodels' ``SARIMAX``).

    The default is the airline model of Box and Jenkins, ``(0,1,1)(0,1,1)12`` on logs;
    forecasts on logs are mapped back with ``exp`` (the median forecast). Needs the
    ``classical`` extra.

    Args:
        order: ``(p, d, q)``.
        seasonal_order: ``(P, D, Q, s)``.
        log: fit on ``log(y)`` (positive series).
        trend: statsmodels' ``trend`` (``None``, ``"c"``, ``"t"``, ``"ct"``).

    Returns:
        A forecaster named ``SARIMA(p,d,q)(P,D,Q)s``.
    """
    order = _orders("order", order, "(p, d, q)")
    seasonal_order = _orders("seasonal_order", seasonal_order, "(P, D, Q, s)")
    tsa = _statsmodels("sarima_forecaster")
    p, d, q = order
    sp, sd, sq, s = seasonal_order
    # statsmodels estimates its starting parameters by conditional least squares on the
    # differenced series, with lags up to 3 * q for the MA part and p for the AR part
    # (and the same with P*s and Q*s for the seasonal part); with fewer values it sets
    # them to 0 and fits on nothing, returning a flat forecast.
    minimum = d + sd * s + max(3 * q, p, 3 * sq * s, sp * s) + 1

    def one(h: np.ndarray, n: int) -> np.ndarray:
        if len(h) < minimum:
            fail(
                "history",
                f"at least {minimum} values long for SARIMA{order}{seasonal_order} "
                f"(d + D*s = {d + sd * s} values go to differencing and "
                f"{minimum - d - sd * s} more estimate its parameters)",
                None,
                shown=f"a history of {len(h)} values",
            )
        z = _log_or_not(h, log)
        model = tsa.SARIMAX(z, order=order, seasonal_order=seasonal_order, trend=trend)
        caught: list = []
        fitted = _quiet_fit(lambda: model.fit(disp=False), caught)
        if any("Too few observations" in str(w.message) for w in caught):
            fail(
                "history",
                f"long enough for SARIMA{order}{seasonal_order} to estimate its "
                "parameters (statsmodels: too few observations)",
                None,
                shown=f"a history of {len(h)} values",
            )
        out = np.asarray(fitted.forecast(n))
        return np.exp(out) if log else out

    name = f"SARIMA({p},{d},{q})({sp},{sd},{sq}){s}" + (" on logs" if log else "")
    return _columnwise(one, name)


def ets_forecaster(
    period: int | None = 12,
    *,
    trend: str | None = "add",
    seasonal: str | None = "add",
    damped: bool = False,
    log: bool = True,
) -> Forecaster:
    """Exponential smoothing (Holt-Winters) fitted at each origin (statsmodels'
    ``ExponentialSmoothing``). Needs the ``classical`` extra.

    Args:
        period: the seasonal period (``None`` with ``seasonal=None``).
        trend: ``"add"``, ``"mul"`` or ``None``.
        seasonal: ``"add"``, ``"mul"`` or ``None``.
        damped: a damped trend.
        log: fit on ``log(y)``; additive seasonality on logs is multiplicative on ``y``.

    Returns:
        A forecaster named ``ETS(trend,seasonal[,damped])``.
    """
    tsa = _statsmodels("ets_forecaster")
    if seasonal is not None:
        period = check_int("period", period, low=2)

    def one(h: np.ndarray, n: int) -> np.ndarray:
        z = _log_or_not(h, log)
        model = tsa.ExponentialSmoothing(
            z,
            trend=trend,
            seasonal=seasonal,
            seasonal_periods=period if seasonal else None,
            damped_trend=damped,
        )
        out = np.asarray(_quiet_fit(model.fit).forecast(n))
        return np.exp(out) if log else out

    parts = [str(trend), str(seasonal)] + (["damped"] if damped else [])
    return _columnwise(one, f"ETS({','.join(parts)})" + (" on logs" if log else ""))


# ----------------------------------------------------------------------------------------
# Keras models as forecasters

Transform = Callable[[np.ndarray], tuple[np.ndarray, Callable[[np.ndarray], np.ndarray]]]
"""``transform(history) -> (z, inverse)``: the history as ``(entities, time, features)``
to the series the model learns, and ``inverse(z_forecast)`` mapping the model's
``(entities, horizon, features)`` forecast of ``z`` back to the history's units. Every
statistic it uses comes from the history it is given."""


def differencing(lags: Sequence[int] = (1,), *, log: bool = False, scale: bool = True) -> Transform:
    """A :data:`Transform`: optional logs, then differences at each lag, then division by
    the standard deviation of the result (per feature, from the history only).

    ``lags=(1, 12)`` with ``log=True`` gives the airline recipes' series
    ``w[t] = log y[t] - log y[t-1] - log y[t-12] + log y[t-13]``; the inverse integrates
    forecasts of ``z`` back onto the end of the history.

    >>> z, inverse = differencing((1,), scale=False)(np.array([[[1.0], [3.0], [6.0]]]))
    >>> z[0, :, 0], inverse(np.array([[[4.0], [5.0]]]))[0, :, 0]
    (array([2., 3.]), array([10., 15.]))
    """
    if is_int(lags):
        lags = (lags,)
    lags = tuple(check_int("lags", d) for d in lags)

    def transform(history: np.ndarray) -> tuple[np.ndarray, Callable[[np.ndarray], np.ndarray]]:
        v = np.asarray(history, dtype="float64")
        if log:
            if (v <= 0).any():
                fail("history", "positive when log=True", None, shown=f"min {v.min()!r}")
            v = np.log(v)
        levels = []
        for d in lags:
            if v.shape[1] <= d:
                fail("history", f"longer than the lag {d}", None, shown=f"{v.shape[1]} steps")
            levels.append(v)
            v = v[:, d:] - v[:, :-d]
        sd = v.std(axis=(0, 1), keepdims=True) if scale else np.ones((1, 1, v.shape[2]))
        sd[sd == 0] = 1.0

        def inverse(zf: np.ndarray) -> np.ndarray:
            w = np.asarray(zf, dtype="float64") * sd
            for d, u in zip(reversed(lags), reversed(levels)):
                ext = np.concatenate([u[:, -d:], np.empty_like(w)], axis=1)
                for i in range(w.shape[1]):
                    ext[:, d + i] = ext[:, i] + w[:, i]
                w = ext[:, d:]
            return np.exp(w) if log else w

        return v / sd, inverse

    return transform


def _identity(history: np.ndarray) -> tuple[np.ndarray, Callable[[np.ndarray], np.ndarray]]:
    return np.asarray(history, dtype="float64"), lambda zf: zf


def model_forecaster(
    build: Callable[[], Any],
    *,
    look_back: int,
    fit_kwargs: dict[str, Any] | None = None,
    mode: str = "recursive",
    refit: str = "each",
    fine_tune_epochs: int | None = None,
    transform: Transform | None = None,
    compile_kwargs: dict[str, Any] | None = None,
    seed: int | None = None,
    name: str | None = None,
) -> Forecaster:
    """A Keras model trained at each origin, as a forecaster.

    At an origin the history is transformed (``transform``, statistics from the history
    only), cut into look-back windows (``windows.look_back``; a tank history gives the
    windows of every entity) and the model is fitted on them; then it forecasts:

    - ``mode="recursive"``: the model maps ``(batch, look_back, features)`` to the next
      step ``(batch, features)`` (``many_to_one(look_back, F, units, outputs=F)``); the
      forecast feeds each predicted step back into the window, ``horizon`` times.
    - ``mode="direct"``: the model maps a window to all ``horizon`` steps at once,
      ``(batch, horizon * features)`` or ``(batch, horizon, features)``, trained on
      ``windows.look_back(z, look_back, horizon=horizon)``.

    ``refit="each"`` (the default) builds a fresh model at every origin, so each
    origin's forecast is exactly what one train/test split at that origin would give and
    the score does not depend on the order of the origins; it costs a full training per
    origin. ``refit="fine_tune"`` builds and trains once, at the first origin, then
    continues training the same weights for ``fine_tune_epochs`` at each later origin:
    cheaper, but a different procedure (the model has seen each window many times more
    than a fresh one would). A history that does not extend the previous one (a new
    backtest, or an earlier origin) starts again from a fresh model, so fine-tuning never
    trains on values at or after an origin.

    Args:
        build: a callable returning a new Keras model (compiled, or compiled here with
            ``compile_kwargs``).
        look_back: steps per input window.
        fit_kwargs: keyword arguments of ``model.fit`` (``epochs``, ``batch_size``...);
            ``verbose`` defaults to 0.
        mode: ``"recursive"`` or ``"direct"``.
        refit: ``"each"`` or ``"fine_tune"``.
        fine_tune_epochs: epochs at each origin after the first with ``"fine_tune"``;
            default the ``epochs`` of ``fit_kwargs``.
        transform: a :data:`Transform` such as :func:`differencing`; default none.
        compile_kwargs: for a model ``build`` returns uncompiled; default
            ``{"optimizer": "adam", "loss": "mse"}``.
        seed: ``keras.utils.set_random_seed(seed)`` before each new model.
        name: the forecaster's name (the backtest's ``model`` column).

    Returns:
        A forecaster for :func:`backtest`.

    >>> from keras_lstm_patterns import many_to_one
    >>> f = model_forecaster(lambda: many_to_one(4, 1, 2, outputs=1), look_back=4,
    ...                      fit_kwargs={"epochs": 1}, seed=0)
    >>> f(np.sin(np.arange(30.0)), 3).shape
    (3,)
    """
    if not callable(build):
        fail("build", "a callable returning a new Keras model", build)
    look_back = check_int("look_back", look_back)
    mode = check_choice("mode", mode, ("recursive", "direct"))
    refit = check_choice("refit", refit, ("each", "fine_tune"))
    if fit_kwargs is not None and not isinstance(fit_kwargs, dict):
        fail("fit_kwargs", "None or a dict of `model.fit` arguments", fit_kwargs)
    fit_kwargs = dict(fit_kwargs or {})
    fit_kwargs.setdefault("verbose", 0)
    if fine_tune_epochs is not None:
        fine_tune_epochs = check_int("fine_tune_epochs", fine_tune_epochs)
    transform = _identity if transform is None else transform
    if not callable(transform):
        fail("transform", "None or a callable `transform(history) -> (z, inverse)`", transform)
    compile_kwargs = compile_kwargs or {"optimizer": "adam", "loss": "mse"}
    state: dict[str, Any] = {"model": None, "history": None}

    def new_model() -> Any:
        import keras

        if seed is not None:
            keras.utils.set_random_seed(seed)
        model = build()
        if not isinstance(model, keras.Model):
            fail("build", "a callable returning a Keras model", None, shown=repr(model))
        from ._model import stateful_layers

        if stateful_layers(model):
            fail(
                "build",
                "a callable returning a model without stateful layers (it is fitted on "
                "shuffled windows in batches of any size; build it with stateful=False)",
                None,
                shown=f"model {model.name!r} with stateful layer "
                f"{stateful_layers(model)[0].name!r}",
            )
        if not model.compiled:
            model.compile(**compile_kwargs)
        return model

    def forecaster(history: np.ndarray, horizon: int) -> np.ndarray:
        h = np.asarray(history, dtype="float64")
        cube = {1: lambda a: a[None, :, None], 2: lambda a: a[None], 3: lambda a: a}[h.ndim](h)
        z, inverse = transform(cube)
        z = np.asarray(z, dtype="float32")
        x, y = _look_back(z, look_back, horizon=1 if mode == "recursive" else horizon)
        prev = state["history"]
        extends = (
            refit == "fine_tune"
            and state["model"] is not None
            and prev.shape[0] == cube.shape[0]
            and prev.shape[2] == cube.shape[2]
            and prev.shape[1] < cube.shape[1]
            and np.array_equal(prev, cube[:, : prev.shape[1]])
        )
        kwargs = dict(fit_kwargs)
        if extends:
            model = state["model"]
            if fine_tune_epochs is not None:
                kwargs["epochs"] = fine_tune_epochs
        else:
            model = new_model()
        out_shape = tuple(model.output_shape[1:])
        want = cube.shape[2] * (1 if mode == "recursive" else horizon)
        if int(np.prod(out_shape)) != want:
            fail(
                "build",
                f"a model with {want} outputs per window ({mode} mode: "
                + ("the next step's features)" if mode == "recursive" else "horizon x features)"),
                None,
                shown=f"output shape {(None, *out_shape)}",
            )
        model.fit(x, np.asarray(y).reshape((len(y), *out_shape)), **kwargs)
        if refit == "fine_tune":
            state["model"], state["history"] = model, cube.copy()
        window = z[:, -look_back:, :]  # (entities, look_back, features)
        if mode == "direct":
            zf = np.asarray(model.predict_on_batch(window)).reshape(
                (len(window), horizon, cube.shape[2])
            )
        else:
            steps = []
            for _ in range(horizon):
                nxt = np.asarray(model.predict_on_batch(window)).reshape(len(window), 1, -1)
                steps.append(nxt)
                window = np.concatenate([window[:, 1:], nxt.astype("float32")], axis=1)
            zf = np.concatenate(steps, axis=1)
        out = np.asarray(inverse(zf), dtype="float64")
        return {1: lambda a: a[0, :, 0], 2: lambda a: a[0], 3: lambda a: a}[h.ndim](out)

    label = name or f"{getattr(build, '__name__', 'model')} ({mode}, refit {refit})"
    return _named(forecaster, label)
