"""Your own tanks: a long CSV of several entities to a scaled, trained, evaluated model.

Pattern: many-to-one on per-entity look-back windows, scaled inside the model.
Data: BasicMotions, 80 recordings (the "tanks") x 100 steps x 6 sensors (accelerometer
and gyroscope, x/y/z), read as a long frame `recording, step, acc_x ... gyr_z,
activity`, one row per recording and step, in shuffled row order.
Shows: the whole path a user with their own multi-entity file takes, every step checked:
`tanks` (long frame to `(entities, steps, features)`, ordered by real time), `split`
along time for every entity (later parts whose look-back reaches into the earlier steps),
`look_back(..., targets=)` (windows inside each entity), `normalized` (statistics from
the train part, inside the saved model), a validation part inside the train steps for
early stopping, a rolling-origin evaluation (the model refitted at steps 60, 70, 80 and
90, each time scored one step ahead on the next 10 steps of every recording), a
per-entity test error beside persistence and a linear model refitted at the same
origins, predictions joined back to `(recording, step)` as CSV, and a plot.
Command: python recipes/tanks_own_data.py [--quick] [--seed 0] [--seeds 5] [--out DIR]
How long: about 40 s a seed on two cores (--quick: seconds).
Expected: the LSTM below both baselines on the moving recordings, level with persistence
on the standing ones; RESULTS.md has the measured figures.
"""

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import keras
import numpy as np
import pandas as pd
from _common import Run, figure, fmt, mean_std

from keras_lstm_patterns import datasets, explain, many_to_one, normalized, windows

NAME = "tanks_own_data"
SENSORS = ["acc_x", "acc_y", "acc_z", "gyr_x", "gyr_y", "gyr_z"]
TARGETS = ["acc_x", "acc_y", "acc_z"]
LOOK_BACK = 10  # one second at 10 Hz
ORIGINS = (60, 70, 80, 90)  # refit at each; score the next EVERY steps of every recording
EVERY = 10
VALID = 14  # the last 14 steps before an origin validate (early stopping)
CONFIG = {"units": 32, "epochs": 80, "patience": 8, "batch": 64, "lr": 3e-3}


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


def persistence(x: np.ndarray) -> np.ndarray:
    """Repeat the window's last accelerometer reading."""
    return x[:, -1, : len(TARGETS)]


def linear(train: tuple, x: np.ndarray) -> np.ndarray:
    """Least squares on the flattened window (all six sensors, ten steps), plus a bias."""
    tx, ty = train
    design = np.c_[tx.reshape(len(tx), -1), np.ones(len(tx))]
    coef, *_ = np.linalg.lstsq(design, ty, rcond=None)
    return np.c_[x.reshape(len(x), -1), np.ones(len(x))] @ coef


def per_entity_rmse(pred: list, y: list, entities: int) -> np.ndarray:
    """RMSE over each entity's test steps of every origin (raw units), ``(entities,)``."""
    err = np.concatenate(
        [(p - t).reshape(entities, -1, t.shape[-1]) for p, t in zip(pred, y)], axis=1
    )
    return np.sqrt((err**2).mean(axis=(1, 2)))


def train_model(parts: dict, cfg: dict, verbose: int) -> keras.Model:
    """A normalized many_to_one, stopped early on the validation steps."""
    x, y = parts["train"]
    model = normalized(many_to_one(LOOK_BACK, len(SENSORS), cfg["units"], outputs=3), x, y)
    model.compile(optimizer=keras.optimizers.Adam(cfg["lr"]), loss="mse")
    stop = keras.callbacks.EarlyStopping(patience=cfg["patience"], restore_best_weights=True)
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


def plot(frame: pd.DataFrame, joined: pd.DataFrame, activity: pd.Series) -> tuple:
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


