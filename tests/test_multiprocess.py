"""Data-parallel training in two processes (JAX, gloo collectives on CPU), and a job that
loses a worker mid-epoch and resumes from its checkpoint.

Every process is started from ``benchmarks/multiprocess.py``, the script a user starts
once per machine, with ``KERAS_BACKEND=jax``; the main process keeps its own backend. One
module fixture runs five processes: the single-process reference on the same global
batches, a two-process job whose process 1 is SIGKILLed in the middle of epoch 1 of the
series case, and that job restarted with the tank case added (the series resumes from
its checkpoint, the tanks train from the start, uninterrupted). Every process it starts
is killed in the end, whatever happened.
"""

from __future__ import annotations

import atexit
import importlib.util
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import keras
import numpy as np
import pytest

from keras_lstm_patterns import distributed

SCRIPT = Path(__file__).resolve().parents[1] / "benchmarks" / "multiprocess.py"
CASES = ["many_to_one:series", "many_to_many:tanks"]  # a 2-D series; a 3-D tank source
LOST = CASES[0]  # the job that loses a worker
EPOCHS = 3
KILL_AT = "1:3"  # process 1 stops after batch 3 of epoch 1 (0-based), then is SIGKILLed
DEADLINE = 900  # seconds for the whole fixture (a loaded two-core machine)

needs_jax = pytest.mark.skipif(
    importlib.util.find_spec("jax") is None, reason="the multi-process path runs on JAX"
)


# The JAX processes run as in a JAX-only install. The test venv also holds TensorFlow for
# the rest of the suite, and Keras's set_random_seed imports TensorFlow whenever it is
# installed, only to seed tf.random (keras/src/utils/rng_utils.py, Keras 3.15.1; importing
# Keras does not: keras-team/keras#18455): about 6 s of CPU in each of these processes.
HIDDEN_TF = Path(tempfile.mkdtemp(prefix="klp-no-tensorflow-"))
atexit.register(shutil.rmtree, HIDDEN_TF, True)
(HIDDEN_TF / "tensorflow").mkdir()
(HIDDEN_TF / "tensorflow" / "__init__.py").write_text(
    'raise ImportError("TensorFlow is hidden from the JAX processes of this test")\n'
)


def jax_env(**more: str) -> dict[str, str]:
    """The environment of a JAX process: JAX backend, quiet, TensorFlow hidden."""
    env = dict(os.environ, KERAS_BACKEND="jax", TF_CPP_MIN_LOG_LEVEL="3", **more)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(HIDDEN_TF), env.get("PYTHONPATH")) if p)
    return env


@needs_jax
def test_the_jax_processes_do_not_see_tensorflow(jax_refusals):
    """Read in the refusals' JAX process (below), started with the same environment."""
    assert jax_refusals["backend"] == "jax"
    assert jax_refusals["tensorflow"] == "TensorFlow is hidden from the JAX processes of this test"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("localhost", 0))
        return s.getsockname()[1]


def tagged(output: str, tag: str) -> list[str]:
    """The text after ``tag`` on each line that has it (gloo's own messages share stdout
    and need not end where a line of ours begins)."""
    return [ln.split(tag + " ", 1)[1] for ln in output.splitlines() if tag + " {" in ln]


