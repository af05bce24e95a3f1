"""Stateful training: the tutorial's 100 `fit` calls against one `fit_stateful` call.

    python benchmarks/stateful_fit.py [--epochs 100]

The classic tutorial trains its stateful LSTM on the airline series (first 96 months,
min-max scaled, look_back=3, batch size 1) with
`for i in range(100): model.fit(x, y, epochs=1, batch_size=1, shuffle=False); model.reset_states()`
(the Keras 3 spelling of the reset is `stateful.reset_states(model)`). `fit_stateful`
does the same in one `fit` call, resetting at each epoch start. Both start from the same
weights; the final losses must agree within 1e-4 relative, and the time ratio is
printed, measured in this one run.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
import keras
from _common import table

from keras_lstm_patterns import datasets, many_to_one, stateful, windows


def build(weights=None):
    model = many_to_one(3, 1, 4, outputs=1, stateful=True, batch_size=1)
    if weights is not None:
        model.set_weights(weights)
    model.compile(optimizer="adam", loss="mean_squared_error")
    return model


def main(epochs: int = 100) -> str:
    series = datasets.load_airline().to_numpy()
    lo, hi = series.min(), series.max()
    train, _ = windows.split((series - lo) / (hi - lo), 96)
    x, y = windows.look_back(train, 3)
    keras.utils.set_random_seed(7)
    weights = build().get_weights()

    tutorial = build(weights)
    start = time.perf_counter()
    for _ in range(epochs):
        hist = tutorial.fit(x, y, epochs=1, batch_size=1, verbose=0, shuffle=False)
        stateful.reset_states(tutorial)
    t_tutorial = time.perf_counter() - start
    loss_tutorial = hist.history["loss"][-1]

    ours = build(weights)
    start = time.perf_counter()
    hist = stateful.fit_stateful(ours, x, y, epochs=epochs, batch_size=1, verbose=0)
    t_ours = time.perf_counter() - start
    loss_ours = hist.history["loss"][-1]

    rel = abs(loss_ours - loss_tutorial) / abs(loss_tutorial)
    assert rel <= 1e-4, (loss_tutorial, loss_ours)
    rows = [
        [
            f"tutorial loop ({epochs} x fit(epochs=1) + reset)",
            f"{loss_tutorial:.6g}",
            f"{t_tutorial:.1f}",
            f"{t_tutorial / t_ours:.2f}x",
        ],
        [f"fit_stateful(epochs={epochs})", f"{loss_ours:.6g}", f"{t_ours:.1f}", "1.00x"],
    ]
    out = table(["training", "final loss", "seconds", "time / fit_stateful"], rows)
    print(
        f"\nairline, {len(x)} windows of 3, batch 1, stateful LSTM(4) + Dense(1); "
        f"relative loss difference {rel:.2e}\n"
    )
    print(out)
    return out


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=100)
    main(parser.parse_args().epochs)
