"""Look-back windows: zero-copy views against the tutorial loop and Keras's data set.

    python benchmarks/windows.py [--sizes 1000000 10000000] [--look-back 32]

For each series length: time of `windows.look_back`, of the classic tutorial's
`create_dataset` loop, and of materialising every window of
`keras.utils.timeseries_dataset_from_array` into one array; the ratios of each against
`look_back`, all measured in this one run; and the extra memory `look_back` allocates
(traced by tracemalloc), which should be about nothing since the windows are views.
"""

from __future__ import annotations

import argparse
import sys
import tracemalloc
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).parent))
from _common import best_of, table

from keras_lstm_patterns import windows


def create_dataset(dataset: np.ndarray, look_back: int = 1) -> tuple[np.ndarray, np.ndarray]:
    """The classic tutorial's loop, verbatim but for names."""
    data_x, data_y = [], []
    for i in range(len(dataset) - look_back - 1):
        data_x.append(dataset[i : (i + look_back), 0])
        data_y.append(dataset[i + look_back, 0])
    return np.array(data_x), np.array(data_y)


def keras_windows(series: np.ndarray, look_back: int) -> np.ndarray:
    import keras

    ds = keras.utils.timeseries_dataset_from_array(
        series[:-1], series[look_back:], sequence_length=look_back, batch_size=65536
    )
    return np.concatenate([np.asarray(x) for x, _ in ds])


def extra_memory(series: np.ndarray, look_back: int) -> int:
    tracemalloc.start()
    tracemalloc.reset_peak()
    x, y = windows.look_back(series, look_back)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert np.shares_memory(x, series)
    return peak


def main(sizes: list[int], look_back: int, loop_max: int, keras_max: int) -> str:
    rng = np.random.default_rng(0)
    rows = []
    for n in sizes:
        series = rng.normal(size=(n, 1))
        t_view = best_of(lambda: windows.look_back(series, look_back), repeat=5)
        mem = extra_memory(series, look_back)
        x, y = windows.look_back(series, look_back)
        row = [f"{n:,}", f"{t_view * 1e3:.3f} ms", f"{mem / 1024:.1f} KiB"]
        if n <= loop_max:
            t_loop = best_of(lambda: create_dataset(series, look_back), repeat=1)
            tx, _ = create_dataset(series, look_back)
            assert np.array_equal(tx, x[:-1, :, 0])
            row += [f"{t_loop:.2f} s", f"{t_loop / t_view:,.0f}x"]
        else:
            row += ["not run", "-"]
        if n <= keras_max:
            t_keras = best_of(lambda: keras_windows(series, look_back), repeat=1)
            kx = keras_windows(series, look_back)
            assert np.array_equal(kx, x[: len(kx)])
            row += [f"{t_keras:.2f} s", f"{t_keras / t_view:,.0f}x"]
        else:
            row += ["not run", "-"]
        rows.append(row)
        print(f"n={n:,} done", flush=True)
    header = [
        "points",
        "look_back (views)",
        "extra memory",
        "tutorial loop",
        "loop / look_back",
        "keras materialised",
        "keras / look_back",
    ]
    out = table(header, rows)
    print(f"\nlook_back={look_back}, float64, one feature\n")
    print(out)
    return out


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1_000_000, 10_000_000])
    parser.add_argument("--look-back", type=int, default=32)
    parser.add_argument("--loop-max", type=int, default=10_000_000, help="largest n for the loop")
    parser.add_argument("--keras-max", type=int, default=10_000_000, help="largest n for keras")
    a = parser.parse_args()
    main(a.sizes, a.look_back, a.loop_max, a.keras_max)