def main(run: Run) -> dict:
    """
    ## The data: a long frame, one row per entity and step

    This is the layout most sensor exports have: an id column, a time column and one
    column per sensor, rows in whatever order the export wrote them (shuffled here on
    purpose).
    """
    frame = long_frame()
    print(frame.head(3).to_string(), f"\n... {len(frame)} rows\n")

    """
    ## Windows inside each entity, split along time

    `tanks` returns `(entities, steps, features)` ordered by real time, and a
    `TankIndex` (each entity's id and time stamps). `split` cuts every entity at the
    same step; with `look_back=` the later part starts that many steps early, so its
    first window's target is its own first step and no target of a later part is a
    training step. `look_back(..., targets=)` keeps the accelerometer as the target.
    Here is the cut at the first origin, step 60:
    """
    data, index, activity = prepare(frame)
    print(f"tanks: {data.shape}  (entities, steps, features)")
    origins = {o: at_origin(data, o, show=o == ORIGINS[0]) for o in ORIGINS}
    truth = [origins[o]["test"][1] for o in ORIGINS]
    entities = len(activity)

    """
    ## The model: many-to-one, scaled inside

    `normalized` puts a `Normalization` adapted on the train inputs in front of the
    model and a `Normalization(invert=True)` adapted on the train targets behind it: it
    reads and returns raw sensor units, and its `.keras` file carries the statistics.
    Early stopping watches the validation steps.
    """
    cfg = dict(CONFIG, epochs=2) if run.quick else CONFIG
    print(explain(many_to_one(LOOK_BACK, len(SENSORS), cfg["units"], outputs=3)))

    """
    ## A rolling-origin evaluation

    One cut scores the model on one stretch of steps. Instead it is refitted at steps
    60, 70, 80 and 90, each time on what came before, and scored one step ahead on the
    next 10 steps of every recording: 40 test steps per recording, none seen in training.
    """

    def one_seed(seed: int) -> list:
        preds = []
        for o in ORIGINS:
            model = train_model(origins[o], cfg, run.verbose)
            preds.append(np.asarray(model.predict(origins[o]["test"][0], verbose=0)))
        return preds

    preds = run.each_seed(f"LSTM at {len(ORIGINS)} origins", one_seed)

    """
    ## Per-entity scores beside two baselines, by activity

    Persistence repeats the last reading; the linear model is least squares on the same
    windows, refitted at the same origins. The LSTM is worth its cost only where it
    beats both.
    """
    test_x = [origins[o]["test"][0] for o in ORIGINS]
    scores = {
        "LSTM (many_to_one, normalized)": np.array(
            [per_entity_rmse(p, truth, entities) for p in preds]
        ),
        "linear (least squares on the window)": per_entity_rmse(
            [linear(origins[o]["train"], x) for o, x in zip(ORIGINS, test_x)], truth, entities
        )[None],
        "persistence (last reading)": per_entity_rmse(
            [persistence(x) for x in test_x], truth, entities
        )[None],
    }
    kinds = sorted(activity.unique())
    rows, summary = [], {}
    for name, s in scores.items():
        columns = {k: s[:, (activity == k).to_numpy()].mean(axis=1) for k in kinds}
        summary[name] = {"all": mean_std(s.mean(axis=1))} | {
            k: mean_std(v) for k, v in columns.items()
        }
        rows.append([name, *(fmt(summary[name][k], 3) for k in ["all", *kinds])])
    lstm = scores["LSTM (many_to_one, normalized)"]
    wins = float((lstm < scores["persistence (last reading)"]).mean())
    table = run.table(
        f"Test RMSE per recording over steps 60-99 (raw accelerometer units), "
        f"mean over {entities} recordings",
        ["model", "all", *kinds],
        rows,
    )
    print(f"the LSTM beats persistence on {wins:.0%} of (recording, seed) pairs")

    """
    ## Predictions back to (recording, step), as CSV

    `window_rows` names the `(recording, step)` of each test target, in the order
    `look_back` made them, so the predictions join the original rows.
    """
    parts = []
    for k, o in enumerate(ORIGINS):
        rows_o = index.window_rows(LOOK_BACK, offset=o - LOOK_BACK)
        rows_o = rows_o[rows_o["step"] < o + EVERY].reset_index(drop=True)
        mean = np.mean([p[k] for p in preds], axis=0)
        for j, t in enumerate(TARGETS):
            rows_o[f"{t}_actual"] = truth[k][:, j]
            rows_o[f"{t}_predicted"] = mean[:, j]
        parts.append(rows_o)
    joined = pd.concat(parts).sort_values(["recording", "step"], ignore_index=True)
    run.out.mkdir(parents=True, exist_ok=True)
    joined.to_csv(run.out / "predictions.csv", index=False)
    print(f"predictions: {run.out / 'predictions.csv'} ({len(joined)} rows)")
    print(joined.head(3).to_string())

    results = {"rmse": summary, "lstm_beats_persistence": wins, "config": cfg, "table": table}
    run.save(results, plot(frame, joined, activity))
    return results


if __name__ == "__main__":
    main(Run.from_command_line(__doc__, NAME))
