"""Airline passengers: one year in, the next year out, with RepeatVector.

Pattern: one-to-many (`one_to_many`: the input vector is repeated to every output step).
Data: monthly airline passengers; training pairs are (12 months, the following 12
months) slid over the first 96 months; the test years are 1957-1960, each forecast
from the actual year before it.
Shows: a vector-to-sequence model. The 12 input months are one vector of 12 features
(not 12 steps); the decoder LSTM unrolls 12 output steps from it. Values are logs
relative to the input year's mean, so the model learns the shape of the next year and
its growth, not the level.
Command: python recipes/airline_one_to_many.py [--quick] [--seed 0] [--seeds 5] [--out DIR]
Expected: slightly below the seasonal naive forecast (repeat last year) on average;
RESULTS.md has the measured figures.
"""

from __future__ import annotations

from _common import cli, fmt, mean_std, passengers_figure, print_table, save, seed_list

# isort: split

import time
from pathlib import Path

import keras
import numpy as np

from keras_lstm_patterns import baselines, datasets, one_to_many, windows

NAME = "airline_one_to_many"
TRAIN = 96
CONFIG = {"units": 32, "epochs": 300, "batch": 8, "lr": 3e-3}


def pairs(logy: np.ndarray, end: int) -> tuple[np.ndarray, np.ndarray]:
    """(year in, next year) pairs from months before `end`, relative to the input's mean."""
    x, y = windows.look_back(logy[:end], 12, horizon=12)  # x (n, 12, 1), y (n, 12, 1)
    level = x.mean(axis=1, keepdims=True)
    return (x - level)[:, :, 0], y - level


def main(
    seed: int = 0, seeds: int = 5, quick: bool = False, out: Path | None = None, verbose: int = 2
) -> dict:
    started = time.perf_counter()
    y = datasets.load_airline().to_numpy()
    logy = np.log(y)
    x, target = pairs(logy, TRAIN)
    test_in = logy[TRAIN - 12 : -12].reshape(4, 12)  # 1956..1959, each forecasts the next year
    level = test_in.mean(axis=1, keepdims=True)
    truth = y[TRAIN:]
    snaive = baselines.rmse(truth, y[TRAIN - 12 : -12])
    cfg = dict(CONFIG, epochs=3) if quick else CONFIG
    scores, preds = [], []
    for s in seed_list(seed, seeds):
        keras.utils.set_random_seed(s)
        model = one_to_many(12, 12, cfg["units"], outputs=1)
        model.compile(optimizer=keras.optimizers.Adam(cfg["lr"]), loss="mse")
        model.fit(x, target, epochs=cfg["epochs"], batch_size=cfg["batch"], verbose=verbose)
        pred = np.exp(
            np.asarray(model.predict(test_in - level, verbose=0))[:, :, 0] + level
        ).reshape(-1)
        preds.append(pred)
        scores.append(baselines.rmse(truth, pred))
        print(f"seed {s}: test RMSE {scores[-1]:.2f}", flush=True)
    stat = mean_std(scores)
    table = print_table(
        f"RMSE over the 4 test years (48 months), each year from the year before; "
        f"mean ± std over {seeds} seed(s){' (QUICK)' if quick else ''}",
        ["model", "test RMSE"],
        [
            ["one_to_many LSTM (RepeatVector)", fmt(stat)],
            ["seasonal naive (repeat last year)", fmt(snaive)],
        ],
    )
    fig, ax = passengers_figure(y, TRAIN, "Next year from last year")
    t = np.arange(TRAIN, len(y))
    ax.plot(t, y[TRAIN - 12 : -12], lw=1, label="seasonal naive")
    ax.plot(t, np.mean(preds, axis=0), lw=1.5, label="one_to_many LSTM (mean over seeds)")
    ax.legend()
    results = {"rmse": stat, "seasonal_naive": snaive, "config": cfg, "table": table}
    save(out or Path("results") / NAME, NAME, results, fig, quick=quick, started=started)
    return results


if __name__ == "__main__":
    cli(main, __doc__, NAME)
