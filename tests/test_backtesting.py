"""Rolling-origin backtests: rows against a hand loop, no leakage, scores by hand, errors."""

from __future__ import annotations

import keras
import numpy as np
import pandas as pd
import pytest

from keras_lstm_patterns import datasets, many_to_one
from keras_lstm_patterns.backtesting import (
    ModelForecaster,
    autoregression_forecaster,
    backtest,
    conformal,
    differencing,
    drift_forecaster,
    model_forecaster,
    persistence_forecaster,
    score,
    seasonal_naive_forecaster,
    seasonal_random_walk_forecaster,
)


def toy(history: np.ndarray, horizon: int) -> np.ndarray:
    """Mean of the last 3 values plus 0.5 per step, along the time axis of any layout."""
    h = np.asarray(history)
    axis = 1 if h.ndim == 3 else 0
    last = np.take(h, range(h.shape[axis] - 3, h.shape[axis]), axis=axis).mean(axis=axis)
    steps = 0.5 * np.arange(1, horizon + 1)
    if h.ndim == 1:
        return last + steps
    if h.ndim == 2:
        return last[None, :] + steps[:, None]
    return last[:, None, :] + steps[None, :, None]


RNG = np.random.default_rng(0)
Y = RNG.normal(size=40).cumsum()


def hand_rows(y: np.ndarray, origins: list[int], horizon: int) -> list[tuple]:
    rows = []
    for o in origins:
        f = toy(y[:o], horizon)
        for k in range(horizon):
            rows.append((o, k + 1, y[o + k], f[k]))
    return rows


def test_rows_equal_a_hand_loop() -> None:
    frame = backtest(toy, Y, horizon=4, origins=3)
    assert list(frame.columns) == ["model", "origin", "step", "actual", "forecast"]
    assert (frame["model"] == "toy").all()
    got = list(frame[["origin", "step", "actual", "forecast"]].itertuples(index=False, name=None))
    assert got == hand_rows(Y, [28, 32, 36], 4)


def test_origins_list_and_every() -> None:
    frame = backtest(toy, Y, horizon=2, origins=[30, 5, 38], model="m")
    got = list(frame[["origin", "step", "actual", "forecast"]].itertuples(index=False, name=None))
    assert got == hand_rows(Y, [5, 30, 38], 2)
    assert frame["model"].unique().tolist() == ["m"]
    spaced = backtest(toy, Y, horizon=3, origins=4, every=1)
    assert spaced["origin"].unique().tolist() == [34, 35, 36, 37]


def test_pandas_keeps_time_and_feature_names() -> None:
    air = datasets.load_airline()
    frame = backtest(toy, air, horizon=3, origins=2)
    assert list(frame.columns) == ["model", "origin", "time", "step", "actual", "forecast"]
    positions = frame["origin"] + frame["step"] - 1
    assert (frame["time"].to_numpy() == air.index[positions].to_numpy()).all()
    assert np.array_equal(frame["actual"].to_numpy(), air.to_numpy()[positions])

    two = pd.DataFrame({"a": Y, "b": -2 * Y}, index=pd.RangeIndex(100, 140))
    frame = backtest(toy, two, horizon=2, origins=[10])
    assert list(frame.columns) == [
        "model",
        "origin",
        "time",
        "feature",
        "step",
        "actual",
        "forecast",
    ]
    want = toy(two.to_numpy()[:10], 2)  # (horizon, features)
    assert frame["feature"].tolist() == ["a", "a", "b", "b"]
    assert frame["time"].tolist() == [110, 111, 110, 111]
    assert np.array_equal(frame["forecast"], want.T.reshape(-1))
    assert np.array_equal(frame["actual"], two.to_numpy()[10:12].T.reshape(-1))


def test_tank_array_rows() -> None:
    tanks = RNG.normal(size=(3, 20, 2))
    frame = backtest(toy, tanks, horizon=2, origins=[8, 15])
    assert list(frame.columns) == [
        "model",
        "origin",
        "entity",
        "feature",
        "step",
        "actual",
        "forecast",
    ]
    rows = []
    for o in (8, 15):
        f = toy(tanks[:, :o], 2)
        for e in range(3):
            for j in range(2):
                for k in range(2):
                    rows.append((o, e, j, k + 1, tanks[e, o + k, j], f[e, k, j]))
    got = frame[["origin", "entity", "feature", "step", "actual", "forecast"]]
    assert list(got.itertuples(index=False, name=None)) == rows


def test_no_leakage() -> None:
    y = np.arange(50.0)  # the value is its own position
    seen = []

    def spy(history: np.ndarray, horizon: int) -> np.ndarray:
        seen.append(len(history))
        assert history.max() < len(history)  # nothing at or after the origin
        assert not history.flags.writeable
        assert not np.shares_memory(history, y)  # no view whose base reaches the future
        return np.zeros(horizon)

    backtest(spy, y, horizon=5, origins=[7, 20, 45])
    assert seen == [7, 20, 45]

    tanks = np.broadcast_to(np.arange(30.0)[None, :, None], (2, 30, 1)).copy()

    def tank_spy(history: np.ndarray, horizon: int) -> np.ndarray:
        assert history.shape == (2, 12, 1) and history.max() == 11
        return np.zeros((2, horizon))  # a features axis of 1 may be left out

    backtest(tank_spy, tanks, horizon=3, origins=[12])


