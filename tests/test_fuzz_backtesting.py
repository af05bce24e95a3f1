"""Property-based fuzzing of the backtests: ``backtest``, ``score``, ``conformal`` and
``normalized`` on messy arguments.

The only outcomes allowed are a result that matches a plain reference (a loop over the
origins, numpy formulas for the scores and the interval widths, hand scaling), or a
``ValueError``/``TypeError`` in the package's one form, "`arg` must RULE. Received: ...",
naming one of the function's arguments. Any other exception fails.
"""

from __future__ import annotations

import re

import keras
import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from keras_lstm_patterns import many_to_one
from keras_lstm_patterns.backtesting import (
    backtest,
    conformal,
    persistence_forecaster,
    score,
)
from keras_lstm_patterns.scaling import normalized

NAMED = re.compile(r"`([^`]+)` must .+\. Received: ", re.S)
FUZZ = settings(
    max_examples=30,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)


def attempt(names, fn, *args, **kwargs):
    """``(True, result)``, or ``(False, error)`` for a ValueError/TypeError in the named
    form whose name is one of ``names``."""
    try:
        result = fn(*args, **kwargs)
    except (ValueError, TypeError) as err:
        message = str(err)
        found = NAMED.match(message)
        assert found, f"{type(err).__name__} not in the named form: {message}"
        assert found.group(1) in names, f"names {found.group(1)!r}, not one of {names}"
        event(f"refused: {found.group(1)}")
        return False, err
    event("result")
    return True, result


junk = st.one_of(
    st.none(),
    st.text(max_size=3),
    st.booleans(),
    st.floats(allow_nan=True, allow_infinity=True),
    st.just({}),
    st.just([1, "a"]),
    st.just(2**62),
)
counts = st.one_of(st.integers(1, 5), st.integers(1, 5), st.integers(-2, 40), junk)
special = st.sampled_from([np.nan, np.inf, -np.inf])


@st.composite
def series(draw):
    """Usually a valid 1-D, 2-D or 3-D float series; sometimes a special value, a strange
    dtype, a backwards time index or junk."""
    shape = draw(st.sampled_from([(30,), (24, 2), (2, 20, 1), (2, 20, 2), (1,), (0,), ()]))
    rng = np.random.default_rng(draw(st.integers(0, 2**16)))
    arr = rng.normal(size=shape).cumsum(axis=-1 if len(shape) == 1 else 0) + 5.0
    kind = draw(
        st.sampled_from(
            ["float", "float", "float", "special", "int", "complex", "bool", "str", "back"]
        )
    )
    if kind == "special" and arr.size:
        arr.flat[draw(st.integers(0, arr.size - 1))] = draw(special)
    if kind == "int":
        return arr.round().astype(int)
    if kind == "complex":
        return arr.astype(complex)
    if kind == "bool":
        return arr > 5
    if kind == "str":
        return arr.astype(str)
    if kind == "back" and arr.ndim == 1:
        stamps = pd.date_range("2024-01-01", periods=len(arr), freq="h")[::-1]
        return pd.Series(arr, index=stamps)
    return arr


def plain(series_arr) -> np.ndarray:
    """The series as ``(entities, time, features)`` float64, the reference's layout."""
    a = np.asarray(series_arr, dtype="float64")
    return {1: lambda v: v[None, :, None], 2: lambda v: v[None], 3: lambda v: v}[a.ndim](a)


def last_value(history, horizon):
    """Persistence written out for any layout, along the time axis."""
    h = np.asarray(history)
    axis = 1 if h.ndim == 3 else 0
    last = np.take(h, [h.shape[axis] - 1], axis=axis)
    return np.repeat(last, horizon, axis=axis)


@FUZZ
@given(y=series(), horizon=counts, origins=st.one_of(counts, st.lists(counts, max_size=3)))
def test_backtest(y, horizon, origins):
    ok, frame = attempt(
        ("series", "horizon", "origins", "every"),
        backtest,
        last_value,
        y,
        horizon=horizon,
        origins=origins,
    )
    if not ok:
        return
    cube = plain(y)
    for row in frame.itertuples(index=False):
        e = getattr(row, "entity", 0)
        f = getattr(row, "feature", 0)
        t = row.origin + row.step - 1
        assert row.actual == cube[e, t, f]
        assert row.forecast == cube[e, row.origin - 1, f]  # the last value before the origin
    n_origins = frame["origin"].nunique()
    assert len(frame) == n_origins * horizon * cube.shape[0] * cube.shape[2]


@FUZZ
@given(
    y=series(),
    season=counts,
    drop=st.integers(0, 5),
    nan_row=st.one_of(st.none(), st.integers(0, 5)),
    repeat=st.booleans(),
)
def test_score(y, season, drop, nan_row, repeat):
    ok, frame = attempt(
        ("series",), backtest, persistence_forecaster(), y, horizon=2, origins=3, every=2
    )
    if not ok:
        return
    frame = frame.drop(index=frame.index[: min(drop, len(frame) - 1)])
    if nan_row is not None and nan_row < len(frame):
        frame.loc[frame.index[nan_row], "forecast"] = np.nan
    if repeat:
        frame = pd.concat([frame, frame.iloc[:1]])
    ok, table = attempt(("frame", "series", "season"), score, frame, y, season=season)
    if not ok:
        return
    cube = plain(y)
    err = (frame["forecast"] - frame["actual"]).to_numpy()
    scale = []
    for row in frame.itertuples(index=False):
        e, f = getattr(row, "entity", 0), getattr(row, "feature", 0)
        h = cube[e, : row.origin, f]
        scale.append(np.mean(np.abs(h[season:] - h[:-season])))
    scaled = np.abs(err) / np.array(scale)
    if "feature" in frame:
        return  # per feature: the plain sums below are for one feature
    total = table.loc[("persistence", "all")]
    assert total["n"] == len(frame)
    np.testing.assert_allclose(total["rmse"], np.sqrt(np.mean(err**2)), rtol=1e-9)
    np.testing.assert_allclose(total["mae"], np.mean(np.abs(err)), rtol=1e-9)
    np.testing.assert_allclose(total["mase"], np.mean(scaled), rtol=1e-9)


