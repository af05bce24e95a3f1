# %% [markdown]
"""
# Your own tanks: a long CSV of several entities to a scaled, trained, evaluated model

**Pattern:** many-to-one on per-entity look-back windows, scaled inside the model.

**Data:** BasicMotions, 80 recordings (the "tanks") x 100 steps x 6 sensors
(accelerometer and gyroscope, x/y/z), read as a long frame `recording, step, acc_x ...
gyr_z, activity`, one row per recording and step, in shuffled row order.

**Shows:** the whole path a user with their own multi-entity file takes, every step
checked: `tanks` (long frame to `(entities, steps, features)`, ordered by real time),
`split` along time for every entity (later parts whose look-back reaches into the
earlier steps), `look_back(..., targets=)` (windows inside each entity), a rolling-origin
backtest by the package (`backtest(..., index=)`: one step ahead from each of the steps
60-99 of every recording, the model refitted every 10 origins, `model_forecaster(targets=,
normalize=True, validation=, refit_every=)`: the accelerometer forecast from all six
sensors, the scaling statistics from each training part inside the model, a validation
part inside the train steps for early stopping), per-entity scores (`score(by="entity")`)
beside persistence and a linear model refitted at the same origins, predictions joined
back to `(recording, step)` as CSV, and a plot.

**Command:** `python recipes/tanks_own_data.py [--quick] [--seed 0] [--seeds 5] [--out DIR]`

**How long:** about 40 s a seed on two cores (--quick: seconds).

**Expected:** the LSTM below both baselines on the moving recordings, level with
persistence on the standing ones; RESULTS.md has the measured figures.
"""

# %%
import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

from typing import Any

import keras
import numpy as np
import pandas as pd
from _common import Run, figure, fmt, mean_std
from matplotlib.figure import Figure

from keras_lstm_patterns import (
    backtest,
    backtesting,
    datasets,
    explain,
    many_to_one,
    score,
    windows,
)

NAME = "tanks_own_data"
SENSORS = ["acc_x", "acc_y", "acc_z", "gyr_x", "gyr_y", "gyr_z"]
TARGETS = ["acc_x", "acc_y", "acc_z"]
LOOK_BACK = 10  # one second at 10 Hz
ORIGINS = (60, 70, 80, 90)  # refit at each; score the next EVERY steps of every recording
EVERY = 10
STEPS = list(range(ORIGINS[0], ORIGINS[-1] + EVERY))  # one-step-ahead origins 60..99
VALID = 14  # the last 14 steps before an origin validate (early stopping)
CONFIG = {"units": 32, "epochs": 80, "patience": 8, "batch": 64, "lr": 3e-3}

run = Run.from_command_line(__doc__, NAME)

# %% [markdown]
"""
## The data: a long frame, one row per entity and step

This is the layout most sensor exports have: an id column, a time column and one
column per sensor, rows in whatever order the export wrote them (shuffled here on
purpose).
"""


# %%
def long_frame() -> pd.DataFrame:
    """BasicMotions as a sensor export: one row per (recording, step), rows shuffled."""
    parts = []
    for split in ("train", "test"):
        part = datasets.load_basic_motions(split)
        part["recording"] = part["sample"] + (0 if split == "train" else 40)
        parts.append(part)
    frame = pd.concat(parts, ignore_index=True)
    frame = frame.rename(columns=dict(zip([f"f{i}" for i in range(1, 7)], SENSORS)))
    frame = frame.rename(columns={"label": "activity"})
    frame = frame[["recording", "step", *SENSORS, "activity"]]
    return frame.sample(frac=1.0, random_state=0).reset_index(drop=True)


# %%
frame = long_frame()
print(frame.head(3).to_string(), f"\n... {len(frame)} rows\n")

# %% [markdown]
"""
## Windows inside each entity, split along time

`tanks` returns `(entities, steps, features)` ordered by real time, and a
`TankIndex` (each entity's id and time stamps). `split` cuts every entity at the
same step; with `look_back=` the later part starts that many steps early, so its
first window's target is its own first step and no target of a later part is a
training step. `look_back(..., targets=)` keeps the accelerometer as the target.
Here is the cut at the first origin, step 60:
"""


# %%
def prepare(frame: pd.DataFrame) -> tuple:
    """The tanks array, its index, and each recording's activity."""
    data, index = windows.tanks(
        frame, id="recording", time="step", features=SENSORS, return_index=True
    )
    activity = frame.groupby("recording")["activity"].first().loc[index.ids]
    return data, index, activity


