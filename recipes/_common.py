"""What every recipe shares: its command line, seeds, result files and tables.

Recipes are scripts, not part of the package; this file keeps the plumbing out of the
lesson. :class:`Run` carries the command line (``--quick``, ``--seed``, ``--seeds``,
``--out``, ``--verbose``), runs a function once per seed with one progress line each,
prints tables and writes ``results.json`` and the plot. :func:`airline_references` holds
the reference forecasters the airline recipes score beside their models.

How a recipe is written (the form of keras.io's examples, read by ``jupytext``)
================================================================================

A recipe is a lesson that also runs. It reads top to bottom as a script, as a
notebook (``jupytext --to ipynb recipes/NAME.py``: each section becomes a cell) and as
a page of the documentation site (``docs/build_pages.py`` renders the same cells).

1. **Header.** The file opens with ``# %% [markdown]`` and the module docstring, in
   Markdown: the title on the first line, then one paragraph per field, each starting
   with its name in bold: ``**Pattern:**``, ``**Data:**``, ``**Shows:**``,
   ``**Command:**`` (in backticks), ``**How long:**``, ``**Expected:**`` (say that
   RESULTS.md has the measured figures).
2. **Cells.** After the header, the file is a sequence of cells, each opened by a
   marker line alone, with a blank line before it:

   - ``# %% [markdown]`` followed by one triple-quoted string of Markdown: a section
     opens with ``## Title``, then the prose of that section (what is done and why);
   - ``# %%`` followed by a short block of code that runs at the top level of the
     module (no ``main()``): the arrays it makes print their shapes, a model it builds
     is shown with ``explain(model)``.

   The first code cell, right after the header, holds the imports, the constants and
   ``run = Run.from_command_line(__doc__, NAME)`` (the command line in a script,
   ``KLP_RECIPE_ARGS`` in a notebook); the sections follow, each defining the
   functions it introduces just before it uses them, and the last ends with
   ``run.table(...)`` and ``run.save(results, fig)``.
3. **Definitions stay importable.** Functions, classes and UPPER_CASE constants never
   read a lesson variable (``run``, ``y``, ``cfg``, ...): they take what they need as
   arguments. The tests load a recipe's imports, constants and definitions alone,
   without running its lesson (``definitions()`` in ``tests/test_recipes.py``).
4. **Plumbing lives here**, not in the lesson: seeds (``run.each_seed``), tables
   (``run.table``), result files (``run.save``). A flag of a recipe's own goes through
   ``Run.from_command_line(..., add_arguments=...)`` and is read from ``run.options``.
5. **Quick mode.** ``--quick`` shrinks epochs, seeds and origins so the suite runs the
   whole recipe in seconds; the tables then say so. Full runs make RESULTS.md's figures.

"""

from __future__ import annotations

import argparse
import json
import logging
import os
import platform
import shlex
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

from keras_lstm_patterns._quiet import import_keras_quietly  # noqa: E402

# TensorFlow's start-up lines (CUDA probing among them) ignore TF_CPP_MIN_LOG_LEVEL;
# a missing backend ends the recipe with one line naming the extras to install
import_keras_quietly()
import keras  # noqa: E402  (after the log settings above)

ROOT = Path(__file__).resolve().parent.parent


def in_notebook() -> bool:
    """Whether this runs in a Jupyter kernel (a recipe converted by ``jupytext``)."""
    return "ipykernel" in sys.modules


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


def airline_references(*, classical: bool, persistence: bool = True) -> dict[str, Any]:
    """The airline recipes' reference forecasters, by the name their tables print.

    Persistence (optional), the seasonal naive and the seasonal random walk on logs,
    then, with ``classical`` (statsmodels installed), SARIMA (0,1,1)(0,1,1)12 on logs and
    ETS(add, add) on logs, fitted at every origin. Each call makes new forecasters.
    """
    from keras_lstm_patterns import backtesting as bt

    out = {"persistence": bt.persistence_forecaster()} if persistence else {}
    out["seasonal naive"] = bt.seasonal_naive_forecaster(12)
    out["seasonal random walk (logs)"] = bt.seasonal_random_walk_forecaster(12)
    if classical:
        out["SARIMA(0,1,1)(0,1,1)12 on logs, fitted"] = bt.sarima_forecaster()
        out["ETS(add,add) on logs, fitted"] = bt.ets_forecaster(12)
    return out


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
        doc: str | None,
        name: str,
        *,
        add_arguments: Callable[[argparse.ArgumentParser], None] | None = None,
    ) -> Run:
        """Parse ``--quick --seed --seeds --out --verbose``.

        ``add_arguments(parser)`` may add a recipe's own flags; their values land in
        ``run.options`` (by ``dest``). In a notebook, where ``sys.argv`` is the
        kernel's, the arguments come from the ``KLP_RECIPE_ARGS`` environment variable
        (``KLP_RECIPE_ARGS="--quick"``; empty: a full run).
        """
        title = (doc or name).strip().splitlines()[0].lstrip("# ")
        parser = argparse.ArgumentParser(
            description=title, formatter_class=argparse.RawDescriptionHelpFormatter
        )
        parser.add_argument("--quick", action="store_true", help="tiny epochs, one seed")
        parser.add_argument("--seed", type=int, default=0, help="first seed")
        parser.add_argument("--seeds", type=int, help="how many seeds (5; 1 with --quick)")
        parser.add_argument("--out", type=Path, default=ROOT / "results" / name, help="folder")
        parser.add_argument("--verbose", action="store_true", help="show Keras's epoch logs")
        common = set(vars(parser.parse_args([])))
        if add_arguments is not None:
            add_arguments(parser)
        argv = shlex.split(os.environ.get("KLP_RECIPE_ARGS", "")) if in_notebook() else None
        args = parser.parse_args(argv)
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
        """Write ``results.json`` and the plot, and say where they went (in a notebook,
        show the plot too)."""
        png = save(self.out, self.name, results, fig, quick=self.quick, started=self.started)
        if in_notebook():
            from IPython.display import Image, display

            display(Image(filename=str(png)))
        return png
