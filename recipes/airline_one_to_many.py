# %% [markdown]
"""
# Airline passengers: one year in, the next year out, with RepeatVector

**Pattern:** one-to-many (`one_to_many`: one input vector repeated to every output step).

**Data:** monthly airline passengers 1949-1960; months 0-95 (1949-1956) train, months
96-143 (1957-1960) test.

**Shows:** a vector-to-sequence model. The 12 input months are one vector of 12 features
(not 12 steps); the decoder LSTM unrolls 12 output steps from it. Values are logs
relative to the input year's mean, so the model learns the shape of the next year and
its growth, not the level. Two years ahead, the model is applied twice: its first
forecast year becomes the next input. The state width is chosen by a backtest inside
the training months; the test months are then forecast 12 and 24 months ahead from
origins 3 months apart (the model retrained once a year), 5 seeds, beside the airline
SARIMA, exponential smoothing, the seasonal naive forecast and the seasonal random
walk, all fitted or applied at the same origins.

**Command:** `python recipes/airline_one_to_many.py [--quick] [--seed 0] [--seeds 5] [--out DIR]`

**How long:** about 13 minutes on two shared cores (5.6 CPU minutes; --quick: under a minute).

**Expected:** well below the seasonal naive forecast at both horizons, but behind the
fitted SARIMA and exponential smoothing, and behind the seasonal random walk 12 months
ahead (level with it 24 months ahead); RESULTS.md has the measured figures.
"""

# %%
import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

from collections.abc import Callable
from dataclasses import replace

import keras
import numpy as np
import pandas as pd
from _common import Run, figure, fmt, mean_std, simplest_tied

from keras_lstm_patterns import datasets, explain, one_to_many, windows
from keras_lstm_patterns.backtesting import (
    backtest,
    ets_forecaster,
    sarima_forecaster,
    score,
    seasonal_naive_forecaster,
    seasonal_random_walk_forecaster,
)

NAME = "airline_one_to_many"
TRAIN = 96  # months 0-95 train, 96-143 test
INNER_FROM = 60  # the inner backtest forecasts months 60-95 from origins 60, 63, ..., 84
EVERY = 3  # months between origins
REFIT_EVERY = 12  # the model is retrained from fresh weights once a year
UNITS = [8, 32]  # the candidates for the decoder's state width
CONFIG = {"epochs": 200, "batch": 16, "lr": 3e-3}

run = Run.from_command_line(__doc__, NAME)

# %% [markdown]
"""
## The data: months split along time

The test months (1957-1960) are forecast once, at the end. Everything chosen is
chosen on the training months, 1949-1956.
"""


# %%
def load() -> np.ndarray:
    """Monthly passengers (thousands), 144 months."""
    return datasets.load_airline().to_numpy()


