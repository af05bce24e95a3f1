"""What a rolling-origin backtest of a small airline LSTM costs: refit at each origin or
fine-tune from the previous origin's weights.

The model is ``many_to_one(12, 1, 8, outputs=1)`` on the doubly differenced, scaled log
series the airline recipes use (``differencing((1, 12), log=True)``, statistics from
each origin's history), rolled out recursively ``--horizon`` months from each of
``--origins`` origins ``--every`` months apart, the last forecast ending in 1960-12.
``refit="each"`` trains ``--epochs`` epochs from fresh weights at every origin;
``refit="fine_tune"`` trains ``--epochs`` at the first origin and ``--fine-tune-epochs``
at each later one. Prints the time of each (seed, refit) backtest, the time a run of
``--target-seeds`` seeds would take, and the scores beside the baselines (and the fitted
airline SARIMA and ETS when statsmodels is installed) at the same origins.

Command: python benchmarks/backtest_cost.py [--seeds 2] [--origins 12] [--epochs 100]
"""

from __future__ import annotations

import _common  # noqa: F401  (quiet TensorFlow)

# isort: split

import argparse
import importlib.util
import logging
import os
import time

import keras
import numpy as np
import pandas as pd
from _common import table

from keras_lstm_patterns import datasets, many_to_one
from keras_lstm_patterns.backtesting import (
    backtest,
    differencing,
    model_forecaster,
    score,
    seasonal_naive_forecaster,
    seasonal_random_walk_forecaster,
)

logging.getLogger("tensorflow").setLevel(logging.ERROR)


def build() -> keras.Model:
    model = many_to_one(12, 1, 8, outputs=1)
    model.compile(optimizer=keras.optimizers.Adam(3e-3), loss="mse")
    return model


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.strip().splitlines()[0])
    p.add_argument("--seeds", type=int, default=2)
    p.add_argument("--target-seeds", type=int, default=5)
    p.add_argument("--origins", type=int, default=12)
    p.add_argument("--every", type=int, default=4)
    p.add_argument("--horizon", type=int, default=12)
    p.add_argument("--epochs", type=int, default=100)
    p.add_argument("--fine-tune-epochs", type=int, default=20)
    p.add_argument("--batch", type=int, default=16)
    args = p.parse_args()

    y = datasets.load_airline()
    common = dict(horizon=args.horizon, origins=args.origins, every=args.every)
    frames = [
        backtest(seasonal_naive_forecaster(12), y, **common),
        backtest(seasonal_random_walk_forecaster(12), y, **common),
    ]
    if importlib.util.find_spec("statsmodels") is not None:
        from keras_lstm_patterns.backtesting import ets_forecaster, sarima_forecaster

        for f in (sarima_forecaster(), ets_forecaster(12)):
            start = time.perf_counter()
            frames.append(backtest(f, y, **common))
            print(f"{f.__name__}: {time.perf_counter() - start:.1f} s", flush=True)
    origins = sorted(int(o) for o in frames[0]["origin"].unique())
    print(
        f"airline, horizon {args.horizon}, {len(origins)} origins {origins}; "
        f"cpu threads {os.cpu_count()}",
        flush=True,
    )

    times: dict[str, list[float]] = {"each": [], "fine_tune": []}
    rmse: dict[str, list[float]] = {"each": [], "fine_tune": []}
    for refit in ("each", "fine_tune"):
        for seed in range(args.seeds):
            f = model_forecaster(
                build,
                look_back=12,
                fit_kwargs={"epochs": args.epochs, "batch_size": args.batch},
                refit=refit,
                fine_tune_epochs=args.fine_tune_epochs,
                transform=differencing((1, 12), log=True),
                seed=seed,
                name=f"LSTM(8), refit {refit}",
            )
            start = time.perf_counter()
            frame = backtest(f, y, **common)
            times[refit].append(time.perf_counter() - start)
            err = frame["forecast"] - frame["actual"]
            rmse[refit].append(float(np.sqrt(np.mean(err**2))))
            print(
                f"refit={refit} seed {seed}: {times[refit][-1]:.1f} s, RMSE {rmse[refit][-1]:.2f}",
                flush=True,
            )
            frames.append(frame.assign(model=f"{frame['model'].iloc[0]}, seed {seed}"))

    rows = []
    for refit in ("each", "fine_tune"):
        per_seed = float(np.mean(times[refit]))
        rows.append(
            [
                refit,
                args.epochs if refit == "each" else f"{args.epochs} then {args.fine_tune_epochs}",
                f"{per_seed:.1f}",
                f"{per_seed * args.target_seeds / 60:.1f}",
                f"{np.mean(rmse[refit]):.2f} ± {np.std(rmse[refit]):.2f}",
            ]
        )
    print()
    print(
        table(
            [
                "refit",
                "epochs per origin",
                f"s per seed ({len(origins)} origins)",
                f"min for {args.target_seeds} seeds",
                f"RMSE over {args.seeds} seed(s)",
            ],
            rows,
        )
    )
    scores = score(pd.concat(frames), y, season=12)
    overall = scores.xs("all", level="step")[["rmse", "mae", "mase"]].round(3)
    print()
    print(
        table(
            ["model", "RMSE", "MAE", "MASE (season 12)"], [[k, *v] for k, v in overall.iterrows()]
        )
    )


if __name__ == "__main__":
    main()