def test_score_by_hand() -> None:
    y = Y + 10
    frames = [
        backtest(toy, y, horizon=3, origins=[10, 20, 30]),
        backtest(persistence_forecaster(), y, horizon=3, origins=[10, 20, 30]),
    ]
    table = score(pd.concat(frames), y, season=2)
    assert table.index.names == ["model", "step"]
    assert table.index.tolist() == [
        *[("toy", k) for k in (1, 2, 3, "all")],
        *[("persistence", k) for k in (1, 2, 3, "all")],
    ]
    for name, f in (("toy", toy), ("persistence", lambda h, n: np.full(n, h[-1]))):
        err, scaled = [], []
        for o in (10, 20, 30):
            scale = np.mean([abs(y[t] - y[t - 2]) for t in range(2, o)])
            e = f(y[:o], 3) - y[o : o + 3]
            err.append(e)
            scaled.append(np.abs(e) / scale)
        err, scaled = np.array(err), np.array(scaled)  # (origins, steps)
        for k in (1, 2, 3):
            row = table.loc[(name, k)]
            assert row["n"] == 3
            np.testing.assert_allclose(row["rmse"], np.sqrt(np.mean(err[:, k - 1] ** 2)))
            np.testing.assert_allclose(row["mae"], np.mean(np.abs(err[:, k - 1])))
            np.testing.assert_allclose(row["mase"], np.mean(scaled[:, k - 1]))
        row = table.loc[(name, "all")]
        assert row["n"] == 9
        np.testing.assert_allclose(row["rmse"], np.sqrt(np.mean(err**2)))
        np.testing.assert_allclose(row["mae"], np.mean(np.abs(err)))
        np.testing.assert_allclose(row["mase"], np.mean(scaled))


def test_score_per_feature() -> None:
    two = np.c_[Y, 3 * Y + 1]
    table = score(backtest(toy, two, horizon=2, origins=2), two, season=3)
    assert table.index.names == ["model", "feature", "step"]
    for j in (0, 1):  # each feature scores as that column alone
        alone = score(backtest(toy, two[:, j], horizon=2, origins=2), two[:, j], season=3)
        np.testing.assert_allclose(table.loc[("toy", j)].to_numpy(), alone.loc["toy"].to_numpy())
    a = score(backtest(persistence_forecaster(), two, horizon=2, origins=2), two)
    a, b = a.loc[("persistence", 0, "all")], a.loc[("persistence", 1, "all")]
    np.testing.assert_allclose(b["rmse"], 3 * a["rmse"])
    np.testing.assert_allclose(b["mase"], a["mase"])  # MASE is free of units


def test_baseline_forecasters() -> None:
    y = np.exp(0.01 * np.arange(40) + 0.1 * np.sin(np.arange(40)))
    h = y[:30]
    np.testing.assert_allclose(persistence_forecaster()(h, 3), [h[-1]] * 3)
    np.testing.assert_allclose(seasonal_naive_forecaster(4)(h, 6), np.r_[h[-4:], h[-4:-2]])
    slope = (h[-1] - h[0]) / 29
    np.testing.assert_allclose(drift_forecaster()(h, 2), [h[-1] + slope, h[-1] + 2 * slope])
    walk = seasonal_random_walk_forecaster(4)(h, 2)
    first = h[-1] * h[-4] / h[-5]
    np.testing.assert_allclose(walk, [first, first * h[-3] / h[-4]])
    assert seasonal_random_walk_forecaster(4, ar_order=2)(h, 5).shape == (5,)
    ar = autoregression_forecaster(2)
    assert ar.__name__ == "AR(2)" and ar(h, 4).shape == (4,)
    # the 1-D baselines run column by column on several features and on tanks
    tanks = np.stack([np.c_[h, 2 * h], np.c_[3 * h, h]])
    got = seasonal_naive_forecaster(4)(tanks, 3)
    assert got.shape == (2, 3, 2)
    np.testing.assert_allclose(got[1, :, 0], 3 * h[-4:-1])


def test_differencing_round_trip() -> None:
    y = datasets.load_airline().to_numpy()
    o, horizon = 100, 12
    z, inverse = differencing((1, 12), log=True)(y[None, :o, None])
    logy = np.log(y)
    w = logy[13:] - logy[12:-1] - logy[1:-12] + logy[:-13]  # w[k] belongs to month k+13
    scale = w[: o - 13].std()
    np.testing.assert_allclose(z[0, :, 0], w[: o - 13] / scale)
    future = (w[o - 13 : o - 13 + horizon] / scale)[None, :, None]
    np.testing.assert_allclose(inverse(future)[0, :, 0], y[o : o + horizon])


def mean_of_window(look: int, outputs: int) -> keras.Model:
    """Every output is the mean of the window, and SGD(0) keeps it so through fit."""
    model = keras.Sequential(
        [
            keras.Input((look, 1)),
            keras.layers.Flatten(),
            keras.layers.Dense(outputs, kernel_initializer=keras.initializers.Constant(1 / look)),
        ]
    )
    model.compile(optimizer=keras.optimizers.SGD(0.0), loss="mse")
    return model


@pytest.mark.parametrize("mode", ["recursive", "direct"], ids=["recursive", "direct"])
def test_model_forecaster_rolls_out_like_a_hand_loop(mode: str) -> None:
    horizon, look = 3, 4
    f = model_forecaster(
        lambda: mean_of_window(look, 1 if mode == "recursive" else horizon),
        look_back=look,
        mode=mode,
        fit_kwargs={"epochs": 1},
    )
    frame = backtest(f, Y, horizon=horizon, origins=[20, 30])
    want = []
    for o in (20, 30):
        window = list(Y[o - look : o])
        for _ in range(horizon):
            want.append(np.mean(window[-look:]))
            if mode == "recursive":
                window.append(want[-1])
        if mode == "direct":
            want[-horizon:] = [np.mean(Y[o - look : o])] * horizon
    np.testing.assert_allclose(frame["forecast"], want, rtol=1e-5)


def test_model_forecaster_refit_and_fine_tune() -> None:
    built = []

    def build() -> keras.Model:
        built.append(1)
        model = many_to_one(4, 1, 2, outputs=1)
        model.compile(optimizer="adam", loss="mse")
        return model

    y = datasets.load_airline().to_numpy()
    common = dict(look_back=4, fit_kwargs={"epochs": 1}, seed=0, transform=differencing(1))
    each = model_forecaster(build, **common)
    frame = backtest(each, y, horizon=2, origins=[100, 120])
    assert len(built) == 2 and np.isfinite(frame["forecast"]).all()

    built.clear()
    tuned = model_forecaster(build, refit="fine_tune", fine_tune_epochs=1, **common)
    frame = backtest(tuned, y, horizon=2, origins=[100, 120])
    assert len(built) == 1 and np.isfinite(frame["forecast"]).all()
    backtest(tuned, y, horizon=2, origins=[90])  # an earlier origin: a fresh model, no leak
    assert len(built) == 2


