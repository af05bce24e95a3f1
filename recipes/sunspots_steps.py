# %% [markdown]
"""
# Yearly sunspots: how many steps (years of look-back) a one-year-ahead LSTM needs

**Pattern:** many-to-one regression on look-back windows (`windows.look_back` +
`many_to_one`); the look-back is the number of steps the LSTM unrolls.

**Data:** yearly sunspot numbers 1700-2008 (`datasets.load_sunspots`); the training years
are 1700-1920 (of which 1871-1920 validate), the test years 1921-2008.

**Shows:** the sunspot cycle is about 11 years long, and the common advice is that the
window must cover it. The look-back is chosen on the validation years only, then a
rolling-origin backtest forecasts every test year one year ahead from the years before
it (the model retrained every 44 years), 5 seeds, beside models fitted at the same
origins: a linear autoregression (its order chosen by AIC on the training years),
the same linear model on the LSTM's own window, damped-trend exponential smoothing
and persistence. Units (the width of the state, 16) and steps (how far the layer
unrolls) are independent: only the steps change here.

**Command:** `python recipes/sunspots_steps.py [--quick] [--seed 0] [--seeds 5] [--out DIR]`

**How long:** about 11 minutes on two shared cores (4 CPU minutes; --quick: under a minute).

**Expected:** the look-backs from 2 to 20 years validate within each other's seed noise
(the rule then picks the shortest) and well ahead of persistence; on the test
years the chosen short window lands just behind the linear AR(9) fitted at each origin,
and the cycle-long window beats it on average but varies more between seeds.
RESULTS.md has the measured figures.
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
from statsmodels.tsa.ar_model import ar_select_order

from keras_lstm_patterns import datasets, explain, many_to_one, windows
from keras_lstm_patterns.backtesting import (
    autoregression_forecaster,
    backtest,
    ets_forecaster,
    persistence_forecaster,
    score,
)

NAME = "sunspots_steps"
VALID_FROM, TEST_FROM = 1871, 1921  # 1700-1870 fit, 1871-1920 validate; 1921-2008 test
LOOK_BACKS = [2, 4, 6, 8, 11, 15, 20]  # the candidates, in years (= steps)
ADVICE = 11  # "the window must cover one cycle": backtested beside the chosen window
REFIT_EVERY = 44  # years between retrainings in the test backtest (four cycles)
CONFIG = {"units": 16, "epochs": 150, "batch": 32, "lr": 3e-3}

run = Run.from_command_line(__doc__, NAME)

# %% [markdown]
"""
## The data: one value a year, split along time

A forecast may use only the years before it. The training years 1700-1920 hold a
validation part, 1871-1920, where the settings are chosen; the test years
1921-2008 are forecast once, at the end, with the settings frozen.
"""


# %%
def load() -> tuple[np.ndarray, np.ndarray]:
    """The yearly series and its years."""
    s = datasets.load_sunspots()
    return s.to_numpy(), s.index.to_numpy()


# %%
series, years = load()
valid_at, test_at = int(np.argmax(years >= VALID_FROM)), int(np.argmax(years >= TEST_FROM))
print(f"series: {series.shape}  (years,), {years[0]}-{years[-1]}")
print(
    f"fit {years[0]}-{VALID_FROM - 1} ({valid_at} years), validate {VALID_FROM}-"
    f"{TEST_FROM - 1} ({test_at - valid_at}), test {TEST_FROM}-{years[-1]} "
    f"({len(series) - test_at})"
)
x, y = windows.look_back(series[:valid_at], 4)
print(f"look_back 4 on the fit years: x {x.shape}  (windows, steps, features), y {y.shape}")

# %% [markdown]
"""
## The model: many-to-one, the look-back is the number of steps

The same LSTM(16) reads 2 or 20 steps: its weights do not depend on the steps, only
how far it unrolls does. Each model is trained from fresh weights on standardized
years (mean and standard deviation of its own training years), 150 epochs, fixed in
advance and not tuned.
"""


# %%
def build(look: int, cfg: dict) -> keras.Model:
    """`many_to_one(look, 1, units, outputs=1)`: `look` years in, the next year out."""
    model = many_to_one(look, 1, cfg["units"], outputs=1)
    model.compile(optimizer=keras.optimizers.Adam(cfg["lr"]), loss="mse")
    return model


# %%
cfg = dict(CONFIG, epochs=3) if run.quick else CONFIG
looks = [3, ADVICE] if run.quick else LOOK_BACKS
print(explain(build(4, cfg)))

# %% [markdown]
"""
## Choosing the look-back on the validation years

