"""Arrays shaped ``(samples, steps, features)`` for recurrent layers, as zero-copy views.

A recurrent layer reads a 3-D array: ``samples`` independent sequences, each ``steps``
long, each step a vector of ``features`` numbers. ``steps`` is how far the layer unrolls;
it has nothing to do with the number of ``units``. The functions here cut such arrays out
of one long series (``look_back``, ``sliding``, ``next_step``), out of a long pandas frame
with one row per entity and time step (``tanks``), and split long sequences along time
for a stateful layer (``stateful_chunks``). Every window is a read-only view of the input:
no values are copied.
"""

from __future__ import annotations

import mmap
from collections.abc import Sequence
from typing import Any

import keras
import numpy as np
import pandas as pd
from numpy.lib.stride_tricks import as_strided

from ._checks import as_series, check_finite, check_int, fail, is_int

__all__ = [
    "WindowDataset",
    "look_back",
    "next_step",
    "sliding",
    "split",
    "stateful_chunks",
    "tanks",
]


def _windows(arr: np.ndarray, start: int, length: int, count: int, stride: int) -> np.ndarray:
    """``count`` read-only windows ``arr[start + i*stride : ... + length]`` of a 2-D array."""
    s0, s1 = arr.strides
    base = arr[start:]
    return as_strided(
        base, shape=(count, length, arr.shape[1]), strides=(stride * s0, s0, s1), writeable=False
    )


def look_back(
    series: Any, look_back: int, *, horizon: int = 1, stride: int = 1
) -> tuple[np.ndarray, np.ndarray]:
    """Look-back windows and the values that follow them.

    ``x[i] = series[i*stride : i*stride + look_back]`` and ``y[i]`` is the value right
    after that window (or the next ``horizon`` values). The classic tutorial's
    ``create_dataset`` loop makes ``n - look_back - 1`` samples and so silently drops
    the last window; this makes all ``(n - look_back - horizon) // stride + 1``.

    Args:
        series: ``(time,)`` or ``(time, features)`` numbers; a 1-D series gets a
            features axis of 1.
        look_back: steps per window, between 1 and ``time - horizon``.
        horizon: how many following values form the target.
        stride: distance between the starts of two windows.

    Returns:
        ``(x, y)``, read-only views of ``series``: ``x`` is
        ``(samples, steps=look_back, features)``; ``y`` is ``(samples, features)`` for
        ``horizon=1`` and ``(samples, horizon, features)`` otherwise.

    Raises:
        ValueError: a size out of range, a series that is not 1-D/2-D, not numeric, or
            holds NaN or inf.

    >>> x, y = look_back(np.arange(10.0), 3)
    >>> x.shape, y.shape
    ((7, 3, 1), (7, 1))
    >>> x[0, :, 0], y[0]
    (array([0., 1., 2.]), array([3.]))
    """
    arr = as_series("series", series)
    n = arr.shape[0]
    horizon = check_int(
        "horizon", horizon, high=max(n - 1, 0), context=f" for a series of length {n}"
    )
    look_back = check_int(
        "look_back",
        look_back,
        high=n - horizon,
        context=f" for a series of length {n} and horizon={horizon}",
    )
    stride = check_int("stride", stride)
    count = (n - look_back - horizon) // stride + 1
    x = _windows(arr, 0, look_back, count, stride)
    y = _windows(arr, look_back, horizon, count, stride)
    return x, (y[:, 0, :] if horizon == 1 else y)


