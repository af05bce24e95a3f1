"""Yearly sunspots: how many steps (years of look-back) a one-year-ahead LSTM needs.

Pattern: many-to-one regression on look-back windows (`windows.look_back` +
`many_to_one`).
Data: yearly sunspot numbers 1700-2008 (`datasets.load_sunspots`); train on 1700-1920,
test one year ahead on 1921-2008.
Shows: the sunspot cycle is about 11 years long, and the common advice is that the
window must cover it. The measurement says otherwise for one-year-ahead forecasts: a
window of 2-4 years already holds the level and the slope, which place the series in
its cycle, and longer windows gain little (15 to 25 years do worse and vary more
between seeds on the 221 training years). The number of LSTM units stays fixed at 16 while the number of
steps grows: units are the width of the state, steps are how far the layer unrolls, and
the two are independent.
Command: python recipes/sunspots_steps.py [--quick] [--seed 0] [--seeds 5] [--out DIR]
Expected: test RMSE about 17.5-19 for look-backs of 2 to 12 years against persistence's
30.4; 15 to 30 years are worse and vary more between seeds (RESULTS.md has the curve).
"""

from __future__ import annotations

from _common import cli, figure, fmt, mean_std, print_table, save, seed_list

# isort: split

import time
from pathlib import Path

import keras
import numpy as np

from keras_lstm_patterns import baselines, datasets, many_to_one, windows

NAME = "sunspots_steps"
SPLIT_YEAR = 1921
LOOK_BACKS = [2, 3, 4, 6, 8, 10, 12, 15, 20, 25, 30]
CONFIG = {"units": 16, "epochs": 150, "batch": 16, "lr": 3e-3}


def score(series: np.ndarray, years: np.ndarray, look: int, cfg: dict, verbose: int) -> float:
    scale = series[years < SPLIT_YEAR].max()
    x, y = windows.look_back(series / scale, look)
    target_year = years[look:]
    train, test = target_year < SPLIT_YEAR, target_year >= SPLIT_YEAR
    model = many_to_one(look, 1, cfg["units"], outputs=1)
    model.compile(optimizer=keras.optimizers.Adam(cfg["lr"]), loss="mse")
    model.fit(x[train], y[train], epochs=cfg["epochs"], batch_size=cfg["batch"], verbose=verbose)
    pred = np.asarray(model.predict(x[test], verbose=0))[:, 0] * scale
    return baselines.rmse(series[years >= SPLIT_YEAR], pred)


def main(
    seed: int = 0, seeds: int = 5, quick: bool = False, out: Path | None = None, verbose: int = 2
) -> dict:
    started = time.perf_counter()
    s = datasets.load_sunspots()
    series, years = s.to_numpy(), s.index.to_numpy()
    looks = [2, 11] if quick else LOOK_BACKS
    cfg = dict(CONFIG, epochs=3) if quick else CONFIG
    start = int(np.argmax(years >= SPLIT_YEAR))
    persistence = baselines.rmse(series[start:], baselines.persistence(series, start))
    curve = {}
    for look in looks:
        runs = []
        for sd in seed_list(seed, seeds):
            keras.utils.set_random_seed(sd)
            runs.append(score(series, years, look, cfg, verbose))
        curve[look] = mean_std(runs)
        print(f"look_back {look}: test RMSE {fmt(curve[look])}", flush=True)
    table = print_table(
        f"Sunspots, one year ahead, test {SPLIT_YEAR}-2008; LSTM({cfg['units']}); "
        f"mean ± std over {seeds} seed(s){' (QUICK)' if quick else ''}; persistence {persistence:.2f}",
        ["look_back (steps)", "test RMSE"],
        [[k, fmt(v)] for k, v in curve.items()],
    )
    fig, ax = figure(figsize=(7, 4))
    ks = list(curve)
    means = np.array([curve[k]["mean"] for k in ks])
    stds = np.array([curve[k]["std"] for k in ks])
    ax.errorbar(
        ks, means, yerr=stds, marker="o", capsize=3, label=f"LSTM({cfg['units']}), mean ± std"
    )
    ax.axhline(persistence, ls=":", color="grey", label="persistence")
    ax.axvspan(10, 12, color="orange", alpha=0.2, label="one solar cycle (~11 years)")
    ax.set(
        xlabel="look_back = steps (years)",
        ylabel="test RMSE (sunspot number)",
        title="Test error against window length",
    )
    ax.legend()
    results = {
        "rmse_by_look_back": {str(k): v for k, v in curve.items()},
        "persistence": persistence,
        "config": cfg,
        "table": table,
    }
    save(out or Path("results") / NAME, NAME, results, fig, quick=quick, started=started)
    return results


if __name__ == "__main__":
    cli(main, __doc__, NAME)
