"""Streaming windows: one epoch over a 50M-point memmapped series in bounded memory.

    python benchmarks/streaming.py [--points 50000000] [--look-back 128] [--stride 128]
                                   [--batch 4096] [--units 8] [--memory-points 1000000]
                                   [--memory-stride 8] [--workers 1]

A float32 series of `--points` values is written to a temporary `.npy` file in chunks
and opened as a `numpy.memmap`. A `many_to_one(look_back, 1, units)` is fitted for one
epoch on `windows.WindowDataset(memmap, look_back, stride=..., batch_size=...)`; with
`--stride 128` (= look_back) the windows do not overlap, so the epoch reads every value
of the file once. Materialising all stride-1 windows as `(samples, look_back, 1)`
float32 would need points * look_back * 4 bytes (25.6 GB for the defaults).
Reported: the peak resident memory of this process (`ru_maxrss`, which also counts
the pages of the file it has read), and the throughput in windows per second next to
the same model fitted from an in-memory array of windows cut from a `--memory-points`
series with windows every `--memory-stride` steps (materialised with
`np.ascontiguousarray(windows.look_back(...)[::memory_stride])`). `--workers 2` lets
Keras cut the next batches in a thread while the current one trains. The in-memory run
comes second, so the streaming peak is read before it.
"""

from __future__ import annotations

import argparse
import resource
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).parent))
import keras
from _common import table

from keras_lstm_patterns import many_to_one, windows


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def write_series(path: Path, points: int, chunk: int = 1_000_000) -> None:
    """A noisy sine written chunk by chunk, so the writer never holds the series."""
    rng = np.random.default_rng(0)
    with open(path, "wb") as f:
        np.lib.format.write_array_header_1_0(
            f, {"descr": "<f4", "fortran_order": False, "shape": (points,)}
        )
        for start in range(0, points, chunk):
            t = np.arange(start, min(points, start + chunk), dtype=np.float64)
            values = np.sin(t / 50.0) + 0.1 * rng.normal(size=len(t))
            f.write(values.astype("<f4").tobytes())


def compiled_model(look_back: int, units: int) -> keras.Model:
    keras.utils.set_random_seed(0)
    model = many_to_one(look_back, 1, units, outputs=1)
    model.compile(optimizer="adam", loss="mse")
    return model


def rate(model: keras.Model, data, count: int, **fit_kwargs) -> tuple[float, float]:
    """One epoch; returns (windows per second, final loss)."""
    start = time.perf_counter()
    hist = model.fit(data, epochs=1, verbose=0, **fit_kwargs)
    return count / (time.perf_counter() - start), float(hist.history["loss"][-1])


def main(
    points: int = 50_000_000,
    look_back: int = 128,
    stride: int = 128,
    batch: int = 4096,
    units: int = 8,
    memory_points: int = 1_000_000,
    memory_stride: int = 8,
    workers: int = 1,
) -> str:
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "series.npy"
        write_series(path, points)
        before = peak_rss_mb()
        series = np.load(path, mmap_mode="r")
        ds = windows.WindowDataset(
            series, look_back, batch_size=batch, stride=stride, workers=workers
        )
        model = compiled_model(look_back, units)
        model.fit(ds, epochs=1, steps_per_epoch=2, verbose=0)  # trace once
        speed, loss = rate(model, ds, ds.count)
        peak = peak_rss_mb()
        rows.append(
            [
                f"WindowDataset on a {points:,}-point memmap, stride {stride}, "
                f"{workers} worker{'s' if workers > 1 else ''}",
                f"{ds.count:,}",
                f"{speed:,.0f}",
                f"{loss:.4f}",
                f"{peak:,.0f} (before the model: {before:,.0f})",
            ]
        )
        del series, ds
    small = np.sin(np.arange(memory_points, dtype=np.float32) / 50.0)
    x, y = windows.look_back(small, look_back)
    x, y = np.ascontiguousarray(x[::memory_stride]), np.ascontiguousarray(y[::memory_stride])
    model = compiled_model(look_back, units)
    model.fit(x[: 2 * batch], y[: 2 * batch], batch_size=batch, epochs=1, verbose=0)
    mem_speed, mem_loss = rate(model, x, len(x), y=y, batch_size=batch)
    rows.append(
        [
            f"in-memory array from a {memory_points:,}-point series, stride {memory_stride}",
            f"{len(x):,}",
            f"{mem_speed:,.0f}",
            f"{mem_loss:.4f}",
            f"{peak_rss_mb():,.0f}",
        ]
    )
    need = points * look_back * 4 / 1e9
    text = table(
        ["source", "windows in the epoch", "windows/s", "final loss", "peak RSS (MB)"], rows
    )
    text += (
        f"\n\nstreaming / in-memory throughput: {speed / mem_speed:.2f}x; all stride-1 "
        f"windows of the {points:,} points materialised: {need:.1f} GB; "
        f"a stride-1 epoch at the streaming rate: {points / speed / 3600:.1f} h"
    )
    print(text)
    return text


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--points", type=int, default=50_000_000)
    parser.add_argument("--look-back", type=int, default=128)
    parser.add_argument("--stride", type=int, default=128)
    parser.add_argument("--batch", type=int, default=4096)
    parser.add_argument("--units", type=int, default=8)
    parser.add_argument("--memory-points", type=int, default=1_000_000)
    parser.add_argument("--memory-stride", type=int, default=8)
    parser.add_argument("--workers", type=int, default=1, help="threads cutting batches")
    a = parser.parse_args()
    main(
        a.points,
        a.look_back,
        a.stride,
        a.batch,
        a.units,
        a.memory_points,
        a.memory_stride,
        a.workers,
    )
