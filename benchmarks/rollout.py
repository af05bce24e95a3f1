"""Feedback rollout: four ways to generate 1000 steps with a stateful LSTM, batch 1.

    python benchmarks/rollout.py [--horizon 1000] [--units 32]

A `stateful_generator(1, units=32)` (stateful LSTM(32) + a per-step Dense(1)) produces
`--horizon` new steps, each output fed back as the next input, by:
  1. a `model.predict` loop (what the classic answers show),
  2. a `model(x)` loop (eager calls),
  3. a `model.predict_on_batch` loop,
  4. `stateful.generate` (the whole loop as one compiled program).
All four must return the same sequence (atol 1e-5). Time per step and ratios against
`generate` are printed, measured in this one run (after one warm-up call each).
With KERAS_BACKEND=jax or torch only 2 and 4 run (Keras's predict and predict_on_batch
do not carry a stateful layer's state on JAX): `generate` is then one jax.jit-compiled
fori_loop, or on PyTorch a loop over the LSTM cell's own `call` and the Dense layer's,
without gradients. On PyTorch a third row times the general path that any other model
takes (a `keras.ops` loop of pure model calls in a `StatelessScope`, the only path
before), with the same outputs.
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

from keras_lstm_patterns import _backends, stateful, stateful_generator


def loop(model, first, horizon, call):
    stateful.reset_states(model)
    out, cur = [], first
    for _ in range(horizon):
        cur = keras.ops.convert_to_numpy(call(cur))[:, -1:]
        out.append(cur)
    return np.concatenate(out, axis=1)


def main(horizon: int = 1000, units: int = 32) -> str:
    keras.utils.set_random_seed(0)
    model = stateful_generator(1, batch_size=1, units=units)
    first = np.full((1, 1, 1), 0.5, "float32")
    ways = {
        "model.predict loop": lambda x: model.predict(x, verbose=0),
        "model(x) loop": lambda x: model(x, training=False),
        "predict_on_batch loop": model.predict_on_batch,
    }
    if keras.backend.backend() != "tensorflow":
        # Keras's predict and predict_on_batch do not carry the state on JAX
        ways = {"model(x) loop": ways["model(x) loop"]}
    results, seconds = {}, {}
    if keras.backend.backend() == "torch":
        layers = stateful.stateful_layers(model)

        def general(n):
            stateful.reset_states(model)
            return _backends.run_pure(model, layers, "rollout", first, n, None)

        general(3)  # warm-up
        start = time.perf_counter()
        results["general path (pure calls)"] = general(horizon)
        seconds["general path (pure calls)"] = time.perf_counter() - start
    for name, call in ways.items():
        loop(model, first, 3, call)  # warm-up: trace once
        start = time.perf_counter()
        results[name] = loop(model, first, horizon, call)
        seconds[name] = time.perf_counter() - start
        print(f"{name}: {seconds[name] / horizon * 1e3:.3f} ms/step", flush=True)
    stateful.generate(model, first, horizon)  # warm-up: compile once (jax.jit: per length)
    start = time.perf_counter()
    results["stateful.generate"] = stateful.generate(model, first, horizon)
    seconds["stateful.generate"] = time.perf_counter() - start
    ref = results["model(x) loop"]
    for name, got in results.items():
        np.testing.assert_allclose(got, ref, atol=1e-5, err_msg=name)
    gen = seconds["stateful.generate"]
    rows = [[name, f"{s / horizon * 1e3:.4f}", f"{s / gen:,.1f}x"] for name, s in seconds.items()]
    out = table(["method", "ms per step", "time / generate"], rows)
    print(
        f"\n{keras.backend.backend()}: stateful LSTM({units}) + Dense(1), batch 1, {horizon} steps, "
        "outputs equal (atol 1e-5)\n"
    )
    print(out)
    return out


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--horizon", type=int, default=1000, help="new steps generated")
    parser.add_argument("--units", type=int, default=32)
    a = parser.parse_args()
    main(a.horizon, a.units)
