"""Look-back windows cut on demand, one batch at a time, for ``model.fit``.

:class:`WindowDataset` is the only part of the windows that needs Keras (it is a
``keras.utils.PyDataset``), so it lives here and :mod:`keras_lstm_patterns.windows`
stays free of Keras. ``from keras_lstm_patterns.windows import WindowDataset`` still works.
"""

from __future__ import annotations

import mmap
from typing import Any

import keras
import numpy as np

from ._checks import as_array, check_bool, check_choice, check_int, fail, is_int
from .series import (
    MISSING,
    _target_columns,
    check_missing,
    check_not_padded,
    kept_windows,
    observed_mask,
    window_count,
)

__all__ = ["WindowDataset", "affine_order"]


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


_EXACT_INT64 = 3_037_000_499  # the largest n with (n - 1) ** 2 + n - 1 < 2**63


def affine_order(k: np.ndarray, a: int, c: int, n: int) -> np.ndarray:
    """``(a * k + c) % n`` exactly, for window numbers ``k`` in ``[0, n)``.

    With ``gcd(a, n) == 1`` this is a permutation of ``range(n)``: every window exactly
    once per epoch. In int64 the product ``a * k`` overflows once ``n`` passes about
    3e9, so beyond that the arithmetic is done with Python's unbounded integers (one
    batch at a time: a few hundred numbers).

    Args:
        k: 1-D integer window numbers, each in ``[0, n)``.
        a: the multiplier, in ``[1, n)`` and coprime with ``n`` for a permutation.
        c: the shift, in ``[0, n)``.
        n: how many windows there are (positive).

    Returns:
        An int64 array of ``len(k)`` window numbers, each in ``[0, n)``.

    Raises:
        Nothing of its own: no argument is checked (:class:`WindowDataset` draws ``a``
            and ``c`` so that the result is a permutation). With ``gcd(a, n) != 1``
            windows repeat and others are never visited.

    >>> affine_order(np.arange(5), 3, 1, 5)
    array([1, 4, 2, 0, 3])
    """
    if n <= _EXACT_INT64:
        return (a * np.asarray(k, dtype=np.int64) + c) % n
    return np.array([(a * v + c) % n for v in np.asarray(k).tolist()], dtype=np.int64)