def test_model_forecaster_wrong_outputs() -> None:
    f = model_forecaster(lambda: mean_of_window(4, 2), look_back=4)
    with pytest.raises(ValueError, match=r"`build` must be a model with 1 outputs per window"):
        f(Y, 3)


@pytest.mark.parametrize("origins", [[96, 120]], ids=["two-origins"])
def test_classical_forecasters_on_airline(origins: list[int]) -> None:
    pytest.importorskip("statsmodels")
    from keras_lstm_patterns.backtesting import ets_forecaster, sarima_forecaster

    y = datasets.load_airline()
    for f in (sarima_forecaster(), ets_forecaster(12)):
        frame = backtest(f, y, horizon=12, origins=origins)
        assert len(frame) == 24 and np.isfinite(frame["forecast"]).all()
        # fitted models track the series: within 15% of the truth a year ahead
        ratio = frame["forecast"] / frame["actual"]
        assert ratio.between(0.85, 1.15).all(), (f.__name__, ratio.describe())
    assert sarima_forecaster().__name__ == "SARIMA(0,1,1)(0,1,1)12 on logs"


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"horizon": 0, "origins": 2}, r"`horizon` must be between 1 and 39 .* horizon=0"),
        ({"horizon": 40, "origins": 2}, r"`horizon` must be between 1 and 39"),
        ({"horizon": 4, "origins": 10}, r"`origins` must be between 1 and 9 for a series"),
        ({"horizon": 4, "origins": [0]}, r"`origins` must be positions between 1 and 36 .* 0"),
        ({"horizon": 4, "origins": [37]}, r"`origins` must be positions between 1 and 36 .* 37"),
        ({"horizon": 4, "origins": [5, 5]}, r"`origins` must be distinct positions"),
        ({"horizon": 4, "origins": []}, r"`origins` must be a positive integer or a non-empty"),
        ({"horizon": 4, "origins": 2.5}, r"`origins` must be a positive integer or a sequence"),
        ({"horizon": 4, "origins": [5], "every": 2}, r"`every` must be None when `origins`"),
        ({"horizon": 4, "origins": 2, "every": 0}, r"`every` must be a positive integer"),
        ({"horizon": 4, "origins": 2, "model": 3}, r"`model` must be a string"),
    ],
    ids=[
        "horizon-0",
        "horizon-too-long",
        "too-many-origins",
        "origin-no-history",
        "origin-no-room",
        "duplicate-origins",
        "no-origins",
        "origins-float",
        "every-with-list",
        "every-0",
        "model-name",
    ],
)
def test_backtest_errors(kwargs: dict, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        backtest(toy, Y, **kwargs)


def test_forecaster_errors() -> None:
    with pytest.raises(ValueError, match=r"`forecaster` must be a callable"):
        backtest("toy", Y, horizon=2, origins=1)
    short = lambda h, n: np.zeros(n - 1)  # noqa: E731
    with pytest.raises(
        ValueError,
        match=r"`forecaster` must be a callable returning the next 3 values, shape \(3,\)\. "
        r"Received: <lambda> returned shape \(2,\) at origin 37",
    ):
        backtest(short, Y, horizon=3, origins=1)
    nan = lambda h, n: np.r_[np.zeros(n - 1), np.nan]  # noqa: E731
    with pytest.raises(ValueError, match=r"`forecaster` must be a callable returning finite"):
        backtest(nan, Y, horizon=3, origins=1)
    with pytest.raises(
        ValueError, match=r"shape \(2, 3, 1\)\. Received: <lambda> returned shape \(1, 3, 1\)"
    ):
        backtest(lambda h, n: toy(h, n)[:1], np.zeros((2, 9, 1)), horizon=3, origins=1)
    with pytest.raises(ValueError, match=r"`series` must be finite"):
        backtest(toy, np.r_[Y, np.inf], horizon=3, origins=1)


def test_score_errors() -> None:
    frame = backtest(toy, Y, horizon=2, origins=[6, 20])
    with pytest.raises(ValueError, match=r"`frame` must be a backtest frame with columns"):
        score(frame.drop(columns="actual"), Y)
    with pytest.raises(ValueError, match=r"`series` must be the series the frame was"):
        score(frame, Y + 1)
    with pytest.raises(ValueError, match=r"`season` must be between 1 and 5 .* first origin, 6"):
        score(frame, Y, season=6)
    flat = np.r_[np.ones(10), np.arange(10.0)]
    with pytest.raises(ValueError, match=r"`series` must be varying before each origin"):
        score(backtest(toy, flat, horizon=2, origins=[8]), flat)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"build": 3}, r"`build` must be a callable returning a new Keras model"),
        ({"look_back": 0}, r"`look_back` must be a positive integer"),
        ({"mode": "rollout"}, r"`mode` must be one of 'recursive', 'direct'"),
        ({"refit": "never"}, r"`refit` must be one of 'each', 'fine_tune'"),
        ({"fit_kwargs": [("epochs", 1)]}, r"`fit_kwargs` must be None or a dict"),
        ({"fine_tune_epochs": 0}, r"`fine_tune_epochs` must be a positive integer"),
        ({"transform": "log"}, r"`transform` must be None or a callable"),
    ],
    ids=["build", "look_back", "mode", "refit", "fit_kwargs", "fine_tune_epochs", "transform"],
)
def test_model_forecaster_errors(kwargs: dict, match: str) -> None:
    args = {"build": lambda: mean_of_window(4, 1), "look_back": 4, **kwargs}
    with pytest.raises(ValueError, match=match):
        model_forecaster(**args)


