"""Train under ``tf.distribute.MirroredStrategy`` on two logical CPU devices.

Run as a script by ``tests/test_distributed.py`` (devices must be configured before
TensorFlow starts, so it needs a process of its own). Prints one JSON object.
"""

from __future__ import annotations

import json
import os


def main() -> dict:
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    import tensorflow as tf

    cpu = tf.config.list_physical_devices("CPU")[0]
    tf.config.set_logical_device_configuration(
        cpu, [tf.config.LogicalDeviceConfiguration(), tf.config.LogicalDeviceConfiguration()]
    )
    import keras
    import numpy as np

    from keras_lstm_patterns import many_to_many, many_to_one, stateful, stateful_generator, windows

    series = np.sin(np.arange(1200, dtype="float32") / 20.0)
    x, y = windows.look_back(series, 16)
    seqs = np.stack([series[i : i + 40] for i in range(0, 800, 40)])[..., None]
    sx, sy = windows.next_step(seqs)

    def train(strategy, kind: str) -> list[float]:
        keras.utils.set_random_seed(0)
        with strategy.scope():
            if kind == "many_to_many":
                model = many_to_many(None, 1, 8, outputs=1)
            else:
                model = many_to_one(16, 1, 8, outputs=1)
            model.compile(optimizer=keras.optimizers.Adam(1e-2), loss="mse")
        if kind == "many_to_one":
            hist = model.fit(x, y, batch_size=64, epochs=2, shuffle=False, verbose=0)
        elif kind == "window_dataset":
            ds = windows.WindowDataset(series[:1168], 16, batch_size=64)
            hist = model.fit(ds, epochs=2, shuffle=False, verbose=0)  # keep batch order
        else:
            hist = model.fit(sx, sy, batch_size=4, epochs=2, shuffle=False, verbose=0)
        return [float(v) for v in hist.history["loss"]]

    mirrored = tf.distribute.MirroredStrategy(["/cpu:0", "/cpu:1"])
    default = tf.distribute.get_strategy()
    out: dict = {"replicas": mirrored.num_replicas_in_sync}
    for kind in ("many_to_one", "many_to_many", "window_dataset"):
        out[kind] = {"single": train(default, kind), "mirrored": train(mirrored, kind)}
    with mirrored.scope():
        gen = stateful_generator(1, batch_size=4, units=4)
        gen.compile(optimizer="adam", loss="mse")
    refusals = {}
    for name, call in {
        "fit_stateful": lambda: stateful.fit_stateful(
            gen, sx[:4], sy[:4], epochs=1, batch_size=4, verbose=0
        ),
        "generate": lambda: stateful.generate(gen, np.zeros((4, 1, 1)), 3),
        "forecast": lambda: stateful.forecast(gen, sx[:4], 3),
        "predict_chunks": lambda: stateful.predict_chunks(gen, sx[:4], 13),
    }.items():
        try:
            call()
            refusals[name] = None
        except ValueError as err:
            refusals[name] = str(err)
    out["stateful_refusals"] = refusals
    return out


if __name__ == "__main__":
    print("RESULT " + json.dumps(main()))