class Processes:
    """Start script processes with output in files; ``close`` kills what still runs."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.running: dict[str, subprocess.Popen] = {}
        self.deadline = time.monotonic() + DEADLINE

    def start(self, name: str, *args: str) -> None:
        env = jax_env()
        env.pop("XLA_FLAGS", None)
        out = open(self.folder / f"{name}.out", "w")
        err = open(self.folder / f"{name}.err", "w")
        self.running[name] = subprocess.Popen(
            [sys.executable, str(SCRIPT), *args],
            stdout=out,
            stderr=err,
            env=env,
            start_new_session=True,  # its own process group: killed with its children
        )
        out.close()
        err.close()

    def job(self, name: str, *args: str, extra: dict[int, list[str]] | None = None) -> None:
        """Two processes of one job on a fresh localhost port."""
        port = free_port()
        for i in (0, 1):
            more = (extra or {}).get(i, [])
            common = ["--coordinator", f"localhost:{port}", "--processes", "2"]
            self.start(f"{name}{i}", *args, *common, "--process-id", str(i), *more)

    def output(self, name: str) -> str:
        return (self.folder / f"{name}.out").read_text()

    def failure(self, name: str) -> str:
        err = (self.folder / f"{name}.err").read_text()
        return f"{name} exited with {self.running[name].returncode}:\n{err[-3000:]}"

    def wait_for(self, name: str, text: str) -> None:
        while text not in self.output(name):
            assert self.running[name].poll() is None, self.failure(name)
            assert time.monotonic() < self.deadline, f"{name} never printed {text!r}"
            time.sleep(0.2)

    def finish(self, *names: str) -> dict[str, dict]:
        """Wait for the processes to end well; their ``RESULT`` objects. The first one
        that fails ends the wait (its peers would wait for it until JAX's timeout)."""
        waiting = list(names)
        while waiting:
            for name in list(waiting):
                code = self.running[name].poll()
                if code is None:
                    continue
                if code != 0:
                    pytest.fail(self.failure(name))
                waiting.remove(name)
            if waiting and time.monotonic() > self.deadline:
                pytest.fail(f"{', '.join(waiting)} still running after {DEADLINE} s")
            time.sleep(0.2)
        results = {}
        for name in names:
            lines = tagged(self.output(name), "RESULT")
            assert lines, self.failure(name)
            results[name] = json.loads(lines[-1])
        return results

    def kill(self, name: str) -> None:
        proc = self.running[name]
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()

    def close(self) -> None:
        for name in self.running:
            self.kill(name)


@pytest.fixture(scope="module")
def runs(tmp_path_factory) -> dict:
    folder = tmp_path_factory.mktemp("multiprocess")
    common = ["--epochs", str(EPOCHS), "--shuffle", "--backup", str(folder / "job")]
    cases = [arg for case in CASES for arg in ("--case", case)]
    procs = Processes(folder)
    try:
        procs.start("reference", *common[:3], *cases, "--as-shards", "2")
        procs.job("lost", *common, "--case", LOST, extra={1: ["--pause-at", KILL_AT]})

        procs.wait_for("lost1", "PAUSED")  # mid-epoch 1: epoch 0's checkpoint is written
        procs.kill("lost1")
        procs.kill("lost0")  # the job manager restarts the whole job
        backup = distributed.Backup(folder / "job" / LOST.replace(":", "-"))
        checkpoints = backup.epochs()
        before = {
            name: [json.loads(ln) for ln in tagged(procs.output(name), "EPOCH")]
            for name in ("lost0", "lost1")
        }
        procs.job("resumed", *common, *cases)  # LOST resumes; the tanks start at epoch 0

        out = procs.finish("reference", "resumed0", "resumed1")
    finally:
        procs.close()
    return {**out, "checkpoints": checkpoints, "before": before}


def job_losses(runs: dict, name: str, case: str) -> list[float]:
    """The losses of every epoch of the two-process job: those the lost job printed
    before it was killed, then the resumed job's."""
    run = runs[name]["runs"][case]
    lost = "lost" + name[-1]
    done = [e["loss"] for e in runs["before"][lost] if e["case"] == case]
    return done[: run["start_epoch"]] + run["losses"]


@needs_jax
@pytest.mark.parametrize("case", CASES, ids=["many_to_one-series", "many_to_many-tanks"])
def test_two_processes_train_as_one_on_the_same_global_batches(runs, case):
    reference = runs["reference"]["runs"][case]
    assert len(reference["losses"]) == EPOCHS
    assert reference["losses"][-1] < reference["losses"][0]  # it trained
    for name in ("resumed0", "resumed1"):
        run = runs[name]["runs"][case]
        assert runs[name]["processes"] == 2
        assert run["batches_per_epoch"] == reference["batches_per_epoch"]
        assert run["start_epoch"] == (int(KILL_AT.split(":")[0]) if case == LOST else 0)
        losses = job_losses(runs, name, case)
        assert len(losses) == EPOCHS
        np.testing.assert_allclose(losses, reference["losses"], rtol=1e-6, atol=0)
        for got, want in zip(run["weights"], reference["weights"], strict=True):
            np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-7)


@needs_jax
def test_both_processes_end_with_the_same_weights(runs):
    for case in CASES:
        a, b = (runs[name]["runs"][case]["weights"] for name in ("resumed0", "resumed1"))
        assert a == b  # replicated: bit for bit


