"""Data-parallel training on several processes (one per machine), JAX backend.

Start it once per machine, the same command with its own ``--process-id``:

    KERAS_BACKEND=jax python benchmarks/multiprocess.py --coordinator host0:1234 \\
        --processes 2 --process-id 0          # on host0
    KERAS_BACKEND=jax python benchmarks/multiprocess.py --coordinator host0:1234 \\
        --processes 2 --process-id 1          # on host1

Each process trains a factory model on its own shard of the tank windows,
``WindowDataset(tanks, ..., num_shards=processes, shard_index=process_id)``; Keras's
``DataParallel`` averages the gradients, so every process ends with the same weights, the
ones a single process would reach on the same global batches (``--as-shards 2`` runs that
single process: batch k is shard 0's batch k, then shard 1's). ``--backup DIR`` (shared
storage) lets a restarted job resume from the last finished epoch.

``--local N`` starts N processes on this machine (free localhost port) and prints the
time per epoch and the cost of one gradient all-reduce, for the README's figures.
Each process prints ``EPOCH {json}`` after every epoch and ``RESULT {json}`` at the end.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import subprocess
import sys
import tempfile
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

LOOK_BACK = 12
FEATURES = 2  # pressure, temperature


def tank_readings(entities: int, steps: int, seed: int = 0):
    """``(entities, steps, 2)`` float32 stand-in tanks (the same in every process)."""
    import numpy as np

    rng = np.random.default_rng(seed)
    t = np.arange(steps, dtype="float64")
    phase = rng.uniform(0, 2 * np.pi, (entities, 1))
    pressure = np.sin(t / 9.0 + phase) + 0.1 * rng.standard_normal((entities, steps))
    temperature = np.cos(t / 23.0 + phase) + 0.1 * rng.standard_normal((entities, steps))
    return np.stack([pressure, temperature], axis=-1).astype("float32")


def parse(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--coordinator", help="host:port of process 0 (the same everywhere)")
    p.add_argument("--processes", type=int, default=1, help="processes in the job")
    p.add_argument("--process-id", type=int, default=0, help="this process, 0..processes-1")
    p.add_argument(
        "--case",
        action="append",
        help="PATTERN:SOURCE, pattern many_to_one or many_to_many, source tanks "
        "(entities, T, 2) or series (T, 2); repeat for several (default many_to_one:tanks)",
    )
    p.add_argument("--entities", type=int, default=8, help="tanks")
    p.add_argument("--steps", type=int, default=76, help="readings per tank")
    p.add_argument("--batch-size", type=int, default=16, help="windows per process per batch")
    p.add_argument("--units", type=int, default=8)
    p.add_argument("--epochs", type=int, default=3)
    p.add_argument("--seed", type=int, default=0, help="the same in every process")
    p.add_argument("--shuffle", action="store_true", help="a new window order each epoch")
    p.add_argument("--backup", help="checkpoint folder on storage every process shares")
    p.add_argument("--as-shards", type=int, default=0, help="one process, N shards' batches")
    p.add_argument("--time-allreduce", action="store_true", help="time one gradient all-reduce")
    p.add_argument("--pause-at", help="EPOCH:BATCH where this process stops (a lost worker)")
    p.add_argument("--local", type=int, default=0, help="start N processes on this machine")
    return p.parse_args(argv)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("localhost", 0))
        return s.getsockname()[1]


def launch(args: argparse.Namespace, argv: list[str]) -> int:
    """Start ``args.local`` processes on localhost and relay their results."""
    port = free_port()
    rest = [a for a in argv if not a.startswith("--local")]
    if "--local" in argv:  # "--local N" form: drop the number too
        i = argv.index("--local")
        rest = argv[:i] + argv[i + 2 :]
    env = dict(os.environ, KERAS_BACKEND="jax")
    cmds = [
        [
            sys.executable,
            __file__,
            *rest,
            "--coordinator",
            f"localhost:{port}",
            "--processes",
            str(args.local),
            "--process-id",
            str(i),
        ]
        for i in range(args.local)
    ]
    # Output goes to files: a pipe read one process at a time could fill and stall the
    # other, whose peers would then wait for it in their next collective step.
    with tempfile.TemporaryDirectory() as folder:
        files = [open(os.path.join(folder, f"{i}.out"), "w+") for i in range(args.local)]
        procs = [subprocess.Popen(c, env=env, stdout=f) for c, f in zip(cmds, files)]
        try:
            for p in procs:
                p.wait(timeout=3600)
        finally:
            for p in procs:
                if p.poll() is None:
                    p.kill()
                    p.wait()
        outs = []
        for f in files:
            f.seek(0)
            outs.append(f.read())
            f.close()
    for i, (out, proc) in enumerate(zip(outs, procs)):
        if proc.returncode:
            print(f"process {i} failed with exit code {proc.returncode}")
        for line in out.splitlines():
            if "RESULT {" in line:  # gloo's messages share stdout
                r = json.loads(line.split("RESULT ", 1)[1])
                for name, run in r["runs"].items():
                    print(
                        f"process {i} {name}: {run['epoch_seconds']} s per epoch, "
                        f"{run['ms_per_step']:.1f} ms per step, losses {run['losses']}"
                    )
                if "allreduce_ms" in r:
                    print(
                        f"process {i}: one all-reduce of the gradients {r['allreduce_ms']:.2f} ms"
                    )
    return max(p.returncode for p in procs)


def main(argv: list[str] | None = None) -> dict:
    argv = sys.argv[1:] if argv is None else argv
    args = parse(argv)
    if args.local:
        sys.exit(launch(args, argv))

    import keras

    from keras_lstm_patterns import distributed

    if args.processes > 1:
        distributed.initialize(args.coordinator, args.processes, args.process_id)

    import numpy as np

    from keras_lstm_patterns import many_to_many, many_to_one
    from keras_lstm_patterns.streaming import WindowDataset

    class Shards(keras.utils.PyDataset):
        """Batch k of each shard, concatenated in shard order (the global batch)."""

        def __init__(self, parts):
            super().__init__()
            self.parts = parts

        def __len__(self):
            return len(self.parts[0])

        def __getitem__(self, i):
            got = [p[i] for p in self.parts]
            return tuple(np.concatenate(z) for z in zip(*got))

        def on_epoch_end(self):
            for p in self.parts:
                p.on_epoch_end()

    class NextSteps(keras.utils.PyDataset):
        """Windows of LOOK_BACK + 1 steps as (first LOOK_BACK, the next value at each)."""

        def __init__(self, windows):
            super().__init__()
            self.windows = windows

        def __len__(self):
            return len(self.windows)

        def __getitem__(self, i):
            x, y = self.windows[i]
            whole = np.concatenate([x, y[:, None]], axis=1)
            return whole[:, :-1], whole[:, 1:]

        def on_epoch_end(self):
            self.windows.on_epoch_end()

    class Pause(keras.callbacks.Callback):
        def __init__(self, epoch, batch):
            super().__init__()
            self.at = (epoch, batch)
            self.epoch = 0

        def on_epoch_begin(self, epoch, logs=None):
            self.epoch = epoch

        def on_train_batch_end(self, batch, logs=None):
            if (self.epoch, batch) == self.at:
                print(f"PAUSED {self.epoch}:{batch}", flush=True)
                time.sleep(3600)

    class Report(keras.callbacks.Callback):
        def __init__(self, name):
            super().__init__()
            self.name = name

        def on_epoch_begin(self, epoch, logs=None):
            self.start = time.perf_counter()

        def on_epoch_end(self, epoch, logs=None):
            seconds = time.perf_counter() - self.start
            line = {"case": self.name, "epoch": epoch, "loss": float(logs["loss"])}
            print("EPOCH " + json.dumps({**line, "seconds": seconds}), flush=True)
            self.seconds.append(seconds)

    tanks = tank_readings(args.entities, args.steps, args.seed)
    shards = max(args.processes, args.as_shards, 1)
    out: dict = {"process": args.process_id, "processes": args.processes, "runs": {}}
    for case in args.case or ["many_to_one:tanks"]:
        pattern, source = case.split(":")
        # the series: the tanks one after another, cut to as many windows as the tanks give
        count = args.entities * (args.steps - LOOK_BACK)
        data = tanks if source == "tanks" else tanks.reshape(-1, FEATURES)[: count + LOOK_BACK]

        def windows(index, data=data):
            return WindowDataset(
                data,
                LOOK_BACK,
                batch_size=args.batch_size,
                shuffle=args.shuffle,
                seed=args.seed,
                num_shards=shards,
                shard_index=index,
            )

        if args.as_shards:
            parts = [windows(i) for i in range(args.as_shards)]
        else:
            parts = [windows(args.process_id)]
        if parts[0].total % shards:
            raise SystemExit(
                f"{parts[0].total} windows do not split evenly into {shards} shards: every "
                "process needs the same number of batches of the same size"
            )
        if pattern == "many_to_many":
            parts = [NextSteps(p) for p in parts]
        train = parts[0] if len(parts) == 1 else Shards(parts)

        keras.utils.set_random_seed(args.seed)
        if pattern == "many_to_many":
            model = many_to_many(LOOK_BACK, FEATURES, args.units, outputs=FEATURES)
        else:
            model = many_to_one(LOOK_BACK, FEATURES, args.units, outputs=FEATURES)
        model.compile(optimizer=keras.optimizers.Adam(1e-2), loss="mse")
        report = Report(case)
        report.seconds = []
        callbacks: list = [report]
        start = 0
        if args.backup:
            backup = distributed.Backup(os.path.join(args.backup, case.replace(":", "-")))
            start = backup.restore(model, train)
            callbacks.append(backup)
        if args.pause_at:
            callbacks.append(Pause(*map(int, args.pause_at.split(":"))))
        fit_start = time.perf_counter()
        hist = model.fit(
            train,
            epochs=args.epochs,
            initial_epoch=start,
            shuffle=False,
            callbacks=callbacks,
            verbose=0,
        )
        steps = len(train) * (args.epochs - start)
        later = report.seconds[1:] or report.seconds  # the first epoch compiles
        out["runs"][case] = {
            "start_epoch": start,
            "losses": [float(v) for v in hist.history["loss"]],
            "weights": [
                np.asarray(w, dtype="float64").ravel().tolist() for w in model.get_weights()
            ],
            "epoch_seconds": [round(s, 3) for s in report.seconds],
            "ms_per_step": 1000 * sum(later) / (len(train) * len(later)),
            "fit_seconds": time.perf_counter() - fit_start,
            "steps": steps,
            "batches_per_epoch": len(train),
        }

    if args.time_allreduce and args.processes > 1:
        out["allreduce_ms"] = allreduce_ms(model)
    print("RESULT " + json.dumps(out), flush=True)
    if args.processes > 1:
        distributed.shutdown()
    return out


def allreduce_ms(model, repeat: int = 50) -> float:
    """Milliseconds for one sum over all processes of a gradient-sized float32 vector."""
    import jax
    import numpy as np
    from jax.sharding import NamedSharding, PartitionSpec

    size = sum(int(np.prod(w.shape)) for w in model.trainable_weights)
    mesh = jax.sharding.Mesh(np.array(jax.devices()), ("batch",))
    local = np.ones((jax.local_device_count(), size), "float32")
    x = jax.make_array_from_process_local_data(NamedSharding(mesh, PartitionSpec("batch")), local)
    total = jax.jit(lambda a: a.sum(0), out_shardings=NamedSharding(mesh, PartitionSpec()))
    total(x).block_until_ready()
    start = time.perf_counter()
    for _ in range(repeat):
        total(x).block_until_ready()
    return 1000 * (time.perf_counter() - start) / repeat


if __name__ == "__main__":
    main()