def test_differencing_inverse_starts_from_the_last_known_level() -> None:
    """Was: a missing last step made every forecast of that column NaN."""
    _, inverse = differencing((1,), scale=False)(np.array([[[1.0], [3.0], [np.nan]]]))
    np.testing.assert_allclose(inverse(np.array([[[4.0], [5.0]]]))[0, :, 0], [7.0, 12.0])
    _, inverse = differencing((2,), scale=False)(np.array([[[1.0], [2.0], [4.0], [np.nan]]]))
    # the last two levels, filled: 4, 4; then +1, +1, +1
    np.testing.assert_allclose(inverse(np.ones((1, 3, 1)))[0, :, 0], [5.0, 5.0, 6.0])
    _, inverse = differencing((1,), scale=False)(np.full((1, 3, 1), np.nan))
    assert np.isnan(inverse(np.ones((1, 2, 1)))).all()  # nothing known: nothing to start from


def test_forecaster_factory_errors() -> None:
    with pytest.raises(ValueError, match=r"`period` must be a positive integer"):
        seasonal_naive_forecaster(0)
    with pytest.raises(ValueError, match=r"`lags` must be a positive integer"):
        differencing((1, 0))
    with pytest.raises(ValueError, match=r"`history` must be positive when log=True"):
        differencing(1, log=True)(np.zeros((1, 5, 1)))
    with pytest.raises(ValueError, match=r"`history` must be positive \(the walk runs on logs\)"):
        seasonal_random_walk_forecaster(2)(np.r_[1.0, -1.0, 2.0, 3.0], 2)
    with pytest.raises(ValueError, match=r"Received: min -1\.0$"):  # not np.float64(-1.0)
        seasonal_random_walk_forecaster(2)(np.r_[1.0, -1.0, 2.0, 3.0], 2)
    # the AR's order is named as the caller wrote it, and ridge is checked when made
    walk = seasonal_random_walk_forecaster(4, ar_order=3)
    with pytest.raises(
        ValueError, match=r"`ar_order` must be between 1 and 2 for a history of 10 "
    ):
        walk(np.exp(np.arange(10.0) / 10), 2)
    assert walk(np.exp(np.arange(20.0) / 10), 2).shape == (2,)  # 15 differences: 3 <= 7
    with pytest.raises(ValueError, match=r"`ridge` must be a finite number >= 0"):
        seasonal_random_walk_forecaster(4, ar_order=1, ridge=-1.0)
    with pytest.raises(ValueError, match=r"`ridge` must be a finite number"):
        seasonal_random_walk_forecaster(4, ar_order=1, ridge="1")
    with pytest.raises(ValueError, match=r"`ridge` must be a finite number >= 0"):
        autoregression_forecaster(2, ridge=float("nan"))  # when made, not at the first call


def test_score_tanks_scales_each_entity() -> None:
    tanks = np.stack([Y[:30], 5 * Y[10:40]])[:, :, None] + 20  # (2 entities, 30, 1)
    frame = backtest(toy, tanks, horizon=2, origins=[15, 25])
    got = score(frame, tanks, season=3).loc[("toy", "all")]
    scaled = []
    for e in range(2):
        y = tanks[e, :, 0]
        for o in (15, 25):
            scale = np.mean(np.abs(y[3:o] - y[: o - 3]))
            scaled += list(np.abs(toy(y[:o], 2) - y[o : o + 2]) / scale)
    assert got["n"] == 8
    np.testing.assert_allclose(got["mase"], np.mean(scaled))


# --- conformal intervals -----------------------------------------------------------------


def test_conformal_width_is_the_ranked_calibration_error():
    y = np.sin(np.arange(40.0)) * 3 + 5
    f = persistence_forecaster()
    calib = backtest(f, y, horizon=1, origins=list(range(1, 11)))  # 10 errors at step 1
    test = backtest(f, y, horizon=1, origins=[20, 30])
    out = conformal(calib, test, coverage=0.8)
    errors = np.sort(np.abs(calib["actual"] - calib["forecast"]).to_numpy())
    width = errors[int(np.ceil(11 * 0.8)) - 1]  # the 9th smallest of 10
    np.testing.assert_allclose(out["upper"] - out["forecast"], width)
    np.testing.assert_allclose(out["forecast"] - out["lower"], width)
    rel = conformal(calib, test, coverage=0.8, relative=True)
    ratio = np.sort(np.abs(calib["actual"] / calib["forecast"] - 1).to_numpy())[8]
    np.testing.assert_allclose(rel["upper"], rel["forecast"] + np.abs(rel["forecast"]) * ratio)


@pytest.mark.parametrize("coverage", [0.8, 0.9])
def test_conformal_covers_what_it_promises_on_noise(coverage):
    rng = np.random.default_rng(0)
    y = np.cumsum(rng.normal(size=1300))  # a random walk: persistence errors are i.i.d.
    f = persistence_forecaster()
    calib = backtest(f, y, horizon=2, origins=list(range(10, 600)))
    test = backtest(f, y, horizon=2, origins=list(range(700, 1290)))
    scores = score(conformal(calib, test, coverage=coverage), y)
    got = scores.loc[("persistence", "all"), "coverage"]
    assert abs(got - coverage) < 0.04, got


def test_conformal_errors():
    y = np.sin(np.arange(40.0))
    f = persistence_forecaster()
    calib = backtest(f, y, horizon=1, origins=list(range(1, 4)))
    test = backtest(f, y, horizon=1, origins=[30])
    with pytest.raises(
        ValueError,
        match=r"`calibration` must be a backtest with at least 4 finite errors per model, step",
    ):
        conformal(calib, test, coverage=0.8)
    late = backtest(f, y, horizon=1, origins=list(range(30, 38)))
    with pytest.raises(ValueError, match=r"`calibration` must be a backtest whose forecasts all"):
        conformal(late, test)
    other = backtest(drift_forecaster(), y, horizon=1, origins=list(range(2, 20)))
    with pytest.raises(ValueError, match=r"`calibration` must be a backtest of the same models"):
        conformal(other, test)
    with pytest.raises(ValueError, match=r"`coverage` must be a number in"):
        conformal(other, test, coverage=1.0)
    with pytest.raises(ValueError, match=r"`frame` must be a backtest frame"):
        conformal(other, "nope")