def at_origin(data: np.ndarray, origin: int, *, show: bool = False) -> dict:
    """Windows before ``origin`` (train, then validation) and of the next ``EVERY`` steps.

    ``split(..., look_back=)`` starts each later part ``LOOK_BACK`` steps early, so its
    first window's target is its own first step: no target is ever in an earlier part.
    ``model_forecaster(validation=VALID)`` cuts the history the same way at each refit.
    """
    past, future = windows.split(data, origin, look_back=LOOK_BACK)
    train, valid = windows.split(past, origin - VALID, look_back=LOOK_BACK)
    parts = {}
    for name, part in (
        ("train", train),
        ("valid", valid),
        ("test", future[:, : LOOK_BACK + EVERY]),
    ):
        x, y = windows.look_back(part, LOOK_BACK, targets=[SENSORS.index(t) for t in TARGETS])
        if show:
            print(f"{name:5s}: {part.shape} -> x {x.shape}, y {y.shape}")
        parts[name] = (x, y)
    return parts


# %%
data, index, activity = prepare(frame)
print(f"tanks: {data.shape}  (entities, steps, features)")
at_origin(data, ORIGINS[0], show=True)
entities = len(activity)

# %% [markdown]
"""
## The model: many-to-one, scaled inside

`model_forecaster(normalize=True)` wraps each new model in `normalized`: a
`Normalization` adapted on that origin's train inputs in front of the model and a
`Normalization(invert=True)` adapted on its train targets behind it, so it reads and
returns raw sensor units and its `.keras` file carries the statistics. `targets=`
forecasts the three accelerometer axes from all six sensors; `validation=14` holds
the last 14 steps before each refit out for early stopping.
"""


# %%
def lstm_forecaster(cfg: dict, verbose: int) -> backtesting.ModelForecaster:
    """A normalized many_to_one forecasting the accelerometer from all six sensors,
    trained at every ``EVERY``-th origin on the steps before it, stopped early on the
    last ``VALID`` of them; in between it reads the new steps without training."""

    def build() -> keras.Model:
        model = many_to_one(LOOK_BACK, len(SENSORS), cfg["units"], outputs=len(TARGETS))
        model.compile(optimizer=keras.optimizers.Adam(cfg["lr"]), loss="mse")
        return model

    stop = keras.callbacks.EarlyStopping(patience=cfg["patience"], restore_best_weights=True)
    return backtesting.model_forecaster(
        build,
        look_back=LOOK_BACK,
        targets=[SENSORS.index(t) for t in TARGETS],
        normalize=True,  # statistics from each training part, inside the model
        validation=VALID,
        refit_every=EVERY,
        fit_kwargs={
            "epochs": cfg["epochs"],
            "batch_size": cfg["batch"],
            "callbacks": [stop],
            "verbose": verbose,
        },
        name="LSTM (many_to_one, normalized)",
    )


# %%
cfg = dict(CONFIG, epochs=2) if run.quick else CONFIG
print(explain(many_to_one(LOOK_BACK, len(SENSORS), cfg["units"], outputs=3)))

# %% [markdown]
"""
## A rolling-origin backtest

One cut scores the model on one stretch of steps. Instead `backtest` forecasts one
step ahead from every step 60-99, each time from what came before only; with
`refit_every=10` the model is retrained at steps 60, 70, 80 and 90 and reads the
new steps in between: 40 test steps per recording, none seen in training. With the
`index` the rows name each recording by its id and each forecast by its step.
"""

# %%
lstm = run.each_seed(
    f"LSTM at {len(STEPS)} origins, refitted every {EVERY}",
    lambda s: backtest(
        lstm_forecaster(cfg, run.verbose), data, horizon=1, origins=STEPS, index=index
    ),
)

# %% [markdown]
"""
## Per-entity scores beside two baselines, by activity

Persistence repeats the last reading; the linear model is least squares on the same
windows, refitted at the same origins. `score(by="entity")` gives one row per model,
axis and recording; the LSTM is worth its cost only where it beats both.
"""


# %%
class LinearForecaster:
    """Least squares on the flattened window (all six sensors, ten steps) plus a bias,
    refitted every ``EVERY`` origins on the training windows before the last ``VALID``
    steps (the LSTM's training part), forecasting the accelerometer one step ahead."""

    __name__ = "linear (least squares on the window)"

    def __init__(self, first: int):
        self.first = first
        self.targets = [SENSORS.index(t) for t in TARGETS]

    def __call__(self, history: np.ndarray, horizon: int) -> np.ndarray:
        refit = self.first + (history.shape[1] - self.first) // EVERY * EVERY
        x, y = windows.look_back(history[:, : refit - VALID], LOOK_BACK, targets=self.targets)
        design = np.c_[x.reshape(len(x), -1), np.ones(len(x))]
        coef, *_ = np.linalg.lstsq(design, y, rcond=None)
        last = history[:, -LOOK_BACK:].reshape(len(history), -1)
        return (np.c_[last, np.ones(len(last))] @ coef)[:, None, :]  # (entities, 1, targets)


