"""Your own tanks: a long CSV of several entities to a scaled, trained, evaluated model.

Pattern: many-to-one on per-entity look-back windows, scaled inside the model.
Data: BasicMotions, 80 recordings (the "tanks") x 100 steps x 6 sensors (accelerometer
and gyroscope, x/y/z), read as a long frame `recording, step, acc_x ... gyr_z,
activity`, one row per recording and step, in shuffled row order.
Shows: the whole path a user with their own multi-entity file takes, every step checked:
`tanks` (long frame to `(entities, steps, features)`, ordered by real time), `split`
along time for every entity (test windows whose look-back reaches into the train steps),
`look_back(..., targets=)` (windows inside each entity, the accelerometer as target),
`normalized` (statistics from the train part, inside the saved model), a validation part
inside the train steps for early stopping, then a per-entity test error beside
persistence and a linear model on the same windows, predictions joined back to
`(recording, step)` and written as CSV, and a plot of a few recordings.
Command: python recipes/tanks_own_data.py [--quick] [--seed 0] [--seeds 5] [--out DIR]
How long: about 1 minute a seed on two cores (--quick: seconds).
Expected: RESULTS.md has the measured figures, by activity.
"""

from __future__ import annotations

from _common import cli, figure, fmt, mean_std, print_table, save, seed_list

# isort: split

import time
from pathlib import Path

import keras
import numpy as np
import pandas as pd

from keras_lstm_patterns import datasets, explain, many_to_one, normalized, windows

NAME = "tanks_own_data"
SENSORS = ["acc_x", "acc_y", "acc_z", "gyr_x", "gyr_y", "gyr_z"]
TARGETS = ["acc_x", "acc_y", "acc_z"]
LOOK_BACK = 10  # one second at 10 Hz
TEST_FROM = 70  # steps 70-99 of every recording are its test part
VALID_FROM = 56  # steps 56-69 validate (early stopping); steps 0-55 train
CONFIG = {"units": 32, "epochs": 80, "patience": 8, "batch": 64, "lr": 3e-3}

"""
## The data: a long frame, one row per entity and step

This is the layout most sensor exports have: an id column, a time column and one column
per sensor, rows in whatever order the export wrote them. Here the rows are shuffled on
purpose; `tanks` puts them back in time order.
"""


def long_frame() -> pd.DataFrame:
    parts = []
    for split in ("train", "test"):
        part = datasets.load_basic_motions(split)
        part["recording"] = part["sample"] + (0 if split == "train" else 40)
        parts.append(part)
    frame = pd.concat(parts, ignore_index=True)
    frame = frame.rename(columns=dict(zip([f"f{i}" for i in range(1, 7)], SENSORS)))
    frame = frame.rename(columns={"label": "activity"})[["recording", "step", *SENSORS, "activity"]]
    return frame.sample(frac=1.0, random_state=0).reset_index(drop=True)


"""
## Windows inside each entity, split along time

`tanks` returns `(entities, steps, features)` and a `TankIndex` (each entity's id and
time stamps). `split` cuts every entity at the same step; with `look_back=` the later
part starts that many steps early, so its first window's target is its first step and
no target of a later part is ever a training step.
"""


def prepare(frame: pd.DataFrame) -> dict:
    data, index = windows.tanks(
        frame, id="recording", time="step", features=SENSORS, return_index=True
    )
    print(f"tanks: {data.shape}  (entities, steps, features)")
    train_valid, test = windows.split(data, TEST_FROM, look_back=LOOK_BACK)
    train, valid = windows.split(train_valid, VALID_FROM, look_back=LOOK_BACK)
    parts = {}
    for name, part in (("train", train), ("valid", valid), ("test", test)):
        x, y = windows.look_back(part, LOOK_BACK, targets=[SENSORS.index(t) for t in TARGETS])
        print(f"{name:5s}: {part.shape} -> x {x.shape}, y {y.shape}")
        parts[name] = (x, y)
    parts["rows"] = index.window_rows(LOOK_BACK, offset=TEST_FROM - LOOK_BACK)
    parts["activity"] = frame.groupby("recording")["activity"].first().loc[index.ids]
    return parts


"""
## Baselines on the same windows

Persistence repeats the last reading. The linear model is least squares on the flattened
window (all six sensors, ten steps), fitted on the train windows: the LSTM has to beat
both to be worth its cost.
"""


def persistence(x: np.ndarray) -> np.ndarray:
    return x[:, -1, : len(TARGETS)]


def linear(train: tuple, x: np.ndarray) -> np.ndarray:
    tx, ty = train
    design = np.c_[tx.reshape(len(tx), -1), np.ones(len(tx))]
    coef, *_ = np.linalg.lstsq(design, ty, rcond=None)
    return np.c_[x.reshape(len(x), -1), np.ones(len(x))] @ coef


def per_entity_rmse(pred: np.ndarray, y: np.ndarray, entities: int) -> np.ndarray:
    """RMSE over each entity's test windows (raw sensor units), ``(entities,)``."""
    err = (pred - y).reshape(entities, -1, y.shape[-1])
    return np.sqrt((err**2).mean(axis=(1, 2)))


