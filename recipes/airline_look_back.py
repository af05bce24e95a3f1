"""Airline passengers, one month ahead: the classic tutorial's five LSTMs, then a better one.

Pattern: many-to-one (look-back windows), plain and stateful.
Data: monthly airline passengers 1949-1960 (`datasets.load_airline`); first 96 months
train, last 48 test, as in the classic tutorial.
Shows: the five variants of the tutorial (look_back=1 "regression", look_back=3 as
features "window", look_back=3 as steps "time steps", stateful with resets, stacked
stateful), each scored one step ahead on the same 48 test months, beside the
tutorial's published RMSE and the baselines (persistence, seasonal naive, the
parameter-free seasonal random walk on logs). Then this cookbook's own model: it
models what the seasonal random walk cannot predict, the doubly differenced log
series w[t] = log y[t] - log y[t-1] - log y[t-12] + log y[t-13], from 25-month look-back
windows of w, with an LSTM plus a linear "highway" (LSTNet's autoregressive part: a
Dense layer on the window's values added to the LSTM's output), bagged over 5 members
(the data has 58 training windows: small models, averaged, overfit least). The table
also shows the linear highway alone, to show how much of the gain is linear.
Command: python recipes/airline_look_back.py [--quick] [--seed 0] [--seeds 5] [--out DIR]
Expected: the tutorial variants land at about 50-65 passengers RMSE; the cookbook model at
about 12.8, below the airline SARIMA's 13.7 and the seasonal random walk's 15.6, and its
linear part alone at about 12.3 (RESULTS.md has the measured figures).
"""

from __future__ import annotations

from _common import cli, fmt, mean_std, passengers_figure, print_table, save, seed_list

# isort: split

import time
from pathlib import Path

import keras
import numpy as np

from keras_lstm_patterns import baselines, datasets, many_to_one, stateful, windows

NAME = "airline_look_back"
TRAIN = 96
EPOCHS = 100  # the tutorial's
PUBLISHED = {
    "regression": 47.53,
    "window": 58.03,
    "time steps": 58.88,
    "stateful": 52.23,
    "stacked stateful": 56.35,
}
QUOTED_SARIMA = 13.7  # airline SARIMA(0,1,1)(0,1,1)12 on logs, quoted, not fitted here
LINEAR = "its linear highway alone (no LSTM)"
BEST = {"look_back": 25, "units": 4, "epochs": 100, "members": 5, "lr": 3e-3, "batch": 16}


def tutorial_variant(kind: str, scaled: np.ndarray, epochs: int, verbose: int) -> np.ndarray:
    """Train one tutorial variant; return its one-step predictions for the test months."""
    look = 1 if kind == "regression" else 3
    x, y = windows.look_back(scaled, look)  # x[i] ends at month i+look-1, y[i] is month i+look
    target_month = np.arange(look, len(scaled))
    if kind == "window":  # the look-back values side by side as features of one step
        x = x.transpose(0, 2, 1)
    train = target_month < TRAIN
    steps, features = x.shape[1], x.shape[2]
    if kind.endswith("stateful"):
        units = (4, 4) if kind.startswith("stacked") else 4
        model = many_to_one(steps, features, units, outputs=1, stateful=True, batch_size=1)
        model.compile(optimizer="adam", loss="mean_squared_error")
        stateful.fit_stateful(
            model, x[train], y[train], epochs=epochs, batch_size=1, verbose=verbose
        )
        # like the tutorial: run the train months to set the state, then the test months
        stateful.reset_states(model)
        return np.asarray(model.predict(x, batch_size=1, verbose=0))[~train, 0]
    model = many_to_one(steps, features, 4, outputs=1)
    model.compile(optimizer="adam", loss="mean_squared_error")
    model.fit(x[train], y[train], epochs=epochs, batch_size=1, verbose=verbose)
    return np.asarray(model.predict(x[~train], verbose=0))[:, 0]


def highway_lstm(look_back: int, units: int) -> keras.Model:
    """An LSTM plus a linear "highway": `(batch, look_back, 1) -> (batch, 1)`.

    The output is `many_to_one`'s LSTM prediction plus a linear combination of the
    window's values (the autoregressive highway of LSTNet, Lai et al. 2018). The linear
    part carries the seasonal moving-average structure that 58 training windows can
    pin down; the LSTM adds what is not linear. `units=0` keeps the linear part alone.
    """
    inputs = keras.Input((look_back, 1), name="window")
    linear = keras.layers.Dense(1, use_bias=False, name="linear")(
        keras.layers.Flatten(name="values")(inputs)
    )
    if units == 0:
        return keras.Model(inputs, linear, name="linear_highway")
    lstm = many_to_one(look_back, 1, units, outputs=1)(inputs)
    return keras.Model(inputs, keras.layers.Add(name="sum")([lstm, linear]), name="highway_lstm")