def sliding(series: Any, steps: int, *, stride: int = 1) -> np.ndarray:
    """Every window of ``steps`` consecutive values, ``stride`` apart.

    Element for element the windows that
    ``keras.utils.timeseries_dataset_from_array(series, None, sequence_length=steps,
    sequence_stride=stride)`` yields, but as one view (and always with a features axis,
    which Keras drops for a 1-D series).

    Args:
        series: ``(time,)`` or ``(time, features)``.
        steps: window length, between 1 and ``time``.
        stride: distance between window starts.

    Returns:
        A read-only ``(samples, steps, features)`` view with
        ``samples = (time - steps) // stride + 1``.

    >>> sliding(np.arange(10.0), 4, stride=3).shape
    (3, 4, 1)
    """
    arr = as_series("series", series)
    n = arr.shape[0]
    steps = check_int("steps", steps, high=n, context=f" for a series of length {n}")
    stride = check_int("stride", stride)
    return _windows(arr, 0, steps, (n - steps) // stride + 1, stride)


def next_step(sequences: Any) -> tuple[np.ndarray, np.ndarray]:
    """Inputs and one-step-ahead targets for training a generator or forecaster.

    Args:
        sequences: ``(samples, steps, features)`` values, or ``(samples, steps)``
            integer tokens.

    Returns:
        ``(sequences[:, :-1], sequences[:, 1:])``: each ``(samples, steps - 1, ...)``,
        read-only views; ``y[:, t]`` is the step after ``x[:, t]``.

    >>> x, y = next_step(np.zeros((2, 5, 3)))
    >>> x.shape, y.shape
    ((2, 4, 3), (2, 4, 3))
    """
    arr = np.asarray(sequences)
    if arr.ndim not in (2, 3):
        fail(
            "sequences",
            "3-D `(samples, steps, features)` or 2-D `(samples, steps)` tokens",
            arr.shape,
            shown=f"sequences with shape {arr.shape}",
        )
    if not np.issubdtype(arr.dtype, np.number):
        fail("sequences", "numeric", arr.dtype, shown=f"sequences with dtype {arr.dtype}")
    if arr.shape[1] < 2:
        fail(
            "sequences",
            "at least 2 steps long",
            arr.shape,
            shown=f"sequences with shape {arr.shape}",
        )
    check_finite("sequences", arr)
    view = arr.view()
    view.flags.writeable = False
    return view[:, :-1], view[:, 1:]


def tanks(
    frame: pd.DataFrame,
    *,
    id: str,
    time: str,
    features: str | Sequence[str],
    pad: float | None = None,
) -> np.ndarray | tuple[np.ndarray, np.ndarray]:
    """A long frame (one row per entity and time step) as ``(entities, steps, features)``.

    Entities are sorted by ``id`` and steps by ``time``, whatever the row order. This is
    the layout the recurrent layer reads: tank A's pressures and temperatures over five
    hours are ``x[0]``, tank B's ``x[1]``.

    Args:
        frame: a ``pandas.DataFrame`` with the id, time and feature columns.
        id: column naming the entity (tank, speaker, sample).
        time: column ordering the steps within an entity.
        features: column name(s) that form one step's vector.
        pad: if given, shorter entities are padded at the end with this value (feed the
            result to a ``Masking(mask_value=pad)`` layer); otherwise unequal lengths
            raise.

    Returns:
        ``x`` of shape ``(entities, steps, features)``; with ``pad``, ``(x, lengths)``
        where ``lengths[i]`` is entity i's true number of steps.

    Raises:
        ValueError: missing or non-numeric columns, NaN/inf values, duplicate
            ``(id, time)`` rows, unequal lengths without ``pad``.

    >>> df = pd.DataFrame({"tank": ["B", "A", "A", "B"], "hour": [0, 1, 0, 1],
    ...                    "P": [5.0, 2.0, 1.0, 6.0], "T": [50.0, 20.0, 10.0, 60.0]})
    >>> tanks(df, id="tank", time="hour", features=["P", "T"]).shape
    (2, 2, 2)
    """
    if not isinstance(frame, pd.DataFrame):
        fail("frame", "a pandas.DataFrame", None, shown=f"frame of type {type(frame).__name__}")
    feats = [features] if isinstance(features, str) else list(features)
    if not feats:
        fail("features", "a non-empty list of column names", features)
    missing = [c for c in [id, time, *feats] if c not in frame.columns]
    if missing:
        fail(
            "features" if set(missing) <= set(feats) else ("id" if id in missing else "time"),
            "columns of the frame (columns: " + ", ".join(map(str, frame.columns)) + ")",
            missing,
            shown="missing columns " + ", ".join(map(repr, missing)),
        )
    bad = [c for c in feats if not pd.api.types.is_numeric_dtype(frame[c])]
    if bad:
        fail(
            "features",
            "numeric columns",
            bad,
            shown=", ".join(f"{c!r} with dtype {frame[c].dtype}" for c in bad),
        )
    if pad is not None and not (isinstance(pad, (int, float, np.number)) and np.isfinite(pad)):
        fail("pad", "None or a finite number", pad)
    dup = frame.duplicated([id, time])
    if dup.any():
        row = frame.iloc[int(np.argmax(dup.to_numpy()))]
        fail(
            "frame",
            f"one row per ({id}, {time})",
            None,
            shown=f"duplicate rows for {id}={row[id].item() if hasattr(row[id], 'item') else row[id]!r}, "
            f"{time}={row[time].item() if hasattr(row[time], 'item') else row[time]!r}",
        )
    ordered = frame.sort_values([id, time], kind="stable")
    values = ordered[feats].to_numpy(dtype="float64")
    check_finite("frame", values)
    codes, _ = pd.factorize(ordered[id], sort=True)
    lengths = np.bincount(codes)
    longest = int(lengths.max()) if len(lengths) else 0
    if pad is None and len(lengths) and lengths.min() != longest:
        short = int(np.argmin(lengths))
        fail(
            "pad",
            "a number when entities have unequal lengths",
            None,
            shown=f"pad=None with lengths from {lengths.min()} to {longest} "
            f"(entity #{short} has {lengths[short]} steps)",
        )
    position = ordered.groupby(codes, sort=False).cumcount().to_numpy()
    out = np.full((len(lengths), longest, len(feats)), np.nan if pad is None else pad)
    out[codes, position] = values
    return out if pad is None else (out, lengths)


def stateful_chunks(sequences: Any, chunk: int) -> list[np.ndarray]:
    """Split long sequences along time into consecutive batches for a stateful layer.

    With ``stateful=True``, row i of each batch continues row i of the previous batch.
    This cuts ``(N, T, F)`` into ``(N, chunk, F)`` pieces in time order (the last may be
    shorter), which is exactly that layout: feed them in order, reset after the last.

    Args:
        sequences: ``(samples, steps, features)``.
        chunk: steps per batch, between 1 and ``steps``.

    Returns:
        A list of read-only views, ``ceil(steps / chunk)`` long.

    >>> [c.shape for c in stateful_chunks(np.zeros((4, 5, 2)), 2)]
    [(4, 2, 2), (4, 2, 2), (4, 1, 2)]
    """
    arr = np.asarray(sequences)
    if arr.ndim != 3:
        fail(
            "sequences",
            "3-D `(samples, steps, features)`",
            arr.shape,
            shown=f"sequences with shape {arr.shape}",
        )
    t = arr.shape[1]
    chunk = check_int("chunk", chunk, high=t, context=f" for sequences of {t} steps")
    view = arr.view()
    view.flags.writeable = False
    return [view[:, s : s + chunk] for s in range(0, t, chunk)]


def split(series: Any, train: float | int = 0.67) -> tuple[np.ndarray, np.ndarray]:
    """Chronological train/test split, never shuffled.

    Args:
        series: anything indexable along its first axis (array, ``Series``).
        train: a fraction in (0, 1) (the first ``int(n * train)`` items train, as in the
            classic tutorial) or a count between 1 and ``n - 1``.

    Returns:
        ``(train_part, test_part)``, views of ``series`` when it is an array.

    >>> a, b = split(np.arange(144.0))
    >>> len(a), len(b)
    (96, 48)
    """
    n = len(series)
    if n < 2:
        fail("series", "at least 2 items long", n, shown=f"series of length {n}")
    if is_int(train):
        cut = check_int("train", train, high=n - 1, context=f" for a series of length {n}")
    elif isinstance(train, float) and 0.0 < train < 1.0:
        cut = int(n * train)
        if not 1 <= cut <= n - 1:
            fail("train", f"a fraction leaving both parts non-empty for length {n}", train)
    else:
        fail("train", "a fraction in (0, 1) or a count", train)
    return series[:cut], series[cut:]


def _file_mapping(arr: np.ndarray) -> mmap.mmap | None:
    """The read-only file mapping under a memmap view, if there is one."""
    base: Any = arr
    while base is not None:
        mapping = getattr(base, "_mmap", None)
        if isinstance(mapping, mmap.mmap):
            return mapping if hasattr(mapping, "madvise") else None
        if isinstance(base, mmap.mmap):
            return base
        base = getattr(base, "base", None)
    return None


class WindowDataset(keras.utils.PyDataset):
    """Look-back windows cut on demand, one batch at a time, for ``model.fit``.

    For a series too long to hold as ``(samples, look_back, features)`` (an array or a
    ``numpy.memmap`` of years of readings): memory holds one batch of windows. A 3-D
    source ``(entities, T, features)`` (tanks) gives windows within each entity, never
    across two. ``shuffle=True`` permutes the window start indices each epoch (with a
    random affine permutation, so no index array is stored); the values inside a window
    are never reordered. Each batch is checked for NaN and inf as it is cut.

    For several workers (``MultiWorkerMirroredStrategy``), give each its own
    ``shard_index`` out of ``num_shards``: worker ``i`` takes every ``num_shards``-th
    window of the (shuffled) order starting at ``i``, so with the same ``seed`` the
    shards are disjoint and together cover every window exactly once per epoch.

    Args:
        series: ``(time,)``, ``(time, features)`` or ``(entities, time, features)``.
        look_back: steps per window.
        horizon: following values per target (``y`` is ``(batch, features)`` for 1).
        batch_size: windows per batch (the last batch may be smaller).
        stride: steps between the starts of consecutive windows (``look_back`` gives
            windows that do not overlap, so an epoch reads every value once).
        shuffle: visit the windows in a new random order each epoch.
        seed: for the shuffling (the same on every worker when sharding).
        num_shards, shard_index: this worker's share of the windows.
        **kwargs: passed to ``keras.utils.PyDataset`` (``workers``...).

    >>> ds = WindowDataset(np.arange(100.0), 10, batch_size=32)
    >>> len(ds), ds[0][0].shape, ds[0][1].shape
    (3, (32, 10, 1), (32, 1))
    >>> WindowDataset(np.arange(100.0), 10, batch_size=32, stride=10).count
    9
    """

    RELEASE_EVERY = 16

    def __init__(
        self,
        series: Any,
        look_back: int,
        *,
        horizon: int = 1,
        batch_size: int,
        stride: int = 1,
        shuffle: bool = False,
        seed: int | None = None,
        num_shards: int = 1,
        shard_index: int = 0,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        arr = np.asarray(series)  # a memmap stays a view of the file
        if arr.ndim in (1, 2):
            arr = arr.reshape(1, arr.shape[0], -1)
        if arr.ndim != 3 or not np.issubdtype(arr.dtype, np.number):
            fail(
                "series",
                "numeric `(time,)`, `(time, features)` or `(entities, time, features)`",
                None,
                shown=f"series with shape {np.shape(series)} and dtype {arr.dtype}",
            )
        t = arr.shape[1]
        self.horizon = check_int(
            "horizon", horizon, high=max(t - 1, 0), context=f" for series of length {t}"
        )
        self.look_back = check_int(
            "look_back",
            look_back,
            high=t - self.horizon,
            context=f" for series of length {t} and horizon={self.horizon}",
        )
        self.batch_size = check_int("batch_size", batch_size)
        self.stride = check_int("stride", stride)
        self.num_shards = check_int("num_shards", num_shards)
        self.shard_index = check_int("shard_index", shard_index, low=0, high=self.num_shards - 1)
        self.series = arr
        self._mapping = _file_mapping(arr)
        self.per_entity = (t - self.look_back - self.horizon) // self.stride + 1
        self.total = arr.shape[0] * self.per_entity  # windows of all shards
        if self.total < self.num_shards:
            fail("num_shards", f"at most the number of windows ({self.total})", num_shards)
        self.count = len(range(self.shard_index, self.total, self.num_shards))  # this shard
        self.shuffle = bool(shuffle)
        self._rng = np.random.default_rng(seed)
        self._affine = (1, 0)
        if self.shuffle:
            self._draw_order()

    def _draw_order(self) -> None:
        n = self.total
        while True:
            a = int(self._rng.integers(1, max(n, 2)))
            if np.gcd(a, n) == 1:
                break
        self._affine = (a, int(self._rng.integers(0, n)))

    def on_epoch_end(self) -> None:
        if self.shuffle:
            self._draw_order()
        self.release()

    def release(self) -> None:
        """Drop the file pages a memmap source has read from this process's memory.

        Reading a memmap maps the pages it touched into the process, so an epoch over a
        file would otherwise leave the whole file resident. The pages stay in the
        operating system's cache; only the process's share is released. Called every
        ``RELEASE_EVERY`` batches and at the end of each epoch; does nothing for arrays.
        """
        if self._mapping is not None:
            self._mapping.madvise(mmap.MADV_DONTNEED)

    @property
    def num_batches(self) -> int:
        return -(-self.count // self.batch_size)

    def __len__(self) -> int:
        return self.num_batches

    def positions(self, i: int) -> np.ndarray:
        """The window numbers in batch ``i`` (entity * windows_per_entity + window)."""
        k = np.arange(
            i * self.batch_size, min(self.count, (i + 1) * self.batch_size), dtype=np.int64
        )
        k = k * self.num_shards + self.shard_index  # this shard's places in the order
        a, c = self._affine
        return (a * k + c) % self.total

    def __getitem__(self, i: int) -> tuple[np.ndarray, np.ndarray]:
        if not 0 <= i < len(self):
            raise IndexError(f"batch {i} out of range for {len(self)} batches")
        if i % self.RELEASE_EVERY == self.RELEASE_EVERY - 1:
            self.release()
        pos = self.positions(i)
        entity, start = np.divmod(pos, self.per_entity)
        start = start * self.stride
        steps = start[:, None] + np.arange(self.look_back)
        x = self.series[entity[:, None], steps]
        ahead = start[:, None] + self.look_back + np.arange(self.horizon)
        y = self.series[entity[:, None], ahead]
        check_finite(f"series (batch {i})", x)
        check_finite(f"series (batch {i})", y)
        return x, (y[:, 0] if self.horizon == 1 else y)
