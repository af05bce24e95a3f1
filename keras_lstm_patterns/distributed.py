"""Training on several processes or machines: Keras's data parallelism on JAX.

One call per process, before Keras builds anything, joins the processes and sets a
``keras.distribution.DataParallel`` over every device of every process; each process
then feeds its own share of each batch (a ``WindowDataset(..., num_shards=N,
shard_index=i)``) and ``fit`` averages the gradients across all of them. On CPU the
processes talk through gloo collectives.

:class:`Backup` is a checkpoint for such runs that survives a lost worker: one process
writes it, atomically (a half-written file is never read), and every process restores it
when the job is started again.

``tf.distribute.MultiWorkerMirroredStrategy`` is not the way: under Keras 3 its ``fit``
fails in every worker (keras-team/keras#20585, checked with Keras 3.15.1 and
TensorFlow 2.21).
"""

from __future__ import annotations

import os
import re
import tempfile
from pathlib import Path
from typing import Any

import keras

from . import _backends
from ._checks import check_int, fail

__all__ = ["Backup", "initialize", "process_count", "process_index", "shutdown"]

_ADDRESS = re.compile(r"^\[?[A-Za-z0-9_.:-]+\]?:\d{1,5}$")


def initialize(
    coordinator: str,
    num_processes: int,
    process_id: int,
    *,
    cpu_collectives: str = "gloo",
) -> keras.distribution.DataParallel:
    """Join this process to a data-parallel job and return the job's distribution.

    Call it once in every process, first thing, before any model or array is made
    (JAX fixes its devices at the first computation). It sets JAX's CPU collectives,
    calls ``keras.distribution.initialize`` (``jax.distributed.initialize``: process 0
    hosts the coordinator at ``coordinator``, the others connect to it), then sets a
    ``keras.distribution.DataParallel`` over every device of every process with
    ``auto_shard_dataset=False``: each process feeds its own part of every batch, all
    processes the same number of batches of the same size, and the global batch is
    process 0's part, then process 1's, and so on. Build every model with the same
    seed in every process (``keras.utils.set_random_seed``).

    Needs ``KERAS_BACKEND=jax`` (Keras's multi-process training on TensorFlow,
    ``MultiWorkerMirroredStrategy``, fails under Keras 3: keras-team/keras#20585).

    Args:
        coordinator: ``"host:port"`` of process 0, the same string in every process.
        num_processes: how many processes take part.
        process_id: this process's number, ``0`` to ``num_processes - 1``.
        cpu_collectives: JAX's CPU collectives, ``"gloo"`` (or ``"mpi"``); ignored by
            accelerators, which use their own.

    Returns:
        The ``keras.distribution.DataParallel`` now in force.

    Raises:
        ArgumentError: a malformed address or number, a backend other than JAX, or JAX
            already started in this process.

    >>> from keras_lstm_patterns import distributed
    >>> distributed.initialize("localhost:12345", 2, process_id=2)
    Traceback (most recent call last):
    ...
    keras_lstm_patterns._errors.ArgumentError: `process_id` must be between 0 and 1. Received: process_id=2
    """
    if not isinstance(coordinator, str) or not _ADDRESS.match(coordinator):
        fail("coordinator", 'a "host:port" string such as "10.0.0.1:1234"', coordinator)
    num_processes = check_int("num_processes", num_processes)
    process_id = check_int("process_id", process_id, low=0, high=num_processes - 1)
    if cpu_collectives not in ("gloo", "mpi"):
        fail("cpu_collectives", "'gloo' or 'mpi'", cpu_collectives)
    try:
        _backends.set_cpu_collectives(cpu_collectives)
    except NotImplementedError:
        fail(
            "KERAS_BACKEND",
            "jax for multi-process training (Keras's multi-worker path on TensorFlow, "
            "MultiWorkerMirroredStrategy, fails under Keras 3: keras-team/keras#20585); "
            "start every process with KERAS_BACKEND=jax",
            _backends.NAME,
        )
    try:
        keras.distribution.initialize(coordinator, num_processes, process_id)
    except RuntimeError as err:
        fail(
            "initialize",
            "called before JAX computes anything in this process (before any model, "
            f"array or device query): JAX said {err}",
            None,
            shown="a process whose JAX backend had already started",
        )
    distribution = keras.distribution.DataParallel(auto_shard_dataset=False)
    keras.distribution.set_distribution(distribution)
    return distribution


def shutdown() -> None:
    """Leave the job (``jax.distributed.shutdown``); a no-op outside one.

    Call it at the end of every process of a job that :func:`initialize` joined. On
    every other backend (:func:`initialize` accepts only JAX) it does nothing.

    Returns:
        ``None``.

    Raises:
        Nothing of its own: on JAX, whatever ``jax.distributed.shutdown`` raises
            (nothing outside a job).

    >>> shutdown()
    """
    _backends.shutdown_processes()


def process_index() -> int:
    """This process's number in the job (``0`` outside a multi-process job).

    On JAX this asks JAX, which starts its backend: in a job, call it after
    :func:`initialize`, since ``initialize`` refuses to run once JAX has started.

    Returns:
        An ``int`` from ``0`` to ``process_count() - 1``; always ``0`` on every backend
        but JAX.

    Raises:
        Nothing of its own: on JAX, whatever ``jax.process_index`` raises.

    >>> process_index()
    0
    """
    return _backends.process_index()


