"""Live stepping: latency per observation of `stateful.step` against one-step Keras calls.

    python benchmarks/step.py [--observations 500] [--units 32]

A `stateful_generator(1, units=32)` (stateful LSTM(32) + a per-step Dense(1)), batch 1,
receives `--observations` observations one at a time, each call continuing the state
the previous one left, by:
  1. `model.predict_on_batch(x[:, None, :])` (the usual way to run one step),
  2. `model(x[:, None, :])` (an eager call),
  3. `stateful.step(model, x)`.
The outputs must equal the eager loop's (atol 1e-5) where the method carries the state
(Keras's `predict_on_batch` does not on JAX: its row is timed but not compared). After a
warm-up, the methods take turns for `--rounds` rounds (each run from reset states), so a
burst of load from other work hits them alike; each method's fastest run is reported,
and the ratios are taken in this one run.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).parent))
import keras
from _common import table

from keras_lstm_patterns import stateful, stateful_generator


def run(model, observations, call):
    stateful.reset_states(model)
    start = time.perf_counter()
    out = [keras.ops.convert_to_numpy(call(x)) for x in observations]
    return time.perf_counter() - start, np.stack(out, axis=1)


def main(n: int = 500, units: int = 32, rounds: int = 7) -> str:
    keras.utils.set_random_seed(0)
    model = stateful_generator(1, batch_size=1, units=units)
    observations = list(np.random.default_rng(0).normal(size=(n, 1, 1)).astype("float32"))
    backend = keras.backend.backend()
    ways = {
        "predict_on_batch, one step": lambda x: model.predict_on_batch(x[:, None, :])[:, -1],
        "model(x), one step": lambda x: model(x[:, None, :], training=False)[:, -1],
        "stateful.step": lambda x: stateful.step(model, x),
    }
    for call in ways.values():
        run(model, observations[:3], call)  # warm-up: trace or compile once
    seconds, results = {}, {}
    for _ in range(rounds):
        for name, call in ways.items():
            s, results[name] = run(model, observations, call)
            seconds[name] = min(s, seconds.get(name, s))
    for name, s in seconds.items():
        print(f"{name}: {s / n * 1e3:.4f} ms/observation", flush=True)
    ref = results["model(x), one step"]
    for name, got in results.items():
        if backend == "jax" and name.startswith("predict_on_batch"):
            continue  # Keras's predict_on_batch does not carry the state on JAX
        np.testing.assert_allclose(got, ref, atol=1e-5, err_msg=name)
    fast = seconds["stateful.step"]
    rows = [[name, f"{s / n * 1e3:.4f}", f"{s / fast:,.1f}x"] for name, s in seconds.items()]
    out = table(["method", "ms per observation", "time / step"], rows)
    print(
        f"\n{backend}: stateful LSTM({units}) + Dense(1), batch 1, {n} observations one at a "
        f"time, best of {rounds} rounds, outputs equal (atol 1e-5)\n"
    )
    print(out)
    return out


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--observations", type=int, default=500)
    parser.add_argument("--units", type=int, default=32)
    parser.add_argument("--rounds", type=int, default=7)
    a = parser.parse_args()
    main(a.observations, a.units, a.rounds)
