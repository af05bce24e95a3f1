"""Small timing helpers shared by the benchmark scripts (not part of the package)."""

from __future__ import annotations

import os
import time
from collections.abc import Callable

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")


def best_of(fn: Callable[[], object], repeat: int = 3) -> float:
    """The fastest of ``repeat`` runs, in seconds (the least disturbed by a shared machine)."""
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def table(header: list[str], rows: list[list[object]]) -> str:
    """A Markdown table, ready to paste into benchmarks/README.md."""
    from keras_lstm_patterns._table import table as format_table

    return format_table([header, *rows], markdown=True)