def year_pairs(logy: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(year in, next year out) pairs, both relative to the input year's mean log."""
    x, y = windows.look_back(logy, 12, horizon=12)  # (n, 12, 1) and (n, 12, 1)
    level = x.mean(axis=1, keepdims=True)
    return (x - level)[:, :, 0], y - level  # (n, 12) features, (n, 12, 1) steps


# %%
y = load()
print(f"passengers: {y.shape}  (months,); train 0-{TRAIN - 1}, test {TRAIN}-{len(y) - 1}")
x, target = year_pairs(np.log(y[:TRAIN]))
print(
    f"training pairs: x {x.shape}  (pairs, 12 months as features), "
    f"y {target.shape}  (pairs, 12 steps, 1)"
)

# %% [markdown]
"""
## The model: one vector in, a sequence out

`RepeatVector(12)` hands the same 12-feature vector to each of the 12 decoder
steps; the LSTM's state carries where in the year it is. 200 epochs, batch 16,
Adam 3e-3, fixed in advance.
"""


# %%
def build(units: int, cfg: dict) -> keras.Model:
    """`one_to_many(12, 12, units, outputs=1)`: a 12-feature vector in, 12 steps out."""
    model = one_to_many(12, 12, units, outputs=1)
    model.compile(optimizer=keras.optimizers.Adam(cfg["lr"]), loss="mse")
    return model


def next_years(model: keras.Model, last_year: np.ndarray, years: int) -> np.ndarray:
    """Forecast `years` years of log passengers, each from the one before it."""
    out, year = [], last_year
    for _ in range(years):
        level = year.mean()
        z = (year - level)[None].astype("float32")  # (1, 12): one vector
        year = np.asarray(model.predict_on_batch(z))[0, :, 0] + level  # (12,) steps
        out.append(year)
    return np.concatenate(out)


# %%
cfg = dict(CONFIG, epochs=3) if run.quick else CONFIG
print(explain(build(8, cfg)))

# %% [markdown]
"""
## Choosing the state width inside the training months

An inner rolling-origin backtest on months 0-95 only: 12-month forecasts from
origins 60, 63, ..., 84, the model retrained at 60, 72 and 84 on the months before.
Scores are MASE: the mean absolute error over that of the seasonal naive forecast
inside the history (below 1 beats "same month last year"). Rule, fixed in advance:
the lowest mean over 3 seeds wins, and a smaller width within one seed-std of it
wins over a larger one.
"""


# %%
def lstm_forecaster(units: int, cfg: dict, *, first: int, seed: int) -> Callable:
    """The one-to-many LSTM as a forecaster, retrained once a year from `first`.

    At origin `o` it uses the model trained from fresh weights on the months before the
    last refit point `f = first + 12 * ((o - first) // 12) <= o`; its input is the 12
    months before `o`. Any horizon up to 24 months works (the model applied twice).
    """
    models: dict[int, keras.Model] = {}

    def forecaster(history: np.ndarray, horizon: int) -> np.ndarray:
        o = len(history)
        f = first + REFIT_EVERY * ((o - first) // REFIT_EVERY)
        if f not in models:
            x, y = year_pairs(np.log(history[:f]))
            keras.utils.set_random_seed(seed)
            models[f] = build(units, cfg)
            models[f].fit(x, y, epochs=cfg["epochs"], batch_size=cfg["batch"], verbose=0)
        logs = next_years(models[f], np.log(history[-12:]), -(-horizon // 12))
        return np.exp(logs[:horizon])

    forecaster.__name__ = f"one_to_many LSTM({units})"
    return forecaster


def choose(curve: dict[int, dict]) -> int:
    """The rule fixed in advance: lowest mean inner MASE; any width within one seed-std
    of the best counts as tied, and the smallest tied one wins."""
    return simplest_tied(curve, order=sorted(curve))


# %%
train = y[:TRAIN]  # the inner backtest cannot reach the test months
inner_origins = list(range(INNER_FROM, TRAIN - 12 + 1, EVERY))
units_list = UNITS
if run.quick:
    # two origins in one refit year: one model trained, then reused
    inner_origins, units_list = [INNER_FROM, INNER_FROM + EVERY], UNITS[:1]
inner = replace(run, seeds=run.seeds[:3])


def validate(units: int, seed: int) -> float:
    f = lstm_forecaster(units, cfg, first=INNER_FROM, seed=seed)
    frame = backtest(f, train, horizon=12, origins=inner_origins)
    return float(score(frame, train, season=12).loc[(f.__name__, "all"), "mase"])


curve = {}
for units in units_list:
    runs = inner.each_seed(f"inner backtest, units {units}", lambda s, u=units: validate(u, s))
    curve[units] = mean_std(runs)
chosen = choose(curve)
inner_table = inner.table(
    f"Inner backtest, 12 months ahead from {len(inner_origins)} origins in months "
    f"{inner_origins[0]}-{inner_origins[-1]}",
    ["units", "inner MASE"],
    [[k, fmt(v, 3)] for k, v in curve.items()],
)
print(f"chosen: units {chosen}")

# %% [markdown]
"""
## The classical models, fitted at every test origin

The airline SARIMA (0,1,1)(0,1,1)12 on logs (Box and Jenkins' model for this very
series) and additive Holt-Winters on logs are refitted by maximum likelihood at
each origin; the seasonal naive forecast repeats the last year, the seasonal random
walk repeats last year's month-to-month changes from the last value.
"""

# %%
horizons = {
    12: list(range(TRAIN, len(y) - 12 + 1, EVERY)),
    24: list(range(TRAIN, len(y) - 24 + 1, EVERY)),
}
if run.quick:
    horizons = {h: [o[0], o[-1]] for h, o in horizons.items()}
refs = [
    sarima_forecaster(),
    ets_forecaster(12),
    seasonal_random_walk_forecaster(12),
    seasonal_naive_forecaster(12),
]
ref_frames = {
    h: {f.__name__: backtest(f, y, horizon=h, origins=o) for f in refs} for h, o in horizons.items()
}

# %% [markdown]
"""
## The test backtest: 12 and 24 months ahead, 5 seeds

The frozen width runs once. The model is retrained from fresh weights at months 96,
108, 120 and 132 on all the months before; from the origins in between it forecasts
from the actual last 12 months. The 24-month forecasts feed the first forecast year
back in as the next input.
"""


# %%
def one_seed(seed: int) -> dict[int, pd.DataFrame]:
    f = lstm_forecaster(chosen, cfg, first=TRAIN, seed=seed)  # one set of models
    return {h: backtest(f, y, horizon=h, origins=o) for h, o in horizons.items()}


seed_frames = run.each_seed(f"test backtest, units {chosen}", one_seed)
lstm = seed_frames[0][12]["model"].iloc[0]


def overall(frame: pd.DataFrame) -> pd.Series:
    return score(frame, y, season=12).xs("all", level="step").iloc[0]


results_h: dict[int, dict] = {}
for h in horizons:
    scores = [overall(s[h]) for s in seed_frames]
    results_h[h] = {lstm: {m: mean_std([s[m] for s in scores]) for m in ("rmse", "mase")}}
    for name, frame in ref_frames[h].items():
        s = overall(frame)
        results_h[h][name] = {"rmse": float(s["rmse"]), "mase": float(s["mase"])}
table = run.table(
    f"Test months {TRAIN}-{len(y) - 1}: {len(horizons[12])} origins for 12 months ahead, "
    f"{len(horizons[24])} for 24 (origins {EVERY} months apart)",
    ["model", "12-month RMSE", "12-month MASE", "24-month RMSE", "24-month MASE"],
    [
        [
            name,
            fmt(v["rmse"]),
            fmt(v["mase"], 3),
            fmt(results_h[24][name]["rmse"]),
            fmt(results_h[24][name]["mase"], 3),
        ]
        for name, v in results_h[12].items()
    ],
)

# %% [markdown]
"""
## What the backtest says

The SARIMA has two parameters and the right structure for this series (a yearly
pattern that scales with the level, a slowly changing growth); it is the bar. The
one-to-many LSTM is worth its cost only where it beats it at the same origins.
"""


# %%
def plot(y: np.ndarray, paths: dict, by_step: dict):
    """The test months with 12-month forecasts from four origins; RMSE by step."""
    fig, (left, right) = figure(1, 2, figsize=(13, 4.2), gridspec_kw={"width_ratios": [1.5, 1]})
    left.plot(np.arange(len(y)), y, color="black", lw=1, label="passengers")
    left.axvline(TRAIN, color="grey", ls=":")
    for (name, lines), color in zip(paths.items(), ["C0", "C1"]):
        for k, (origin, values) in enumerate(lines.items()):
            t = np.arange(origin, origin + len(values))
            left.plot(t, values, color=color, lw=1.4, label=name if k == 0 else None)
    left.set(
        xlabel="month since 1949-01 (test from 96)",
        ylabel="passengers (thousands)",
        title="12-month forecasts from the start of each test year",
    )
    left.legend(fontsize=8)
    for name, values in by_step.items():
        right.plot(np.arange(1, len(values) + 1), values, marker=".", lw=1, label=name)
    right.set(xlabel="months ahead", ylabel="RMSE (thousands)", title="24-month backtest, by step")
    right.legend(fontsize=8)
    fig.tight_layout()
    return fig


# %%
sarima = refs[0].__name__
sar_err = np.abs(ref_frames[12][sarima]["forecast"] - ref_frames[12][sarima]["actual"])
wins = float(
    np.mean(
        [
            np.abs(s[12]["forecast"] - s[12]["actual"]).to_numpy() < sar_err.to_numpy()
            for s in seed_frames
        ]
    )
)
print(f"{lstm} beats {sarima} on {wins:.0%} of (month, origin, seed) 12-month forecasts")
starts = [o for o in horizons[12] if (o - TRAIN) % 12 == 0]


def paths(frames: list[pd.DataFrame]) -> dict[int, np.ndarray]:
    mean = np.mean([f["forecast"].to_numpy() for f in frames], axis=0)
    frame = frames[0].assign(forecast=mean)
    return {o: frame[frame["origin"] == o]["forecast"].to_numpy() for o in starts}


by_step = {
    lstm: np.mean([score(s[24], y, season=12)["rmse"].to_numpy()[:-1] for s in seed_frames], axis=0)
}
for name, frame in ref_frames[24].items():
    by_step[name] = score(frame, y, season=12)["rmse"].to_numpy()[:-1]
fig = plot(
    y,
    {
        f"{lstm} (mean over seeds)": paths([s[12] for s in seed_frames]),
        sarima: paths([ref_frames[12][sarima]]),
    },
    by_step,
)
results = {
    "validation": {str(k): v for k, v in curve.items()},
    "chosen_units": chosen,
    "h12": results_h[12],
    "h24": results_h[24],
    "origins": {str(h): o for h, o in horizons.items()},
    "lstm_beats_sarima_12": wins,
    "config": cfg,
    "tables": {"inner": inner_table, "test": table},
}
run.save(results, fig)
