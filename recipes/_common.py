"""What every recipe shares: its command line, seeds, result files and tables.

Recipes are scripts, not part of the package; this file keeps them short and alike.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import platform
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np

# recipes build many small models on purpose; TensorFlow's "retracing" advice is noise here
logging.getLogger("tensorflow").setLevel(logging.ERROR)

ROOT = Path(__file__).resolve().parent.parent


def cli(main: Callable[..., dict], doc: str, name: str) -> None:
    """Parse ``--quick --seed --seeds --out --quiet`` and run ``main``."""
    parser = argparse.ArgumentParser(
        description=doc.strip().splitlines()[0],
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--quick", action="store_true", help="tiny epochs and one seed (seconds)")
    parser.add_argument("--seed", type=int, default=0, help="first seed")
    parser.add_argument(
        "--seeds", type=int, default=None, help="how many seeds (default 5, 1 with --quick)"
    )
    parser.add_argument(
        "--out", type=Path, default=ROOT / "results" / name, help="folder for JSON and PNG"
    )
    parser.add_argument("--quiet", action="store_true", help="hide Keras's progress")
    args = parser.parse_args()
    seeds = args.seeds if args.seeds is not None else (1 if args.quick else 5)
    main(
        seed=args.seed, seeds=seeds, quick=args.quick, out=args.out, verbose=0 if args.quiet else 2
    )


def seed_list(seed: int, seeds: int) -> list[int]:
    return list(range(seed, seed + seeds))


def mean_std(values: Sequence[float]) -> dict[str, Any]:
    v = np.asarray(values, dtype="float64")
    return {"mean": float(v.mean()), "std": float(v.std()), "runs": [float(x) for x in v]}


def fmt(stat: dict[str, Any] | float | None, digits: int = 2) -> str:
    if stat is None:
        return "-"
    if isinstance(stat, dict):
        if len(stat["runs"]) == 1:
            return f"{stat['mean']:.{digits}f}"
        return f"{stat['mean']:.{digits}f} ± {stat['std']:.{digits}f}"
    return f"{stat:.{digits}f}"


def print_table(title: str, header: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    cells = [list(header), *[[str(c) for c in r] for r in rows]]
    widths = [max(len(r[i]) for r in cells) for i in range(len(header))]
    line = lambda r: "| " + " | ".join(c.ljust(w) for c, w in zip(r, widths)) + " |"  # noqa: E731
    text = "\n".join(
        [line(cells[0]), "|" + "|".join("-" * (w + 2) for w in widths) + "|", *map(line, cells[1:])]
    )
    print(f"\n{title}\n\n{text}\n", flush=True)
    return text


def save(
    out: Path, name: str, results: dict[str, Any], fig: Any, *, quick: bool, started: float
) -> Path:
    """Write ``results.json`` (with the run's settings) and ``NAME.png`` into ``out``."""
    out.mkdir(parents=True, exist_ok=True)
    results = {
        "recipe": name,
        "quick": quick,
        "seconds": round(time.perf_counter() - started, 1),
        "python": platform.python_version(),
        "command": " ".join([Path(sys.argv[0]).name, *sys.argv[1:]]),
        **results,
    }
    (out / "results.json").write_text(json.dumps(results, indent=2))
    png = out / f"{name}.png"
    fig.savefig(png, dpi=110, bbox_inches="tight")
    plt.close(fig)
    print(f"results: {out / 'results.json'}\nplot:    {png}", flush=True)
    return png


def figure(*args: Any, **kwargs: Any) -> tuple[Any, Any]:
    return plt.subplots(*args, **kwargs)


def passengers_figure(y: np.ndarray, split: int, title: str) -> tuple[Any, Any]:
    """The airline series with the train/test boundary, ready for a recipe's own lines."""
    fig, ax = plt.subplots(figsize=(9, 4))
    ax.plot(np.arange(len(y)), y, color="black", lw=1, label="passengers")
    ax.axvline(split, color="grey", ls=":")
    ax.set(xlabel="month since 1949-01", ylabel="passengers (thousands)", title=title)
    return fig, ax