"""
## The model: many-to-one, scaled inside

`normalized` puts a `Normalization` adapted on the train inputs in front of the model and
a `Normalization(invert=True)` adapted on the train targets behind it: the model reads
and returns raw sensor units, and its `.keras` file carries the statistics.
"""


def train_model(parts: dict, cfg: dict, verbose: int) -> keras.Model:
    x, y = parts["train"]
    model = normalized(many_to_one(LOOK_BACK, len(SENSORS), cfg["units"], outputs=3), x, y)
    model.compile(optimizer=keras.optimizers.Adam(cfg["lr"]), loss="mse")
    stop = keras.callbacks.EarlyStopping(
        patience=cfg["patience"], restore_best_weights=True, monitor="val_loss"
    )
    model.fit(
        x,
        y,
        validation_data=parts["valid"],
        epochs=cfg["epochs"],
        batch_size=cfg["batch"],
        callbacks=[stop],
        verbose=verbose,
    )
    return model


def main(
    seed: int = 0, seeds: int = 5, quick: bool = False, out: Path | None = None, verbose: int = 2
) -> dict:
    started = time.perf_counter()
    out = out or Path("results") / NAME
    frame = long_frame()
    print(frame.head(3).to_string(), f"\n... {len(frame)} rows", flush=True)
    parts = prepare(frame)
    tx, ty = parts["test"]
    entities = len(parts["activity"])
    cfg = dict(CONFIG, epochs=2) if quick else CONFIG
    print(explain(many_to_one(LOOK_BACK, len(SENSORS), cfg["units"], outputs=3)))

    lstm_scores, preds = [], []
    for s in seed_list(seed, seeds):
        keras.utils.set_random_seed(s)
        model = train_model(parts, cfg, verbose)
        preds.append(np.asarray(model.predict(tx, verbose=0)))
        lstm_scores.append(per_entity_rmse(preds[-1], ty, entities))
        print(f"seed {s}: mean per-entity test RMSE {lstm_scores[-1].mean():.3f}", flush=True)

    """
    ## Per-entity scores, by activity
    """
    scores = {
        "LSTM (many_to_one, normalized)": np.array(lstm_scores),
        "linear (least squares on the window)": per_entity_rmse(
            linear(parts["train"], tx), ty, entities
        )[None],
        "persistence (last reading)": per_entity_rmse(persistence(tx), ty, entities)[None],
    }
    activities = sorted(parts["activity"].unique())
    rows, summary = [], {}
    for name, s in scores.items():
        by = {
            a: mean_std(s[:, (parts["activity"] == a).to_numpy()].mean(axis=1)) for a in activities
        }
        overall = mean_std(s.mean(axis=1))
        summary[name] = {"all": overall, **by}
        rows.append([name, fmt(overall, 3), *(fmt(by[a], 3) for a in activities)])
    wins = (np.array(lstm_scores) < scores["persistence (last reading)"]).mean()
    table = print_table(
        f"Test RMSE per recording (raw accelerometer units), mean over {entities} recordings, "
        f"then mean ± std over {seeds} seed(s){' (QUICK: 2 epochs)' if quick else ''}",
        ["model", "all", *activities],
        rows,
    )
    print(f"the LSTM beats persistence on {wins:.0%} of (recording, seed) pairs")

    """
    ## Predictions back to (recording, step), as CSV
    """
    joined = parts["rows"].copy()
    for j, t in enumerate(TARGETS):
        joined[f"{t}_actual"] = ty[:, j]
        joined[f"{t}_predicted"] = np.mean(preds, axis=0)[:, j]
    out.mkdir(parents=True, exist_ok=True)
    joined.to_csv(out / "predictions.csv", index=False)
    print(f"predictions: {out / 'predictions.csv'} ({len(joined)} rows)")
    print(joined.head(3).to_string())

    fig, axes = figure(2, 2, figsize=(10, 6), sharex=True)
    shown = [parts["activity"][parts["activity"] == a].index[0] for a in activities]
    for ax, rec, activity in zip(axes.flat, shown, activities):
        truth = frame[frame["recording"] == rec].sort_values("step")
        ax.plot(truth["step"], truth["acc_x"], color="black", lw=1, label="acc_x")
        mine = joined[joined["recording"] == rec]
        ax.plot(mine["step"], mine["acc_x_predicted"], lw=1.5, label="LSTM, one step ahead")
        ax.axvline(TEST_FROM, color="grey", ls=":")
        ax.set(title=f"recording {rec} ({activity})")
    for ax in axes[-1]:
        ax.set_xlabel("step (10 Hz)")
    axes.flat[0].legend()
    fig.tight_layout()
    fig.suptitle("Test steps (right of the dotted line) predicted one step ahead")
    results = {
        "rmse": summary,
        "lstm_beats_persistence": float(wins),
        "config": cfg,
        "table": table,
    }
    save(out, NAME, results, fig, quick=quick, started=started)
    return results


if __name__ == "__main__":
    cli(main, __doc__, NAME)