Each candidate is trained on 1700-1870 and forecasts every validation year one
year ahead from the actual years before it (a rolling-origin backtest at 50 origins
with one training at the first). Scores are MASE: the mean absolute error divided
by that of persistence inside the history, so below 1 beats "same as last year".
Rule, fixed in advance: the lowest mean over 3 seeds wins, and a shorter window
within one seed-std of it wins over a longer one.
"""


# %%
def lstm_forecaster(look: int, cfg: dict, *, first: int, every: int, seed: int) -> Callable:
    """A one-year-ahead LSTM forecaster, retrained every `every` origins from `first`.

    At origin `o` it uses the model trained from fresh weights on the years before the
    last refit point `f = first + every * ((o - first) // every) <= o`, standardized by
    their mean and standard deviation; its input is the `look` years before `o`.
    """
    models: dict[int, tuple] = {}

    def forecaster(history: np.ndarray, horizon: int) -> np.ndarray:
        if horizon != 1:
            raise ValueError(f"`horizon` must be 1 (one year ahead). Received: horizon={horizon}")
        o = len(history)
        f = first + every * ((o - first) // every)
        if f not in models:
            train = history[:f]
            mean, sd = train.mean(), train.std()
            x, y = windows.look_back((train - mean) / sd, look)
            keras.utils.set_random_seed(seed)
            model = build(look, cfg)
            model.fit(x, y, epochs=cfg["epochs"], batch_size=cfg["batch"], verbose=0)
            models[f] = (model, mean, sd)
        model, mean, sd = models[f]
        window = ((history[-look:] - mean) / sd).reshape(1, look, 1).astype("float32")
        return np.asarray(model.predict_on_batch(window)).reshape(1) * sd + mean

    forecaster.__name__ = f"LSTM({cfg['units']}), look_back {look}"
    return forecaster


def choose(curve: dict[int, dict]) -> int:
    """The rule fixed in advance: lowest mean validation MASE; any look-back within one
    seed-std of the best counts as tied, and the shortest tied one wins."""
    return simplest_tied(curve, order=sorted(curve))


# %%
history = series[:test_at]  # the validation backtest cannot reach the test years
valid_origins = list(range(valid_at, test_at))
inner = replace(run, seeds=run.seeds[:3])


def validate(look: int, seed: int) -> float:
    f = lstm_forecaster(look, cfg, first=valid_at, every=len(valid_origins), seed=seed)
    frame = backtest(f, history, horizon=1, origins=valid_origins)
    return float(score(frame, history).loc[(f.__name__, "all"), "mase"])


curve = {}
for look in looks:
    runs = inner.each_seed(f"validate look_back {look}", lambda s, k=look: validate(k, s))
    curve[look] = mean_std(runs)
chosen = choose(curve)
valid_refs = {}
for f in (persistence_forecaster(), autoregression_forecaster(chosen)):
    frame = backtest(f, history, horizon=1, origins=valid_origins)
    valid_refs[f"{f.__name__} (validation)"] = float(
        score(frame, history).loc[(f.__name__, "all"), "mase"]
    )
validation_table = inner.table(
    f"Validation MASE {VALID_FROM}-{TEST_FROM - 1}, one year ahead, by look-back",
    ["look_back (steps)", "validation MASE"],
    [[k, fmt(v, 3)] for k, v in curve.items()]
    + [[name, f"{v:.3f}"] for name, v in valid_refs.items()],
)
print(f"chosen look_back: {chosen} years (the advice to cover a cycle: {ADVICE})")

# %% [markdown]
"""
## The classical models, fitted at every test origin