def process_count() -> int:
    """How many processes the job has (``1`` outside a multi-process job).

    On JAX this asks JAX, which starts its backend: in a job, call it after
    :func:`initialize`, since ``initialize`` refuses to run once JAX has started.

    Returns:
        A positive ``int``; always ``1`` on every backend but JAX.

    Raises:
        Nothing of its own: on JAX, whatever ``jax.process_count`` raises.

    >>> process_count()
    1
    """
    return _backends.process_count()


_NAME = re.compile(r"^epoch-(\d+)\.weights\.h5$")


class Backup(keras.callbacks.Callback):
    """A checkpoint at the end of every epoch that a restarted job resumes from.

    ``keras.callbacks.BackupAndRestore`` rewrites one weights file in place from every
    process (a truncated one stops the restarted ``fit`` with ``OSError``), and writes
    the epoch number in a second file after it, so a process killed between the two
    would leave weights of one epoch labelled with the one before. ``Backup`` keeps the
    file of process 0 only (every process saves, since on JAX reading the distributed
    variables is a step all processes take; the others write to a scratch folder), with
    the epoch in the file's name, written under a temporary name and then renamed (one
    atomic step on a POSIX file system): a file killed half-written keeps its temporary
    name and is never read, and the previous checkpoint stays. The two newest are kept;
    a newest one that cannot be read is passed over for the one before.

    Use it with :meth:`restore`, which loads the newest checkpoint (weights and
    optimizer state) and returns the epoch to start from, and replays the dataset's
    ``on_epoch_end`` once per finished epoch, so a shuffled ``WindowDataset`` visits
    the windows in the order the uninterrupted run would have::

        backup = distributed.Backup("/shared/run-7")
        start = backup.restore(model, train)
        model.fit(train, epochs=20, initial_epoch=start, shuffle=False, callbacks=[backup])

    Every process must see the same directory (shared storage) and build its model with
    the same seed. Nothing is deleted at the end of training.

    Args:
        directory: where the checkpoints go, shared by every process of the job.
        keep: how many of the newest checkpoints to keep (at least 1).

    Raises:
        ValueError: ``directory`` is not a non-empty ``str`` or path-like object, or
            ``keep`` is not a positive integer (an ``ArgumentError`` naming it).

    >>> import tempfile, numpy as np
    >>> model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(1)])
    >>> model.compile(optimizer="adam", loss="mse")
    >>> backup = Backup(tempfile.mkdtemp())
    >>> x, y = np.ones((8, 3)), np.ones((8, 1))
    >>> start = backup.restore(model)
    >>> _ = model.fit(x, y, epochs=2, initial_epoch=start, callbacks=[backup], verbose=0)
    >>> backup.restore(model), backup.epochs()
    (2, [1, 2])
    """

    def __init__(self, directory: str | os.PathLike[str], *, keep: int = 2) -> None:
        super().__init__()
        if not isinstance(directory, str | os.PathLike) or not str(directory):
            fail("directory", "a folder path (shared by every process)", directory)
        self.directory = Path(directory)
        self.keep = check_int("keep", keep)

    def path(self, epoch: int) -> Path:
        """The checkpoint written after ``epoch`` finished epochs."""
        return self.directory / f"epoch-{epoch}.weights.h5"

    def epochs(self) -> list[int]:
        """The finished-epoch counts of the complete checkpoints, oldest first."""
        if not self.directory.is_dir():
            return []
        found = (_NAME.match(p.name) for p in self.directory.iterdir())
        return sorted(int(m.group(1)) for m in found if m)

    def restore(self, model: keras.Model, dataset: Any = None) -> int:
        """Load the newest readable checkpoint into ``model``; return its epoch count.

        Args:
            model: the compiled model, built with the same seed as before.
            dataset: a ``keras.utils.PyDataset`` whose ``on_epoch_end`` moves its order
                on (a shuffled ``WindowDataset``): called once per finished epoch.

        Returns:
            The epoch to pass as ``fit(initial_epoch=...)`` (``0`` without a checkpoint).

        Raises:
            TypeError: ``model`` is not a ``keras.Model`` (an ``ArgumentTypeError``).
            ValueError: a checkpoint exists but ``model`` is not built yet (an
                ``ArgumentError`` naming ``model``).
        """
        if not isinstance(model, keras.Model):
            shown = f"model of type {type(model).__name__}"
            fail("model", "a keras.Model", model, shown=shown, error=TypeError)
        done = 0
        for epoch in reversed(self.epochs()):
            if not model.built:
                fail("model", "built before restore (call it on one batch)", model.name)
            if model.optimizer is not None and not model.optimizer.built:
                model.optimizer.build(model.trainable_variables)
            try:
                model.load_weights(self.path(epoch))
            except (OSError, ValueError):
                continue  # unreadable (storage lost it): the one before
            done = epoch
            break
        if dataset is not None:
            for _ in range(done):
                dataset.on_epoch_end()
        return done

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        # Every process saves (saving reads the distributed variables, which on JAX is a
        # step all processes take together); only process 0's file is kept.
        final = self.path(epoch + 1)
        if process_index() != 0:
            with tempfile.TemporaryDirectory() as scratch:
                self.model.save_weights(Path(scratch) / final.name)
            return
        self.directory.mkdir(parents=True, exist_ok=True)
        partial = self.directory / f".partial-{os.getpid()}-{final.name}"
        self.model.save_weights(partial, overwrite=True)
        with open(partial, "rb") as f:
            os.fsync(f.fileno())
        os.replace(partial, final)  # atomic: the name appears complete or not at all
        for old in self.epochs()[: -self.keep]:
            self.path(old).unlink(missing_ok=True)