@FUZZ
@given(
    seed=st.integers(0, 2**16),
    calib_origins=st.integers(1, 25),
    coverage=st.one_of(st.floats(0.05, 0.95), junk, st.sampled_from([0.0, 1.0, -0.5])),
    relative=st.booleans(),
)
def test_conformal(seed, calib_origins, coverage, relative):
    y = np.random.default_rng(seed).normal(size=60).cumsum() + 50.0
    f = persistence_forecaster()
    calib = backtest(f, y, horizon=2, origins=list(range(2, 2 + calib_origins)))
    frame = backtest(f, y, horizon=2, origins=[40, 50])
    ok, out = attempt(
        ("calibration", "frame", "coverage"),
        conformal,
        calib,
        frame,
        coverage=coverage,
        relative=relative,
    )
    if not ok:
        return
    for step in (1, 2):
        c = calib[calib["step"] == step]
        err = (
            np.abs(c["actual"] / c["forecast"] - 1)
            if relative
            else (c["actual"] - c["forecast"]).abs()
        )
        ranked = np.sort(err.to_numpy())
        n = len(ranked)
        width = ranked[min(int(np.ceil((n + 1) * coverage)), n) - 1]
        mine = out[out["step"] == step]
        half = np.abs(mine["forecast"]) * width if relative else width
        np.testing.assert_allclose(mine["upper"], mine["forecast"] + half)
        np.testing.assert_allclose(mine["lower"], mine["forecast"] - half)


@pytest.fixture(scope="module")
def tiny():
    keras.utils.set_random_seed(0)
    return many_to_one(3, 2, 2, outputs=1)


@settings(FUZZ, max_examples=8)
@given(
    x=st.one_of(st.just("valid"), st.just("valid"), series(), junk),
    y_len=st.sampled_from([None, None, -1, -6]),
    seed=st.integers(0, 2**16),
)
def test_normalized(tiny, x, y_len, seed):
    rng = np.random.default_rng(seed)
    xs = rng.normal(100.0, 5.0, size=(6, 3, 2)) if isinstance(x, str) and x == "valid" else x
    ys = rng.normal(20.0, 2.0, size=(6, 1))
    n = len(xs) if isinstance(xs, np.ndarray) and xs.ndim else 6
    y = ys[:n] if y_len is None else ys[: max(n + y_len, 0)]  # as many, one fewer, none
    ok, model = attempt(("model", "x", "y"), normalized, tiny, xs, y)
    if not ok:
        return
    xa = np.asarray(xs, dtype="float64")
    mx, sx = xa.reshape(-1, 2).mean(0), xa.reshape(-1, 2).std(0)
    want = keras.ops.convert_to_numpy(tiny(((xa - mx) / np.maximum(sx, 1e-7)).astype("float32")))
    want = want * y.std() + y.mean()
    np.testing.assert_allclose(model.predict(xs, verbose=0), want, rtol=1e-3, atol=1e-3)


@settings(FUZZ, max_examples=15)
@given(
    seed=st.integers(0, 2**16),
    drop=st.floats(0.0, 0.4),
    horizon=st.integers(1, 3),
    by=st.sampled_from([None, "entity", "tank"]),
)
def test_backtest_and_score_per_tank(seed, drop, horizon, by):
    """Random tanks with missing readings on one hourly grid: every row is a measured
    target named by id and time stamp, the rows equal a loop, per-entity scores equal
    pandas."""
    from keras_lstm_patterns.series import tanks

    rng = np.random.default_rng(seed)
    stamps = pd.date_range("2024-01-01", periods=16, freq="h")
    rows = [
        {"id": tank, "t": t, "v": 10.0 + rng.normal()}
        for tank in ("a", "b", "c")
        for t in stamps
        if rng.random() >= drop or t in (stamps[0], stamps[-1])
    ]
    x, index = tanks(
        pd.DataFrame(rows), id="id", time="t", features="v", freq="h", return_index=True
    )
    f = persistence_forecaster()
    ok, frame = attempt(
        ("series", "horizon", "origins"),
        backtest,
        f,
        x,
        horizon=horizon,
        origins=[6, 9, 12],
        index=index,
    )
    if not ok:
        return
    want = []
    for o in (6, 9, 12):
        for e, tank in enumerate(index.ids):
            known = x[e, :o, 0][~np.isnan(x[e, :o, 0])]
            for k in range(horizon):
                if index.observed[e, o + k] and np.isfinite(x[e, o + k, 0]) and len(known):
                    want.append((o, stamps[o + k], tank, k + 1, x[e, o + k, 0], known[-1]))
    got = frame[["origin", "time", "entity", "step", "actual", "forecast"]]
    assert [tuple(r) for r in got.itertuples(index=False, name=None)] == want
    ok, table = attempt(
        ("frame", "series", "season", "by", "index"), score, frame, x, by=by, index=index
    )
    if not ok or by is None:
        return
    for tank, group in frame.groupby("entity"):
        err = group["forecast"] - group["actual"]
        np.testing.assert_allclose(
            table.loc[("persistence", tank), "rmse"], np.sqrt((err**2).mean())
        )