# --- issue 22: never a wrong answer in silence ---------------------------------------------


def test_score_coverage_is_nan_for_a_model_without_intervals():
    y = np.sin(np.arange(60.0)) + 3
    f = persistence_forecaster()
    calib = backtest(f, y, horizon=1, origins=list(range(5, 30)))
    with_intervals = conformal(calib, backtest(f, y, horizon=1, origins=[40, 50]))
    plain = backtest(drift_forecaster(), y, horizon=1, origins=[40, 50])
    table = score(pd.concat([with_intervals, plain], ignore_index=True), y)
    assert table.loc[("drift", "all"), "n"] == 2
    assert np.isnan(table.loc[("drift", "all"), "coverage"])
    inside = (with_intervals["lower"] <= with_intervals["actual"]) & (
        with_intervals["actual"] <= with_intervals["upper"]
    )
    assert table.loc[("persistence", "all"), "coverage"] == inside.mean()


@pytest.mark.parametrize(
    ("series", "match"),
    [
        (
            pd.Series(Y, index=pd.date_range("2024-01-01", periods=40, freq="D")[::-1]),
            r"`series` must be in time order: .* index\[0\]=2024-02-09 00:00:00 followed by "
            r"index\[1\]=2024-02-08",
        ),
        (Y.astype(str), r"`series` must be real numbers .* dtype <U"),
        (Y > 0, r"`series` must be real numbers .* dtype bool"),
        (Y + 1j, r"`series` must be real numbers .* dtype complex128"),
    ],
    ids=["descending-dates", "strings", "bools", "complex"],
)
def test_backtest_and_score_refuse_what_windows_refuses(series, match):
    from keras_lstm_patterns import windows

    with pytest.raises(ValueError, match=match):
        windows.look_back(series, 2)
    with pytest.raises(ValueError, match=match):
        backtest(toy, series, horizon=2, origins=2)
    frame = backtest(toy, Y, horizon=2, origins=2)
    with pytest.raises(ValueError, match=match):
        score(frame, series)


def test_score_refuses_nan_forecasts_and_repeated_rows():
    frame = backtest(toy, Y, horizon=2, origins=[10, 20])
    broken = frame.assign(forecast=frame["forecast"].where(frame.index != 3))
    with pytest.raises(
        ValueError,
        match=r"`frame` must be a backtest frame of finite `forecast` values .* "
        r"Received: frame.loc\[3, 'forecast'\]=nan",
    ):
        score(broken, Y)
    with pytest.raises(
        ValueError,
        match=r"`frame` must be one row per model, origin, step .* Received: frame.loc\[0\] "
        r"repeats model='toy', origin=10, step=1",
    ):
        score(pd.concat([frame, frame]), Y)
    once = score(frame, Y)
    twice_named = score(pd.concat([frame, frame.assign(model="again")]), Y)
    np.testing.assert_allclose(twice_named.loc["again"].to_numpy(), once.loc["toy"].to_numpy())


def test_conformal_pools_the_runs_of_several_seeds_told_apart_by_a_seed_column():
    f = persistence_forecaster()
    frame = backtest(f, Y, horizon=2, origins=[34, 36])
    calib = backtest(f, Y, horizon=2, origins=list(range(2, 30)))
    with pytest.raises(ValueError, match=r"`calibration` must be one row per model, origin"):
        conformal(pd.concat([calib, calib]), frame)
    pooled = pd.concat([calib.assign(seed=0), calib.assign(seed=1)], ignore_index=True)
    out = conformal(pooled, frame, coverage=0.8)
    assert len(out) == len(frame) and np.isfinite(out[["lower", "upper"]]).all().all()
    assert (out["lower"] <= out["forecast"]).all() and (out["forecast"] <= out["upper"]).all()


def test_conformal_refuses_a_calibration_without_the_feature_column():
    two = np.c_[Y, 2 * Y]
    f = persistence_forecaster()
    frame = backtest(f, two, horizon=1, origins=[35, 37])
    calib = backtest(f, Y, horizon=1, origins=list(range(2, 30)))
    with pytest.raises(
        ValueError,
        match=r"`calibration` must be a backtest of the same models, features and steps as "
        r"`frame`. Received: calibration without a `feature` column, frame with",
    ):
        conformal(calib, frame)


def test_sarima_refuses_a_short_history_and_a_bad_order():
    pytest.importorskip("statsmodels")
    from keras_lstm_patterns.backtesting import sarima_forecaster

    y = datasets.load_airline().to_numpy()
    with pytest.raises(
        ValueError,
        match=r"`history` must be at least 26 values long for SARIMA\(0, 1, 1\)\(0, 1, 1, 12\)"
        r" \(d \+ D\*s = 13 values go to differencing, and its longest lag needs 13 more\)\. "
        r"Received: a history of 25 values",
    ):
        sarima_forecaster()(y[:25], 2)
    # 48 values: too few for statsmodels' starting parameters, which it then sets to zero,
    # but the fit tracks the next year (the airline recipe calibrates from month 48)
    forecast = sarima_forecaster()(y[:48], 12)
    assert np.all(np.abs(forecast / y[48:60] - 1) < 0.15), forecast / y[48:60]
    with pytest.raises(
        ValueError, match=r"`order` must be 3 non-negative integers \(p, d, q\). .*\(0, 1\)"
    ):
        sarima_forecaster(order=(0, 1))
    with pytest.raises(ValueError, match=r"`seasonal_order` must be 4 non-negative integers"):
        sarima_forecaster(seasonal_order=(0, 1, 1))