def per_entity_rmse(frame: pd.DataFrame, data: np.ndarray, index: Any) -> pd.Series:
    """Each recording's RMSE over its scored steps and the accelerometer axes (raw units),
    from ``score(by="entity")``'s per-feature rows."""
    table = score(frame, data, index=index, by="entity")
    mse = (table["rmse"] ** 2).groupby(level="entity", sort=False).mean()  # equal n per axis
    return np.sqrt(mse).loc[index.ids]


def by_activity(scores: dict, activity: pd.Series) -> tuple[dict, list]:
    """Each model's mean RMSE over all recordings and over each activity's (a
    :func:`mean_std` over seeds), and the table's rows."""
    kinds = sorted(activity.unique())
    rows, summary = [], {}
    for name, s in scores.items():
        columns = {k: s[:, (activity == k).to_numpy()].mean(axis=1) for k in kinds}
        summary[name] = {"all": mean_std(s.mean(axis=1))} | {
            k: mean_std(v) for k, v in columns.items()
        }
        rows.append([name, *(fmt(summary[name][k], 3) for k in ["all", *kinds])])
    return summary, rows


# %%
persistence = backtest(
    backtesting.persistence_forecaster(), data, horizon=1, origins=STEPS, index=index
)
persistence = persistence[persistence["feature"].isin(TARGETS)]
linear = backtest(LinearForecaster(ORIGINS[0]), data, horizon=1, origins=STEPS, index=index)
scores = {
    "LSTM (many_to_one, normalized)": np.array(
        [per_entity_rmse(f, data, index).to_numpy() for f in lstm]
    ),
    "linear (least squares on the window)": per_entity_rmse(linear, data, index).to_numpy()[None],
    "persistence (last reading)": per_entity_rmse(persistence, data, index).to_numpy()[None],
}
summary, rows = by_activity(scores, activity)
wins = float(
    (scores["LSTM (many_to_one, normalized)"] < scores["persistence (last reading)"]).mean()
)
table = run.table(
    f"Test RMSE per recording over steps 60-99 (raw accelerometer units), "
    f"mean over {entities} recordings",
    ["model", "all", *sorted(activity.unique())],
    rows,
)
print(f"the LSTM beats persistence on {wins:.0%} of (recording, seed) pairs")

# %% [markdown]
"""
## Predictions back to (recording, step), as CSV

The backtest's rows already name each forecast by recording (`entity`) and step
(`time`), so the predictions join the original rows: one row per recording and step,
the actual and predicted value of each axis (the mean over seeds). The plot shows one
recording of each activity.
"""


# %%
def join_predictions(frames: list[pd.DataFrame]) -> pd.DataFrame:
    """The seeds' backtest frames as one row per (recording, step): each axis's actual
    value and its forecast, averaged over seeds."""
    mean = pd.concat(frames).groupby(["entity", "time", "feature"], sort=False)
    mean = mean.agg(actual=("actual", "first"), predicted=("forecast", "mean"))
    joined = mean.unstack("feature")
    joined.columns = [f"{t}_{kind}" for kind, t in joined.columns]
    joined = joined[[f"{t}_{kind}" for t in TARGETS for kind in ("actual", "predicted")]]
    joined = joined.rename_axis(["recording", "step"]).reset_index()
    return joined.sort_values(["recording", "step"], ignore_index=True)


def plot(frame: pd.DataFrame, joined: pd.DataFrame, activity: pd.Series) -> Figure:
    """acc_x and its one-step forecasts for the first recording of each activity."""
    kinds = sorted(activity.unique())
    fig, axes = figure(2, 2, figsize=(10, 6), sharex=True)
    for ax, kind in zip(axes.flat, kinds):
        rec = activity[activity == kind].index[0]
        truth = frame[frame["recording"] == rec].sort_values("step")
        ax.plot(truth["step"], truth["acc_x"], color="black", lw=1, label="acc_x")
        mine = joined[joined["recording"] == rec]
        ax.plot(mine["step"], mine["acc_x_predicted"], lw=1.5, label="LSTM, one step ahead")
        ax.axvline(ORIGINS[0], color="grey", ls=":")
        ax.set(title=f"recording {rec} ({kind})")
    for ax in axes[-1]:
        ax.set_xlabel("step (10 Hz)")
    axes.flat[0].legend()
    fig.suptitle("Steps 60-99 predicted one step ahead, refitted every 10 steps")
    fig.tight_layout()
    return fig


# %%
joined = join_predictions(lstm)
run.out.mkdir(parents=True, exist_ok=True)
joined.to_csv(run.out / "predictions.csv", index=False)
print(f"predictions: {run.out / 'predictions.csv'} ({len(joined)} rows)")
print(joined.head(3).to_string())
results = {"rmse": summary, "lstm_beats_persistence": wins, "config": cfg, "table": table}
run.save(results, plot(frame, joined, activity))
