"""The ``klp`` command line: patterns, shapes, pictures, windows and recipes.

    klp patterns
    klp explain many_to_one --steps 5 --features 2 --units 8 --outputs 1
    klp diagram generate -o generate.png --features 2
    klp windows data.csv --look-back 3 --column Passengers
    klp recipes
    klp recipe airline_look_back --quick

Exit codes: 0 on success, 2 on a usage error (unknown names, bad sizes, missing files).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import NoReturn

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

RECIPES_DIR = Path(__file__).resolve().parent.parent / "recipes"
DOC_PICTURES = {
    "many_to_one": {"steps": 5, "features": 2, "units": 8, "outputs": 1},
    "many_to_many": {"steps": 5, "features": 2, "units": 8, "outputs": 1},
    "one_to_many": {"steps": 5, "features": 3, "units": 8, "outputs": 1},
    "generate": {"steps": 5, "features": 2},
    "forecast": {"steps": 6, "features": 2},
    "seq2seq_autoencoder": {"steps": 5, "features": 2, "latent": 4, "decoder_units": 8},
    "next_token": {"steps": 5, "vocab_size": 30, "units": 16},
}


class UsageError(Exception):
    """A mistake in the command: printed as one line, exit code 2."""


class _Parser(argparse.ArgumentParser):
    """argparse, with its errors on one line (usage lives in ``--help``)."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def _units(text: str) -> int | tuple[int, ...]:
    parts = [p for p in text.split(",") if p.strip()]
    try:
        values = tuple(int(p) for p in parts)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected integers like 8 or 16,8; got {text!r}"
        ) from None
    return values[0] if len(values) == 1 else values


