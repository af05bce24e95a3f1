"""Stateful training: the tutorial's loop of `fit` calls against compiled `fit_stateful`.

    python benchmarks/stateful_fit.py [--epochs 100] [--chunk-epochs 100]

Part 1, the classic tutorial: a stateful LSTM(4) + Dense(1) on the airline series
(first 96 months, min-max scaled, look_back=3, batch size 1, Adam), trained with
`for i in range(100): model.fit(x, y, epochs=1, batch_size=1, shuffle=False);
model.reset_states()` (the Keras 3 spelling of the reset is `stateful.reset_states`),
against `fit_stateful` three ways: the path through Keras's `fit` with a reset callback
(`compiled=False`, what `fit_stateful` did before), compiled with an epoch-level
callback (one program per epoch, callbacks between them), and compiled with nothing
between epochs (every epoch in one program).

Part 2, chunked training (truncated backpropagation through time): 32 noisy sine
sequences of 120 steps, a `stateful_generator(1, batch_size=8, units=(16,))` trained on
the next step with `chunk=20` (4 groups of 8 sequences, 6 chunks each, a reset before
each group), Keras's `fit` path against the compiled one.

Every row starts from the same weights; the final losses must agree within 1e-4
relative (the tests check 1e-5 epoch by epoch). Times are measured in this one run;
compare the ratios.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
import keras
import numpy as np
from _common import table

from keras_lstm_patterns import datasets, many_to_one, stateful, stateful_generator, windows


class EpochCounter(keras.callbacks.Callback):
    """An epoch-level callback: fit_stateful then runs one program per epoch."""

    def __init__(self) -> None:
        super().__init__()
        self.epochs = 0

    def on_epoch_end(self, epoch, logs=None):
        self.epochs += 1


def timed(fn):
    start = time.perf_counter()
    out = fn()
    return out, time.perf_counter() - start


def airline_case() -> tuple[np.ndarray, np.ndarray, list[np.ndarray]]:
    """Part 1's set-up: the min-max scaled airline train months as 93 windows of 3 and
    their targets, and the starting weights every row shares (also torch_compile.py's)."""
    series = datasets.load_airline().to_numpy()
    lo, hi = series.min(), series.max()
    train, _ = windows.split((series - lo) / (hi - lo), 96)
    x, y = windows.look_back(train, 3)
    keras.utils.set_random_seed(7)
    weights = many_to_one(3, 1, 4, outputs=1, stateful=True, batch_size=1).get_weights()
    return x, y, weights


def airline(epochs: int) -> str:
    x, y, weights = airline_case()

    def build():
        model = many_to_one(3, 1, 4, outputs=1, stateful=True, batch_size=1)
        model.set_weights(weights)
        model.compile(optimizer="adam", loss="mean_squared_error")
        return model

    def tutorial():
        model = build()
        for _ in range(epochs):
            hist = model.fit(x, y, epochs=1, batch_size=1, verbose=0, shuffle=False)
            stateful.reset_states(model)
        return hist.history["loss"][-1]

    def ours(**kwargs):
        hist = stateful.fit_stateful(
            build(), x, y, epochs=epochs, batch_size=1, verbose=0, **kwargs
        )
        return hist.history["loss"][-1]

    runs = [
        (f"tutorial loop ({epochs} x fit(epochs=1) + reset)", tutorial),
        (
            "fit_stateful(compiled=False): Keras's fit + reset callback",
            lambda: ours(compiled=False),
        ),
        (
            "fit_stateful, an epoch callback: one program per epoch",
            lambda: ours(callbacks=[EpochCounter()]),
        ),
        ("fit_stateful, no callbacks: all epochs in one program", ours),
    ]
    return measure(runs, f"{len(x)} windows of 3, batch 1, {epochs} epochs")


def chunked(epochs: int) -> str:
    rng = np.random.default_rng(0)
    t = np.arange(121)[None, :, None]
    phase = rng.uniform(0, 2 * np.pi, size=(32, 1, 1))
    seq = (np.sin(t / 6 + phase) + 0.1 * rng.normal(size=(32, 121, 1))).astype("float32")
    x, y = windows.next_step(seq)  # (32, 120, 1) each
    keras.utils.set_random_seed(3)
    weights = stateful_generator(1, batch_size=8, units=(16,)).get_weights()

    def build():
        model = stateful_generator(1, batch_size=8, units=(16,))
        model.set_weights(weights)
        model.compile(optimizer="adam", loss="mse")
        return model

    def fit(**kwargs):
        hist = stateful.fit_stateful(
            build(), x, y, epochs=epochs, batch_size=8, chunk=20, verbose=0, **kwargs
        )
        return hist.history["loss"][-1]

    runs = [
        ("fit_stateful(chunk=20, compiled=False): Keras's fit", lambda: fit(compiled=False)),
        ("fit_stateful(chunk=20), an epoch callback", lambda: fit(callbacks=[EpochCounter()])),
        ("fit_stateful(chunk=20), all epochs in one program", fit),
    ]
    return measure(runs, f"32 sequences of 120 steps, batch 8, {epochs} epochs")


def measure(runs, what: str) -> list[list[str]]:
    """Run each row once; ratios against the first row and the `compiled=False` row."""
    results = [(name, *timed(fn)) for name, fn in runs]
    base_loss, base_time = results[0][1], results[0][2]
    old_time = next(s for name, _, s in results if "compiled=False" in name)
    rows = []
    for name, loss, seconds in results:
        rel = abs(loss - base_loss) / abs(base_loss)
        assert rel <= 1e-4, (name, loss, base_loss)
        rows.append(
            [
                name,
                f"{loss:.6g}",
                f"{seconds:.2f}",
                f"{base_time / seconds:.2f}x",
                f"{old_time / seconds:.2f}x",
            ]
        )
    header = ["training", "final loss", "seconds", "first row / this", "compiled=False / this"]
    text = table(header, rows)
    print(f"\n{what}, {keras.backend.backend()} backend\n\n{text}")
    return text


def main(epochs: int = 100, chunk_epochs: int = 100) -> str:
    return "\n\n".join([airline(epochs), chunked(chunk_epochs)])


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=100)
    parser.add_argument("--chunk-epochs", type=int, default=100)
    args = parser.parse_args()
    main(args.epochs, args.chunk_epochs)
