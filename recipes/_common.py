"""What every recipe shares: its command line, seeds, result files and tables.

Recipes are scripts, not part of the package; this file keeps the plumbing out of the
lesson. A recipe's ``main(run)`` reads top to bottom; :class:`Run` carries the command
line (``--quick``, ``--seed``, ``--seeds``, ``--out``, ``--verbose``), runs a function
once per seed with one progress line each, prints tables and writes ``results.json``
and the plot.
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
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np

# recipes build many small models on purpose; TensorFlow's "retracing" advice is noise here
logging.getLogger("tensorflow").setLevel(logging.ERROR)

import keras  # noqa: E402  (after the log settings above)

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


def simplest_tied(stats: dict[Any, dict[str, Any]], order: Sequence[Any]) -> Any:
    """The choice rule every recipe fixes before it runs: the candidate with the lowest
    mean score; any candidate within one seed-std of that best counts as tied with it,
    and the first tied one in ``order`` (simplest first) wins.

    ``stats`` maps each candidate to a :func:`mean_std` of its validation scores.
    """
    best = min(stats, key=lambda k: stats[k]["mean"])
    bar = stats[best]["mean"] + stats[best]["std"]
    return next(k for k in order if stats[k]["mean"] <= bar)


def fmt(stat: dict[str, Any] | float | None, digits: int = 2) -> str:
    if stat is None:
        return "-"
    if isinstance(stat, dict):
        if len(stat["runs"]) == 1:
            return f"{stat['mean']:.{digits}f}"
        return f"{stat['mean']:.{digits}f} ± {stat['std']:.{digits}f}"
    return f"{stat:.{digits}f}"


def print_table(title: str, header: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    from keras_lstm_patterns._table import table

    text = table([header, *rows], markdown=True)
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


@dataclass
class Run:
    """One run of a recipe: its settings, and the plumbing every lesson shares."""

    name: str
    quick: bool = False
    seeds: list[int] = field(default_factory=lambda: [0])
    out: Path = ROOT / "results"
    verbose: int = 0
    started: float = field(default_factory=time.perf_counter)
    options: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_command_line(
        cls,
        doc: str,
        name: str,
        *,
        add_arguments: Callable[[argparse.ArgumentParser], None] | None = None,
    ) -> Run:
        """Parse ``--quick --seed --seeds --out --verbose`` (``--quiet`` is the default).

        ``add_arguments(parser)`` may add a recipe's own flags; their values land in
        ``run.options`` (by ``dest``).
        """
        parser = argparse.ArgumentParser(
            description=doc.strip().splitlines()[0],
            formatter_class=argparse.RawDescriptionHelpFormatter,
        )
        parser.add_argument("--quick", action="store_true", help="tiny epochs, one seed")
        parser.add_argument("--seed", type=int, default=0, help="first seed")
        parser.add_argument("--seeds", type=int, help="how many seeds (5; 1 with --quick)")
        parser.add_argument("--out", type=Path, default=ROOT / "results" / name, help="folder")
        parser.add_argument("--verbose", action="store_true", help="show Keras's epoch logs")
        parser.add_argument("--quiet", action="store_true", help=argparse.SUPPRESS)  # default
        common = set(vars(parser.parse_args([])))
        if add_arguments is not None:
            add_arguments(parser)
        args = parser.parse_args()
        count = args.seeds if args.seeds is not None else (1 if args.quick else 5)
        return cls(
            name=name,
            quick=args.quick,
            seeds=seed_list(args.seed, count),
            out=args.out,
            verbose=2 if args.verbose else 0,
            options={k: v for k, v in vars(args).items() if k not in common},
        )

    def each_seed(self, label: str, fn: Callable[[int], Any]) -> list[Any]:
        """``fn(seed)`` for every seed, Keras seeded first, one progress line per seed."""
        results = []
        for k, s in enumerate(self.seeds):
            keras.utils.set_random_seed(s)
            began = time.perf_counter()
            results.append(fn(s))
            took = time.perf_counter() - began
            print(f"  {label}: seed {s} ({k + 1}/{len(self.seeds)}) in {took:.0f} s", flush=True)
        return results

    def table(self, title: str, header: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
        spread = f"mean ± std over {len(self.seeds)} seeds" if len(self.seeds) > 1 else "1 seed"
        note = " (--quick: a smoke test, too short to mean anything)" if self.quick else ""
        return print_table(f"{title}; {spread}{note}", header, rows)

    def save(self, results: dict[str, Any], fig: Any) -> Path:
        """Write ``results.json`` and the plot, and say where they went."""
        return save(self.out, self.name, results, fig, quick=self.quick, started=self.started)