def test_model_forecaster_refuses_a_stateful_build():
    from keras_lstm_patterns import stateful_generator

    def build():
        inp = keras.Input(batch_shape=(1, 4, 1))
        out = keras.layers.LSTM(2, stateful=True, name="kept")(inp)
        return keras.Model(inp, keras.layers.Dense(1)(out))

    f = model_forecaster(build, look_back=4, fit_kwargs={"epochs": 1})
    with pytest.raises(
        ValueError,
        match=r"`build` must be a callable returning a model without stateful layers .* "
        r"stateful layer 'kept'",
    ):
        f(Y, 2)
    assert stateful_generator  # the package's own stateful models are refused alike


# --- issue 21: per-tank backtests through the package ----------------------------------


def export_frame() -> pd.DataFrame:
    """Three tanks on an hourly grid: B misses 03:00, C starts at 02:00, A has a sentinel."""
    rng = np.random.default_rng(5)
    rows = []
    for tank, start, skip in (("A", 0, None), ("B", 0, 3), ("C", 2, None)):
        for h in range(start, 12):
            if h == skip:
                continue
            level = 300.0 + 2 * np.sin(h / 2) + rng.normal(0, 0.3) + (5 if tank == "B" else 0)
            rows.append(
                {
                    "tank": tank,
                    "time": pd.Timestamp("2024-03-01") + pd.Timedelta(hours=h),
                    "kPa": level,
                    "C": 20 + 0.1 * h,
                }
            )
    frame = pd.DataFrame(rows)
    frame.loc[5, "kPa"] = -999.0  # tank A at 05:00
    return frame


def nan_toy(history: np.ndarray, horizon: int) -> np.ndarray:
    """``toy`` over the known values of the last 3 steps (a tank history has NaN)."""
    h = np.asarray(history)
    last = np.nanmean(h[:, -3:], axis=1)  # (entities, features)
    return last[:, None, :] + 0.5 * np.arange(1, horizon + 1)[None, :, None]


def test_backtest_on_tanks_names_ids_and_times_and_skips_missing_targets():
    from keras_lstm_patterns.series import tanks

    x, index = tanks(
        export_frame(),
        id="tank",
        time="time",
        features=["kPa", "C"],
        freq="h",
        na_values=[-999.0],
        return_index=True,
    )
    frame = backtest(nan_toy, x, horizon=2, origins=[4, 6, 9], index=index)
    assert list(frame.columns) == [
        "model",
        "origin",
        "time",
        "entity",
        "feature",
        "step",
        "actual",
        "forecast",
    ]
    rows = []
    for o in (4, 6, 9):
        f = nan_toy(x[:, :o], 2)
        for e, tank in enumerate(index.ids):
            for j, name in enumerate(["kPa", "C"]):
                for k in range(2):
                    t = o + k
                    if index.observed[e, t] and np.isfinite(x[e, t, j]):
                        rows.append((o, index.grid[t], tank, name, k + 1, x[e, t, j], f[e, k, j]))
    got = frame[["origin", "time", "entity", "feature", "step", "actual", "forecast"]]
    assert [tuple(r) for r in got.itertuples(index=False, name=None)] == rows
    # no row for B at 03:00 (no reading) or A at 05:00 (the sentinel)
    stamps = set(zip(frame["entity"], frame["time"]))
    assert ("B", pd.Timestamp("2024-03-01 03:00")) not in stamps
    assert ("A", pd.Timestamp("2024-03-01 05:00")) not in stamps
    assert ("A", pd.Timestamp("2024-03-01 04:00")) in stamps


def test_score_by_entity_against_pandas():
    from keras_lstm_patterns.series import tanks

    x, index = tanks(
        export_frame(),
        id="tank",
        time="time",
        features="kPa",
        freq="h",
        na_values=[-999.0],
        return_index=True,
    )
    frame = pd.concat(
        [
            backtest(persistence_forecaster(), x, horizon=2, origins=[5, 7, 9], index=index),
            backtest(nan_toy, x, horizon=2, origins=[5, 7, 9], index=index),
        ]
    )
    table = score(frame, x, season=1, by="entity", index=index)
    assert table.index.names == ["model", "entity"]
    assert table.index.tolist() == [(m, t) for m in ("persistence", "nan_toy") for t in "ABC"]
    for (model, tank), group in frame.groupby(["model", "entity"]):
        e = list(index.ids).index(tank)
        err = group["forecast"] - group["actual"]
        scale = []
        for o in group["origin"]:
            h = np.where(index.observed[e, :o], x[e, :o, 0], np.nan)
            scale.append(np.nanmean(np.abs(h[1:] - h[:-1])))
        row = table.loc[(model, tank)]
        assert row["n"] == len(group)
        np.testing.assert_allclose(row["rmse"], np.sqrt((err**2).mean()))
        np.testing.assert_allclose(row["mae"], err.abs().mean())
        np.testing.assert_allclose(row["mase"], (err.abs() / np.array(scale)).mean())
    by_step = score(frame, x, index=index)
    assert by_step.loc[("nan_toy", "all"), "n"] == (frame["model"] == "nan_toy").sum()
    with pytest.raises(ValueError, match=r"`index` must be the TankIndex the frame was"):
        score(frame, x)
    with pytest.raises(ValueError, match=r"`by` must be one of 'entity'"):
        score(frame, x, index=index, by="tank")
    with pytest.raises(ValueError, match=r"`index` must be the index of `series`"):
        backtest(toy, x[:2], horizon=1, origins=1, index=index)


def counting_build(look: int, outputs: int, built: list) -> callable:
    def build() -> keras.Model:
        built.append(1)
        return mean_of_window_features(look, outputs)

    return build


def mean_of_window_features(look: int, outputs: int, features: int = 1) -> keras.Model:
    """Every output is the mean of the window over steps and features; SGD(0) keeps it."""
    model = keras.Sequential(
        [
            keras.Input((look, features)),
            keras.layers.Flatten(),
            keras.layers.Dense(
                outputs, kernel_initializer=keras.initializers.Constant(1 / (look * features))
            ),
        ]
    )
    model.compile(optimizer=keras.optimizers.SGD(0.0), loss="mse")
    return model