class WindowDataset(keras.utils.PyDataset):
    """Look-back windows cut on demand, one batch at a time, for ``model.fit``.

    For a series too long to hold as ``(samples, look_back, features)`` (an array or a
    ``numpy.memmap`` of years of readings): memory holds one batch of windows. A 3-D
    source ``(entities, T, features)`` (tanks) gives windows within each entity, never
    across two. ``shuffle=True`` permutes the window start indices each epoch (with a
    random affine permutation, so no index array is stored); the values inside a window
    are never reordered, and every window is served exactly once per epoch at any size
    (the permutation's arithmetic is exact beyond int64).

    Missing steps (NaN) are refused: an in-memory array is checked whole when the data
    set is made, a memmap batch by batch as it is cut (naming the remedies). With
    ``missing="drop"`` the series is read once to keep only the windows whose inputs and
    targets are all present (and, with ``observed``, whose target steps were observed):
    their numbers are stored, 8 bytes per kept window. An array that
    ``tanks(..., pad=...)`` padded is refused.

    For several processes (:func:`keras_lstm_patterns.distributed.initialize`), give
    each its own ``shard_index`` out of ``num_shards``: worker ``i`` takes every ``num_shards``-th
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
        targets: the columns ``y`` holds, as in :func:`look_back`.
        missing: ``"raise"`` (refuse NaN) or ``"drop"`` (skip windows that touch one),
            as in :func:`look_back`.
        observed: None, a bool ``(entities, time)`` mask or a ``TankIndex``: windows
            whose target steps are False are skipped.
        **kwargs: passed to ``keras.utils.PyDataset`` (``workers``...).

    Attributes:
        count: how many windows this shard serves per epoch.
        total: how many windows all shards serve together per epoch.

    Raises:
        ValueError: (an ``ArgumentError`` naming the argument) ``series`` that is not
            real numbers, not 1-D/2-D/3-D, has no entity or feature, is shorter than 2
            steps, holds inf (or NaN without ``missing="drop"``), was padded by
            ``tanks``, or is a pandas input whose time index does not increase; a size
            out of range (``horizon``, ``look_back``, ``batch_size``, ``stride``,
            ``num_shards``, ``shard_index``), more shards than windows; ``missing`` not
            ``"raise"`` or ``"drop"``; unknown ``targets``; an ``observed`` mask of the
            wrong dtype or shape; no window left whose inputs and targets are all
            present; ``shuffle`` not a bool; ``seed`` not None or an integer >= 0.
            With ``missing="raise"`` and no ``observed``, a memmap (or a non-contiguous
            array) is not read when the data set is made: its NaN or inf is refused when
            the batch holding it is cut.
        TypeError: a keyword ``keras.utils.PyDataset`` does not take; (when indexed) a
            batch number that is not an integer (an ``ArgumentTypeError``).
        IndexError: (when indexed) a batch number outside ``[0, len(dataset))``.

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
        targets: Any = None,
        missing: str = "raise",
        observed: Any = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        arr = as_array("series", series)  # a memmap stays a view of the file
        ndim, given = arr.ndim, arr
        if arr.ndim in (1, 2) and arr.size:
            arr = arr.reshape(1, arr.shape[0], -1)
        if arr.ndim != 3:
            fail(
                "series",
                "`(time,)`, `(time, features)` or `(entities, time, features)`",
                shown=f"series with shape {arr.shape}",
            )
        if arr.shape[0] == 0 or arr.shape[2] == 0:
            fail("series", "at least one entity and one feature", shown=f"shape {arr.shape}")
        t = arr.shape[1]
        if t < 2:
            fail("series", "at least 2 steps long", shown=f"series with {t} steps")
        self.horizon = check_int(
            "horizon", horizon, high=t - 1, context=f" for series of length {t}"
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
        self.per_entity = window_count(t, self.look_back, horizon=self.horizon, stride=self.stride)
        self.missing = check_choice("missing", missing, MISSING)
        self.targets = _target_columns(targets, series, arr.shape[2])
        check_not_padded("series", arr, observed)
        mask = observed_mask(observed, arr, 3 if ndim == 3 else ndim)
        self._kept = None  # window numbers kept when some are dropped
        if self.missing == "drop" or mask is not None:
            has_nan = check_missing("series", given, allow_nan=self.missing == "drop")
            keep = kept_windows(
                arr,
                self.look_back,
                horizon=self.horizon,
                stride=self.stride,
                columns=self.targets,
                has_nan=has_nan,
                observed=mask,
            )
            if keep is not None:
                self._kept = np.flatnonzero(keep.reshape(-1))
        elif self._mapping is None and arr.flags.c_contiguous:
            check_missing("series", given, allow_nan=False)  # in memory: one pass now
        self.total = (  # windows of all shards
            arr.shape[0] * self.per_entity if self._kept is None else len(self._kept)
        )
        if self.total == 0:
            fail(
                "series",
                "at least one window whose inputs and targets are all present",
                shown=f"0 of {arr.shape[0] * self.per_entity} windows complete",
            )
        if self.total < self.num_shards:
            fail("num_shards", f"at most the number of windows ({self.total})", num_shards)
        self.count = len(range(self.shard_index, self.total, self.num_shards))  # this shard
        self.shuffle = check_bool("shuffle", shuffle)
        if seed is not None and not (is_int(seed) and seed >= 0):
            fail("seed", "None or an integer >= 0", seed)
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
        """The window numbers in batch ``i`` (entity * windows_per_entity + window).

        Args:
            i: the batch number.

        Returns:
            ``(batch,)`` int64 window numbers.
        """
        k = np.arange(
            i * self.batch_size, min(self.count, (i + 1) * self.batch_size), dtype=np.int64
        )
        k = k * self.num_shards + self.shard_index  # this shard's places in the order
        a, c = self._affine
        pos = affine_order(k, a, c, self.total)
        return pos if self._kept is None else self._kept[pos]

    def __getitem__(self, i: int) -> tuple[np.ndarray, np.ndarray]:
        if not is_int(i):
            fail("index", "an integer batch number", i, error=TypeError)
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
        y = self.series[entity[:, None], ahead][..., self.targets]
        check_missing(f"series (batch {i})", x, allow_nan=False)
        check_missing(f"series (batch {i})", y, allow_nan=False)
        return x, (y[:, 0] if self.horizon == 1 else y)