@needs_jax
def test_a_lost_worker_resumes_from_the_last_finished_epoch(runs):
    k = int(KILL_AT.split(":")[0])
    # killed in the middle of epoch k: only the checkpoint after epoch k-1 exists
    assert runs["checkpoints"] == [k]
    for name in ("lost0", "lost1"):
        assert [e["epoch"] for e in runs["before"][name]] == list(range(k))
    reference = runs["reference"]["runs"][LOST]
    for name in ("resumed0", "resumed1"):
        resumed = runs[name]["runs"][LOST]
        assert resumed["start_epoch"] == k  # no epoch lost, none repeated
        # the same losses from epoch k on as one process on the same global batches
        np.testing.assert_allclose(resumed["losses"], reference["losses"][k:], rtol=1e-6, atol=0)
    # what was done before the loss matches too
    before = [e["loss"] for e in runs["before"]["lost0"]]
    np.testing.assert_allclose(before, reference["losses"][:k], rtol=1e-6, atol=0)


@needs_jax
def test_a_failing_worker_ends_the_job_and_every_process_is_killed(tmp_path):
    procs = Processes(tmp_path)
    try:
        procs.job("bad", "--epochs", "2", extra={1: ["--epochs", "two"]})  # 1 cannot start
        start = time.monotonic()
        with pytest.raises(pytest.fail.Exception, match="bad1 exited with 2"):
            procs.finish("bad0", "bad1")
        assert time.monotonic() - start < 120  # not JAX's timeout, nor the deadline
        assert procs.running["bad0"].poll() is None  # process 0 still waits for its peer
    finally:
        procs.close()
    assert all(p.poll() is not None for p in procs.running.values())


# The checkpoint itself, in this process (any backend).


def tiny_model() -> keras.Model:
    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2), keras.layers.Dense(1)])
    model.compile(optimizer=keras.optimizers.Adam(0.05), loss="mse")
    return model


XY = (np.linspace(-1, 1, 48).reshape(16, 3).astype("float32"), np.ones((16, 1), "float32"))


def test_backup_resumes_where_an_uninterrupted_run_would_be(tmp_path):
    whole = tiny_model()
    full = whole.fit(*XY, batch_size=4, epochs=4, shuffle=False, verbose=0).history["loss"]

    first = tiny_model()
    backup = distributed.Backup(tmp_path)
    first.fit(*XY, batch_size=4, epochs=2, shuffle=False, callbacks=[backup], verbose=0)
    assert backup.epochs() == [1, 2]

    again = tiny_model()  # a fresh process: same seed, fresh optimizer
    start = backup.restore(again)
    assert start == 2
    rest = again.fit(
        *XY, batch_size=4, epochs=4, initial_epoch=start, shuffle=False, callbacks=[backup]
    ).history["loss"]
    np.testing.assert_allclose(rest, full[2:], rtol=1e-6)  # optimizer state came back too
    for got, want in zip(again.get_weights(), whole.get_weights(), strict=True):
        np.testing.assert_allclose(got, want, rtol=1e-6)
    assert backup.epochs() == [3, 4]  # the two newest kept


def test_a_half_written_checkpoint_is_never_read(tmp_path):
    model = tiny_model()
    backup = distributed.Backup(tmp_path)
    model.fit(*XY, batch_size=4, epochs=2, shuffle=False, callbacks=[backup], verbose=0)
    saved = [w.copy() for w in model.get_weights()]
    # killed while writing epoch 3: the partial file keeps its temporary name
    (tmp_path / ".partial-99-epoch-3.weights.h5").write_bytes(b"\x89HDF\r\n")
    # a newest file that storage lost half of is passed over for the one before
    newest = backup.path(2).read_bytes()
    backup.path(2).write_bytes(newest[: len(newest) // 2])
    fresh = tiny_model()
    assert backup.restore(fresh) == 1
    assert not np.allclose(fresh.get_weights()[0], saved[0])  # epoch 1's, not epoch 2's


def test_keras_backup_and_restore_cannot_read_a_half_written_file(tmp_path):
    """What the package's Backup avoids: Keras's callback rewrites its one file in place,
    and a truncated file stops the restarted ``fit`` (no ``double_checkpoint``)."""
    model = tiny_model()
    keras_backup = keras.callbacks.BackupAndRestore(tmp_path, delete_checkpoint=False)
    model.fit(*XY, batch_size=4, epochs=2, callbacks=[keras_backup], verbose=0)
    weights = tmp_path / "latest.weights.h5"
    weights.write_bytes(weights.read_bytes()[:1000])
    with pytest.raises(OSError):
        tiny_model().fit(*XY, batch_size=4, epochs=3, callbacks=[keras_backup], verbose=0)


def test_backup_refusals(tmp_path):
    with pytest.raises(ValueError, match=r"`keep` must be a positive integer\. Received: keep=0"):
        distributed.Backup(tmp_path, keep=0)
    with pytest.raises(ValueError, match=r"`directory` must be a folder path"):
        distributed.Backup("")
    with pytest.raises(TypeError, match=r"`model` must be a keras\.Model"):
        distributed.Backup(tmp_path).restore("model")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("localhost", 2, 0), '`coordinator` must be a "host:port" string'),
        (("localhost:1234", 0, 0), "`num_processes` must be a positive integer"),
        (("localhost:1234", 2, 2), "`process_id` must be between 0 and 1. Received: process_id=2"),
    ],
    ids=["address", "processes", "process_id"],
)
def test_initialize_refuses_bad_arguments(args, message):
    with pytest.raises(ValueError, match=message):
        distributed.initialize(*args)