def test_model_forecaster_refit_every_reuses_the_last_model_on_new_history():
    built = []
    look = 3
    f = model_forecaster(
        counting_build(look, 1, built), look_back=look, refit_every=2, fit_kwargs={"epochs": 1}
    )
    frame = backtest(f, Y, horizon=1, origins=[20, 21, 22, 23, 24])
    assert len(built) == 3  # trained at 20, 22 and 24
    np.testing.assert_allclose(
        frame["forecast"], [Y[o - look : o].mean() for o in range(20, 25)], rtol=1e-5
    )
    assert f.forecasts_since_fit == 1 and f.trained_on.shape == (1, 24, 1)
    backtest(f, Y, horizon=1, origins=[10])  # an earlier origin: trained afresh
    assert len(built) == 4
    with pytest.raises(ValueError, match=r"`refit_every` must be a positive integer"):
        model_forecaster(counting_build(look, 1, built), look_back=look, refit_every=0)


def test_model_forecaster_targets_forecast_some_columns_from_all():
    look = 4
    two = np.c_[Y, 10 + Y[::-1]]
    direct = model_forecaster(
        lambda: mean_of_window_features(look, 3, features=2),
        look_back=look,
        targets=[1],
        mode="direct",
        fit_kwargs={"epochs": 1},
    )
    frame = backtest(direct, two, horizon=3, origins=[20, 30])
    assert frame["feature"].unique().tolist() == [1]
    want = [two[o - look : o].mean() for o in (20, 30) for _ in range(3)]
    np.testing.assert_allclose(frame["forecast"], want, rtol=1e-5)
    one = model_forecaster(
        lambda: mean_of_window_features(look, 1, features=2),
        look_back=look,
        targets=0,
        fit_kwargs={"epochs": 1},
    )
    assert one(two[:20], 1).shape == (1, 1)
    with pytest.raises(
        ValueError, match=r"`targets` must be every feature in recursive mode with horizon > 1"
    ):
        one(two[:20], 2)
    with pytest.raises(ValueError, match=r"`targets` must be None or distinct feature"):
        model_forecaster(lambda: None, look_back=2, targets=[0, 0])


def test_model_forecaster_normalize_trains_a_raw_level():
    """A level near 300 kPa: with the scaling inside the model, a small LSTM forecasts
    within a few kPa (a raw one starts near 0); the statistics come from the training
    windows before the origin."""
    t = np.arange(100.0)
    level = 300.0 + 4.0 * np.sin(t / 5)

    def build() -> keras.Model:  # compiled: the wrapper gets the same optimizer settings
        model = many_to_one(8, 1, 8, outputs=1)
        model.compile(optimizer=keras.optimizers.Adam(0.02), loss="mse")
        return model

    f = model_forecaster(
        build, look_back=8, normalize=True, seed=0, fit_kwargs={"epochs": 8, "batch_size": 16}
    )
    frame = backtest(f, level, horizon=2, origins=[95])
    err = (frame["forecast"] - frame["actual"]).abs()
    assert err.max() < 2.0, frame
    scale = f.model.get_layer("normalize_inputs")
    mean = float(keras.ops.convert_to_numpy(scale.mean).reshape(-1)[0])
    x, _ = windows_of(level[:95], 8)
    np.testing.assert_allclose(mean, x.mean(), rtol=1e-5)  # from the training windows
    assert isinstance(f.model.optimizer, keras.optimizers.Adam)
    np.testing.assert_allclose(float(f.model.optimizer.learning_rate), 0.02)


def test_model_forecaster_refuses_an_uncompiled_build():
    f = model_forecaster(lambda: many_to_one(4, 1, 2, outputs=1), look_back=4)
    with pytest.raises(
        ValueError,
        match=r"`build` must be a callable returning a compiled model: it trains with the "
        r"model's own compile settings; call model\.compile\(optimizer=\.\.\., "
        r"loss=\.\.\.\) in `build`\. Received: model 'many_to_one', not compiled",
    ):
        f(Y, 2)


@pytest.mark.parametrize("make", [model_forecaster, ModelForecaster], ids=["function", "class"])
def test_compile_kwargs_is_refused_naming_model_compile(make) -> None:
    with pytest.raises(
        TypeError,
        match=r"`compile_kwargs` must be left out: it was removed in 0\.3\.0 \(the model "
        r"trains with its own compile settings; compile the model `build` returns: "
        r"model\.compile\(optimizer=\.\.\., loss=\.\.\.\)\)\. Received: compile_kwargs=",
    ) as err:
        make(lambda: mean_of_window(4, 1), look_back=4, compile_kwargs={"loss": "mae"})
    assert err.value.name == "compile_kwargs"


def test_model_forecaster_normalize_compiles_the_wrapper_as_the_model():
    """The scaling wrapper gets the model's loss and metrics and a fresh optimizer of its
    class and configuration (not the model's own object)."""
    built = []

    def build() -> keras.Model:
        model = many_to_one(4, 1, 2, outputs=1)
        model.compile(
            optimizer=keras.optimizers.SGD(0.01, momentum=0.3), loss="mae", metrics=["mse"]
        )
        built.append(model)
        return model

    f = model_forecaster(build, look_back=4, normalize=True, seed=0, fit_kwargs={"epochs": 1})
    f(Y[:30], 1)
    wrapper, inner = f.model, built[0]
    assert wrapper is not inner and wrapper.optimizer is not inner.optimizer
    assert isinstance(wrapper.optimizer, keras.optimizers.SGD)
    assert float(wrapper.optimizer.learning_rate) == pytest.approx(0.01)
    assert wrapper.optimizer.momentum == pytest.approx(0.3)
    x, y = windows_of(Y[:30], 4)
    result = wrapper.evaluate(x, y, verbose=0, return_dict=True)
    pred = np.asarray(wrapper.predict(x, verbose=0)).reshape(y.shape)
    assert result["loss"] == pytest.approx(float(np.mean(np.abs(pred - y))), rel=1e-4)
    assert result["mse"] == pytest.approx(float(np.mean((pred - y) ** 2)), rel=1e-4)