A linear autoregression AR(p) is the textbook model for this series; its order is
chosen by AIC on the training years (statsmodels' `ar_select_order`) and it is
refitted by least squares at every origin. The same linear model on the LSTM's own
window (AR(look_back)) shows what the LSTM adds to a linear reading of the same
years. Exponential smoothing has no season here (the cycle is not a fixed period);
its trend is damped.
"""

# %%
order = len(ar_select_order(series[:test_at], maxlag=15, ic="aic", trend="c").ar_lags)
print(f"AR order by AIC on {years[0]}-{TEST_FROM - 1}: {order}")
test_origins = list(range(test_at, len(series)))
if run.quick:
    test_origins = test_origins[:22]
refs = [
    autoregression_forecaster(order),
    autoregression_forecaster(chosen),
    ets_forecaster(None, trend="add", seasonal=None, damped=True, log=False),
    persistence_forecaster(),
]
frames = {f.__name__: backtest(f, series, horizon=1, origins=test_origins) for f in refs}

# %% [markdown]
"""
## The test backtest: every test year, one year ahead, 5 seeds

The frozen settings run once. The LSTM is retrained from fresh weights every 44
years (at 1921 and 1965) on all the years before; between retrainings it
forecasts each year from the actual years before it. The cycle-long window
(11 years) runs beside the chosen one, to test the advice on the test years.
"""

# %%
arms = [chosen] if chosen == ADVICE else [chosen, ADVICE]
per_seed: dict[str, list[pd.DataFrame]] = {}
for look in arms:

    def one_seed(seed: int, look: int = look) -> pd.DataFrame:
        f = lstm_forecaster(look, cfg, first=test_at, every=REFIT_EVERY, seed=seed)
        return backtest(f, series, horizon=1, origins=test_origins)

    seed_frames = run.each_seed(f"test backtest, look_back {look}", one_seed)
    per_seed[seed_frames[0]["model"].iloc[0]] = seed_frames


def overall(frame: pd.DataFrame) -> pd.Series:
    return score(frame, series).xs("all", level="step").iloc[0]


test: dict[str, dict] = {}
for name, seed_frames in per_seed.items():
    scores = [overall(f) for f in seed_frames]
    test[name] = {m: mean_std([s[m] for s in scores]) for m in ("rmse", "mase")}
for name, frame in frames.items():
    s = overall(frame)
    test[name] = {"rmse": float(s["rmse"]), "mase": float(s["mase"])}
span = f"{years[test_origins[0]]}-{years[test_origins[-1]]}"
table = run.table(
    f"Test years {span}, one year ahead ({len(test_origins)} origins)",
    ["model", "test RMSE", "test MASE"],
    [[name, fmt(v["rmse"]), fmt(v["mase"], 3)] for name, v in test.items()],
)

# %% [markdown]
"""
## What the backtest says

Persistence and smoothing are far behind: the cycle turns every few years. The
linear AR fitted at every origin is the model to beat; the LSTM is worth its cost
only where it beats it on the same origins.
"""


# %%
def plot(curve: dict, valid_refs: dict, years: np.ndarray, series: np.ndarray, test: dict):
    """Validation MASE against look-back; the test years with the forecasts."""
    fig, (left, right) = figure(1, 2, figsize=(13, 4.2), gridspec_kw={"width_ratios": [1, 1.6]})
    ks = list(curve)
    left.errorbar(
        ks,
        [curve[k]["mean"] for k in ks],
        yerr=[curve[k]["std"] for k in ks],
        marker="o",
        capsize=3,
        label="LSTM, mean ± std over seeds",
    )
    for (name, value), ls in zip(valid_refs.items(), [":", "--"]):
        left.axhline(value, ls=ls, color="grey", label=name)
    left.axvspan(10, 12, color="orange", alpha=0.2, label="one cycle (~11 years)")
    left.set(
        xlabel="look_back = steps (years)",
        ylabel="MASE, validation years 1871-1920",
        title="Choosing the window on the validation years",
    )
    left.legend(fontsize=8)
    mask = years >= TEST_FROM - 10
    right.plot(years[mask], series[mask], color="black", lw=1, label="sunspots")
    for name, pred in test.items():
        right.plot(years[years >= TEST_FROM], pred, lw=1.2, label=name)
    right.axvline(TEST_FROM, color="grey", ls=":")
    right.set(
        xlabel="year",
        ylabel="sunspot number",
        title="Test years, each forecast one year ahead from the years before it",
    )
    right.legend(fontsize=8)
    fig.tight_layout()
    return fig


# %%
lstm_name = next(iter(per_seed))
ar_name = refs[0].__name__
ar_err = np.abs(frames[ar_name]["forecast"] - frames[ar_name]["actual"]).to_numpy()
wins = float(
    np.mean([np.abs(f["forecast"] - f["actual"]).to_numpy() < ar_err for f in per_seed[lstm_name]])
)
print(f"{lstm_name} beats {ar_name} on {wins:.0%} of (year, seed) pairs")
mean_forecasts = {
    f"{lstm_name} (mean over seeds)": np.mean(
        [f["forecast"].to_numpy() for f in per_seed[lstm_name]], axis=0
    ),
    ar_name: frames[ar_name]["forecast"].to_numpy(),
}
fig = plot(
    curve,
    valid_refs,
    years[: test_origins[-1] + 1],
    series[: test_origins[-1] + 1],
    mean_forecasts,
)
results = {
    "validation": {str(k): v for k, v in curve.items()},
    "validation_references": valid_refs,
    "chosen_look_back": chosen,
    "ar_order": order,
    "test": test,
    "lstm_beats_ar": wins,
    "refit_every": REFIT_EVERY,
    "config": cfg,
    "tables": {"validation": validation_table, "test": table},
}
run.save(results, fig)