def cookbook_lstm(y: np.ndarray, cfg: dict, verbose: int) -> np.ndarray:
    """The seasonal random walk on logs, corrected by models that predict its error."""
    logy = np.log(y)
    w = logy[13:] - logy[12:-1] - logy[1:-12] + logy[:-13]  # w[k] belongs to month k+13
    scale = w[: TRAIN - 13].std()
    x, target = windows.look_back(w / scale, cfg["look_back"])
    month = np.arange(13 + cfg["look_back"], len(y))
    train = month < TRAIN
    preds = []
    for _ in range(cfg["members"]):
        model = highway_lstm(cfg["look_back"], cfg["units"])
        model.compile(optimizer=keras.optimizers.Adam(cfg["lr"]), loss="mse")
        model.fit(
            x[train], target[train], epochs=cfg["epochs"], batch_size=cfg["batch"], verbose=verbose
        )
        preds.append(np.asarray(model.predict(x[~train], verbose=0))[:, 0] * scale)
    t = month[~train]
    return np.exp(logy[t - 1] + logy[t - 12] - logy[t - 13] + np.mean(preds, axis=0))


def main(
    seed: int = 0, seeds: int = 5, quick: bool = False, out: Path | None = None, verbose: int = 2
) -> dict:
    started = time.perf_counter()
    y = datasets.load_airline().to_numpy()
    test = y[TRAIN:]
    lo, hi = y[:TRAIN].min(), y[:TRAIN].max()  # scaler fitted on the train months only
    scaled = (y - lo) / (hi - lo)
    epochs = 3 if quick else EPOCHS
    cfg = dict(BEST, epochs=5, members=2) if quick else BEST

    base = {
        "persistence": baselines.rmse(test, baselines.persistence(y, TRAIN)),
        "seasonal naive": baselines.rmse(test, baselines.seasonal_naive(y, TRAIN)),
        "seasonal random walk (logs)": baselines.rmse(
            test, baselines.seasonal_random_walk(y, TRAIN)
        ),
    }
    scores: dict[str, list[float]] = {k: [] for k in [*PUBLISHED, "cookbook LSTM", LINEAR]}
    last_pred = None
    for s in seed_list(seed, seeds):
        for kind in PUBLISHED:
            keras.utils.set_random_seed(s)
            pred = tutorial_variant(kind, scaled, epochs, verbose) * (hi - lo) + lo
            scores[kind].append(baselines.rmse(test, pred))
            print(f"seed {s} {kind}: test RMSE {scores[kind][-1]:.2f}", flush=True)
        keras.utils.set_random_seed(s)
        last_pred = cookbook_lstm(y, cfg, verbose)
        scores["cookbook LSTM"].append(baselines.rmse(test, last_pred))
        print(f"seed {s} cookbook LSTM: test RMSE {scores['cookbook LSTM'][-1]:.2f}", flush=True)
        keras.utils.set_random_seed(s)
        scores[LINEAR].append(baselines.rmse(test, cookbook_lstm(y, dict(cfg, units=0), verbose)))
        print(f"seed {s} {LINEAR}: test RMSE {scores[LINEAR][-1]:.2f}", flush=True)

    stats = {k: mean_std(v) for k, v in scores.items()}
    rows = [[k, fmt(stats[k]), fmt(PUBLISHED.get(k))] for k in scores]
    rows += [[k, fmt(v), "-"] for k, v in base.items()]
    rows.append(["airline SARIMA (quoted, not fitted here)", "-", fmt(QUOTED_SARIMA)])
    table = print_table(
        f"Test RMSE, passengers (thousands), 48 test months, one step ahead; "
        f"mean ± std over {seeds} seed(s){' (QUICK: not the real result)' if quick else ''}",
        ["model", "this run", "published"],
        rows,
    )
    fig, ax = passengers_figure(y, TRAIN, "One month ahead")
    ax.plot(
        np.arange(TRAIN, len(y)),
        baselines.seasonal_random_walk(y, TRAIN),
        lw=1,
        label="seasonal random walk",
    )
    ax.plot(
        np.arange(TRAIN, len(y)),
        last_pred,
        lw=1.5,
        label=f"cookbook LSTM (seed {seed + seeds - 1})",
    )
    ax.legend()
    results = {
        "rmse": stats,
        "baselines": base,
        "published": PUBLISHED,
        "config": cfg,
        "table": table,
    }
    save(out or Path("results") / NAME, NAME, results, fig, quick=quick, started=started)
    return results


if __name__ == "__main__":
    cli(main, __doc__, NAME)