def windows_of(y: np.ndarray, look: int) -> tuple:
    from keras_lstm_patterns import windows

    return windows.look_back(y, look)


def test_a_baseline_backtest_loads_no_keras():
    import subprocess
    import sys

    code = (
        "import sys, numpy as np\n"
        "from keras_lstm_patterns.backtesting import backtest, persistence_forecaster, score\n"
        "y = np.arange(20.0)\n"
        "f = backtest(persistence_forecaster(), y, horizon=2, origins=3)\n"
        "score(f, y)\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('keras', 'tensorflow', 'jax', 'torch')))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]", out.stdout


def test_backtest_refuses_a_nan_forecast_where_the_truth_is_known():
    x = np.stack([Y[:20], Y[20:]])[:, :, None]
    x[1, 8, 0] = np.nan  # a missing step inside entity 1's history
    with pytest.raises(
        ValueError,
        match=r"`forecaster` must be a callable returning finite values \(no NaN or inf\) "
        r"where the truth is known. Received: toy returned nan at origin 10 for entity 1",
    ):
        backtest(toy, x, horizon=1, origins=[10])
    frame = backtest(persistence_forecaster(), x, horizon=1, origins=[9, 10])  # carried on
    assert frame["forecast"].tolist() == [Y[8], Y[27], Y[9], Y[29]]


def test_every_public_name_still_imports_from_backtesting():
    """The split into _evaluation, _classical and _keras keeps the module's names."""
    import keras_lstm_patterns.backtesting as bt

    before = [  # the public names of the one-file module
        "Forecaster", "Transform", "autoregression_forecaster", "backtest", "conformal",
        "differencing", "drift_forecaster", "ets_forecaster", "model_forecaster",
        "persistence_forecaster", "sarima_forecaster", "score", "seasonal_naive_forecaster",
        "seasonal_random_walk_forecaster",
    ]  # fmt: skip
    for name in before:
        assert getattr(bt, name) is not None, name
    assert set(before) - {"Transform"} <= set(bt.__all__)
    assert isinstance(model_forecaster(lambda: None, look_back=2), bt.ModelForecaster)


def late_tanks(features: tuple = ("P", "Q")) -> tuple:
    """Three tanks on one hourly grid of 60 steps; T-03 is installed at step 30."""
    from keras_lstm_patterns.series import tanks

    rows = []
    for tank, start in (("T-01", 0), ("T-02", 0), ("T-03", 30)):
        for t in range(start, 60):
            rows.append({"tank": tank, "t": t, "P": 2.0 + np.sin(t / 3) + 0.01 * t, "Q": t % 5})
    frame = pd.DataFrame(rows)
    for name in {"P", "Q"} - set(features):
        frame[name] = np.nan
    return tanks(frame, id="tank", time="t", features=["P", "Q"], freq=1, return_index=True)


def test_backtest_names_the_tank_whose_history_before_an_origin_is_empty():
    x, index = late_tanks()
    with pytest.raises(
        ValueError,
        match=r"`origins` must be positions with a reading before them in every scored "
        r"entity \(the history of entity 'T-03' before origin 30 holds no reading, so "
        r"nothing can forecast it: choose a later origin, or leave that tank out of the "
        r"array\). Received: origin 30 for entity 'T-03'",
    ):
        backtest(persistence_forecaster(), x, horizon=1, origins=[30], index=index)
    with pytest.raises(ValueError, match=r"history of entity 2 before origin 30 holds no"):
        backtest(persistence_forecaster(), x, horizon=1, origins=[30])
    frame = backtest(persistence_forecaster(), x, horizon=1, origins=[20, 31], index=index)
    assert set(frame.loc[frame["origin"] == 20, "entity"]) == {"T-01", "T-02"}
    assert "T-03" in set(frame.loc[frame["origin"] == 31, "entity"])


def test_backtest_adds_the_origin_and_entity_to_a_forecaster_refusal():
    from keras_lstm_patterns import ArgumentError

    x, index = late_tanks()
    with pytest.raises(
        ArgumentError,
        match=r"`order` must be between 1 and \d+. Received: order=12 "
        r"\(at origin 36, entity 'T-03'\)$",
    ) as info:
        backtest(autoregression_forecaster(12), x, horizon=1, origins=[36], index=index)
    assert info.value.name == "order" and info.value.value == 12
    with pytest.raises(ArgumentError, match=r"order=12 \(at origin 36, entity 2\)$"):
        backtest(autoregression_forecaster(12), x, horizon=1, origins=[36])
    with pytest.raises(ArgumentError, match=r"order=12 \(at origin 20\)$"):
        backtest(autoregression_forecaster(12), Y, horizon=1, origins=[20])


def test_score_names_season_when_a_history_holds_no_pair_season_apart():
    x, index = late_tanks()
    frame = backtest(persistence_forecaster(), x, horizon=1, origins=[50], index=index)
    with pytest.raises(
        ValueError,
        match=r"`season` must be short enough that the history of entity 'T-03' before "
        r"origin 50 holds two known values `season` apart .*Received: season=25$",
    ):
        score(frame, x, season=25, index=index)
    assert score(frame, x, season=3, index=index).loc[("persistence", "P", "all"), "n"] == 3


def test_backtest_refuses_origins_with_no_observed_target():
    x, index = late_tanks(features=("P",))  # Q all NaN: no step is observed
    with pytest.raises(
        ValueError,
        match=r"`origins` must be positions where some target value in the 2 steps from "
        r"them was observed \(none was, .*a step is observed only when every feature has "
        r"a reading, so select the features you forecast.*Received: origins=\[40, 50\] "
        r"with no observed target",
    ):
        backtest(persistence_forecaster(), x, horizon=2, origins=[40, 50], index=index)
    y = Y.copy()
    y[30:] = np.nan
    with pytest.raises(ValueError, match=r"`origins` must be positions where some target"):
        backtest(persistence_forecaster(), y, horizon=1, origins=[30, 35])