@pytest.mark.skipif(keras.backend.backend() == "jax", reason="the refusal of other backends")
def test_initialize_needs_jax():
    with pytest.raises(ValueError, match="`KERAS_BACKEND` must be jax for multi-process"):
        distributed.initialize("localhost:1234", 2, 0)


def test_outside_a_job_there_is_one_process():
    assert (distributed.process_index(), distributed.process_count()) == (0, 1)


# Stateful models refuse a multi-device keras.distribution, as they refuse a strategy.

STATEFUL_REFUSALS = r"""
import json, numpy as np, keras
d = keras.distribution.DataParallel(devices=keras.distribution.list_devices())
keras.distribution.set_distribution(d)
from keras_lstm_patterns import stateful, stateful_generator
gen = stateful_generator(1, batch_size=4, units=4)
gen.compile(optimizer="adam", loss="mse")
x = np.zeros((4, 6, 1), "float32")
calls = {
    "fit_stateful": lambda: stateful.fit_stateful(gen, x, x, epochs=1, batch_size=4, verbose=0),
    "generate": lambda: stateful.generate(gen, x[:, :1], 3),
    "forecast": lambda: stateful.forecast(gen, x, 3),
    "predict_chunks": lambda: stateful.predict_chunks(gen, x, 3),
}
out = {"devices": len(keras.distribution.list_devices()), "backend": keras.backend.backend()}
try:
    import tensorflow
    out["tensorflow"] = "imported"
except ImportError as err:
    out["tensorflow"] = str(err)
for name, call in calls.items():
    try:
        call()
        out[name] = None
    except ValueError as err:
        out[name] = str(err)
print("RESULT " + json.dumps(out))
"""


@pytest.fixture(scope="module")
def jax_refusals() -> dict:
    env = jax_env(XLA_FLAGS="--xla_force_host_platform_device_count=2")
    with tempfile.TemporaryDirectory() as cwd:
        done = subprocess.run(
            [sys.executable, "-c", STATEFUL_REFUSALS],
            capture_output=True,
            text=True,
            env=env,
            cwd=cwd,
            timeout=DEADLINE,
        )
    lines = tagged(done.stdout, "RESULT")
    assert done.returncode == 0 and lines, done.stderr[-3000:]
    return json.loads(lines[-1])


@needs_jax
@pytest.mark.parametrize("call", ["fit_stateful", "generate", "forecast", "predict_chunks"])
def test_stateful_under_a_two_device_keras_distribution_is_refused(jax_refusals, call):
    assert jax_refusals["devices"] == 2
    message = jax_refusals[call]
    assert message is not None, f"{call} ran under DataParallel on 2 devices instead of refusing"
    assert "under keras.distribution.DataParallel with 2 replicas" in message
    assert "row i would not continue row i" in message


@pytest.mark.parametrize("call", ["generate", "predict_chunks"])
def test_the_refusal_reads_the_distribution_in_force(call):
    """In this process, on any backend: a two-device DataParallel set is refused; one
    device, or none, is not."""
    from keras_lstm_patterns import stateful, stateful_generator

    gen = stateful_generator(1, batch_size=2, units=3)
    x = np.zeros((2, 4, 1), "float32")
    run = {
        "generate": lambda: stateful.generate(gen, x[:, :1], 2),
        "predict_chunks": lambda: stateful.predict_chunks(gen, x, 2),
    }[call]
    run()
    try:
        keras.distribution.set_distribution(keras.distribution.DataParallel(devices=["cpu:0"]))
        run()
        two = keras.distribution.DataParallel(devices=["cpu:0", "cpu:1"])
        keras.distribution.set_distribution(two)
        with pytest.raises(ValueError, match="row i would not continue row i") as err:
            run()
        assert "keras.distribution.DataParallel with 2 replicas" in str(err.value)
    finally:
        keras.distribution.set_distribution(None)