def _add_sizes(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("sizes (each pattern takes the ones it needs)")
    g.add_argument("--steps", type=int, help="steps per sequence (the unrolled length)")
    g.add_argument("--features", type=int, help="width of one step's input vector")
    g.add_argument("--units", type=_units, help="state width, or a stack: 16,8")
    g.add_argument("--outputs", type=int, help="width of a Dense head")
    g.add_argument("--latent", type=int, help="seq2seq: width of the latent vector")
    g.add_argument("--vocab-size", type=int, help="next_token: number of tokens")
    g.add_argument("--batch-size", type=int, help="generate/forecast: fixed batch size")
    g.add_argument("--cell", help="lstm, gru or simple")


def _sizes(args: argparse.Namespace) -> dict:
    keys = ("steps", "features", "units", "outputs", "latent", "vocab_size", "batch_size", "cell")
    return {k: getattr(args, k) for k in keys if getattr(args, k, None) is not None}


def _pattern(name: str) -> str:
    from .explain import PATTERNS

    if name not in PATTERNS:
        raise UsageError(f"unknown pattern {name!r}; valid patterns: {', '.join(PATTERNS)}")
    return name


def cmd_patterns(args: argparse.Namespace) -> int:
    from .explain import PATTERNS

    rows = [("pattern", "shapes", "built by")]
    rows += [(p.name, p.shapes, p.factory) for p in PATTERNS.values()]
    widths = [max(len(r[i]) for r in rows) for i in range(3)]
    for k, r in enumerate(rows):
        print("  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip())
        if k == 0:
            print("  ".join("-" * w for w in widths))
    return 0


def cmd_explain(args: argparse.Namespace) -> int:
    from .explain import explain

    print(explain(_pattern(args.pattern), **_sizes(args)))
    return 0


def cmd_diagram(args: argparse.Namespace) -> int:
    from .diagram import diagram

    drawing = diagram(_pattern(args.pattern), args.output, **_sizes(args))
    print(f"wrote {drawing.path}: {drawing.title}")
    return 0


def cmd_docs(args: argparse.Namespace) -> int:
    from .diagram import diagram, diagram_batches

    out = Path(args.folder)
    if out.exists() and not out.is_dir():
        raise UsageError(f"{out} is a file; give a folder for the pictures")
    for name, sizes in DOC_PICTURES.items():
        d = diagram(name, out / f"{name}.png", **sizes)
        print(f"wrote {d.path}")
    d = diagram_batches((3, 6, 2), 2, out / "stateful_batches.png")
    print(f"wrote {d.path}")
    return 0


def cmd_windows(args: argparse.Namespace) -> int:
    import numpy as np
    import pandas as pd

    from . import windows

    path = Path(args.file)
    if not path.is_file():
        raise UsageError(f"no such file: {path}")
    frame = pd.read_csv(path)
    if args.column is not None:
        if args.column not in frame.columns:
            raise UsageError(
                f"no column {args.column!r} in {path.name}; columns: {', '.join(map(str, frame.columns))}"
            )
        columns = [args.column]
    else:
        columns = [c for c in frame.columns if pd.api.types.is_numeric_dtype(frame[c])]
        if not columns:
            raise UsageError(f"{path.name} has no numeric column; name one with --column")
    series = frame[columns].to_numpy(dtype="float64")
    x, y = windows.look_back(series, args.look_back, horizon=args.horizon, stride=args.stride)
    print(f"series: {path.name}, {len(series)} rows, features: {', '.join(map(str, columns))}")
    print(f"x: {x.shape}  (samples, steps=look_back, features)")
    print(
        f"y: {y.shape}  "
        + ("(samples, features)" if args.horizon == 1 else "(samples, horizon, features)")
    )
    with np.printoptions(precision=4, suppress=True):
        for i in range(min(args.show, len(x))):
            print(
                f"window {i}: x={x[i].squeeze(-1) if x.shape[-1] == 1 else x[i].tolist()} -> y={y[i].squeeze()}"
            )
    return 0


def _recipe_names() -> list[str]:
    return sorted(p.stem for p in RECIPES_DIR.glob("[a-z]*.py"))


def cmd_recipes(args: argparse.Namespace) -> int:
    import ast

    names = _recipe_names()
    if not names:
        raise UsageError(f"no recipes found in {RECIPES_DIR} (they ship with the source checkout)")
    for name in names:
        doc = ast.get_docstring(ast.parse((RECIPES_DIR / f"{name}.py").read_text())) or ""
        print(f"{name:22s} {doc.splitlines()[0] if doc else ''}")
    return 0


def cmd_recipe(args: argparse.Namespace) -> int:
    names = _recipe_names()
    if args.name not in names:
        raise UsageError(f"unknown recipe {args.name!r}; valid recipes: {', '.join(names)}")
    command = [sys.executable, str(RECIPES_DIR / f"{args.name}.py"), *args.rest]
    if args.quick:
        command.append("--quick")
    return subprocess.call(command)


def parser() -> argparse.ArgumentParser:
    top = _Parser(
        prog="klp",
        description="Keras recurrent-network patterns: shapes, pictures, windows, recipes.",
        epilog="Example: klp explain many_to_one --steps 5 --features 2 --units 8",
    )
    sub = top.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def add(name: str, help: str, example: str) -> argparse.ArgumentParser:
        p = sub.add_parser(name, help=help, description=help, epilog=f"Example: {example}")
        return p

    p = add("patterns", "list the patterns, their shapes and factories", "klp patterns")
    p.set_defaults(func=cmd_patterns)
    p = add(
        "explain",
        "explain a pattern's shapes layer by layer",
        "klp explain many_to_one --steps 5 --features 2 --units 8 --outputs 1",
    )
    p.add_argument("pattern")
    _add_sizes(p)
    p.set_defaults(func=cmd_explain)
    p = add(
        "diagram",
        "draw the unrolled picture of a pattern (PNG or SVG)",
        "klp diagram many_to_many -o m2m.png --steps 4",
    )
    p.add_argument("pattern")
    p.add_argument("-o", "--output", required=True, help="a .png or .svg file")
    _add_sizes(p)
    p.set_defaults(func=cmd_diagram)
    p = add("docs", "draw every pattern's picture into a folder (make docs)", "klp docs docs/img")
    p.add_argument("folder")
    p.set_defaults(func=cmd_docs)
    p = add(
        "windows",
        "show the look-back windows a CSV column gives",
        "klp windows data/airline.csv --look-back 3 --column Passengers",
    )
    p.add_argument("file")
    p.add_argument("--look-back", type=int, required=True)
    p.add_argument("--horizon", type=int, default=1)
    p.add_argument("--stride", type=int, default=1)
    p.add_argument("--column", help="one column (default: every numeric column)")
    p.add_argument("--show", type=int, default=3, help="how many windows to print")
    p.set_defaults(func=cmd_windows)
    p = add("recipes", "list the recipes", "klp recipes")
    p.set_defaults(func=cmd_recipes)
    p = add("recipe", "run a recipe", "klp recipe airline_look_back --quick")
    p.add_argument("name")
    p.add_argument("--quick", action="store_true", help="tiny epochs and one seed")
    p.add_argument(
        "rest", nargs=argparse.REMAINDER, help="more options for the recipe (--seed, --out ...)"
    )
    p.set_defaults(func=cmd_recipe)
    return top


def _one_line(err: BaseException) -> str:
    if isinstance(err, OSError) and err.strerror:
        where = f": {err.filename}" if err.filename else ""
        return f"{err.strerror}{where}"
    return " ".join(str(err).split()) or type(err).__name__


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command; a usage error prints one line and returns 2, never a traceback.

    Usage errors are ours (``UsageError``), the package's named ``ValueError`` and
    ``TypeError`` refusals, and files that cannot be read or written (``OSError``).
    """
    args = parser().parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except (UsageError, ValueError, TypeError, OSError) as err:
        print(f"klp {args.command}: error: {_one_line(err)}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
