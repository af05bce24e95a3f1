"""The ``klp`` command line: patterns, shapes, pictures, windows and recipes.

    klp patterns
    klp explain many_to_one --steps 5 --features 2 --units 8 --outputs 1
    klp explain my_model.keras
    klp diagram generate -o generate.png --features 2 --units 32
    klp windows data.csv --look-back 3 --column Passengers
    klp recipes
    klp recipe airline_look_back --quick

Quiet and quick to start: this module imports neither Keras nor numpy; a command that
needs Keras imports it with TensorFlow's start-up log lines silenced
(``_quiet.import_keras_quietly``).

Exit codes: 0 on success, 2 on a usage error (unknown names, bad sizes, missing files),
1 when ``klp diagram`` is given a model that is not one of the patterns (its layer table
is printed, no picture is drawn).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any, NoReturn

from ._errors import ArgumentError

# set before any command imports TensorFlow: its C++ INFO and WARNING lines off
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

RECIPES_DIR = Path(__file__).resolve().parent.parent / "recipes"
__all__ = ["UsageError", "main", "parser"]

MODEL_SUFFIXES = (".keras", ".h5")
NO_KERAS = ("patterns", "recipes", "recipe")  # commands that never import Keras here


def _quiet_keras() -> None:
    from ._quiet import import_keras_quietly

    import_keras_quietly()


def _run_script() -> None:
    """``python -c`` target of ``klp recipe``: run ``sys.argv[1]`` as ``__main__`` with
    the rest as its arguments, after a quiet Keras import."""
    import runpy

    script = sys.argv[1]
    sys.argv = sys.argv[1:]
    sys.path[0] = str(Path(script).resolve().parent)
    _quiet_keras()
    runpy.run_path(script, run_name="__main__")


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


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer; got {text!r}")
    return value


def _count_arg(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = -1
    if value < 0:
        raise argparse.ArgumentTypeError(f"expected an integer >= 0; got {text!r}")
    return value


def _fraction(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not 0.0 < value < 1.0:
        raise argparse.ArgumentTypeError(f"expected a fraction between 0 and 1; got {text!r}")
    return value


SIZES = {  # size -> (option type, help); each pattern declares which it takes
    "steps": (int, "steps per sequence (the unrolled length); forecast: new steps"),
    "history": (int, "forecast: known steps that warm the state up"),
    "features": (int, "width of one step's input vector"),
    "units": (_units, "state width, or a stack: 16,8"),
    "outputs": (int, "width of a Dense head"),
    "latent": (int, "seq2seq: width of the latent vector"),
    "encoder_units": (_units, "seq2seq: encoder layers before the latent one: 16 or 32,16"),
    "decoder_units": (_units, "seq2seq: decoder layers, then a Dense head: 16 or 16,32"),
    "vocab_size": (int, "next_token: number of tokens"),
    "embedding_dim": (int, "next_token: width of the token embedding"),
    "batch_size": (int, "generate/forecast: fixed batch size"),
    "cell": (str, "lstm, gru or simple"),
}


def _option(size: str) -> str:
    return "--" + size.replace("_", "-")


def _sizes_table() -> str:
    """The sizes each pattern takes, for the help."""
    from ._patterns import PATTERNS

    lines = ["sizes each pattern takes:"]
    width = max(map(len, PATTERNS))
    for pat in PATTERNS.values():
        lines.append(f"  {pat.name:{width}s}  " + " ".join(map(_option, pat.sizes)))
    lines.append("a saved model (PATH.keras) takes only --steps, for a free steps axis")
    return "\n".join(lines)


def _add_sizes(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("sizes (each pattern takes its own: see the list below)")
    for size, (kind, text) in SIZES.items():
        g.add_argument(_option(size), dest=size, type=kind, help=text)


def _sizes(args: argparse.Namespace, takes: Sequence[str], what: str) -> dict:
    """The sizes given on the command line, refusing those ``what`` does not take."""
    given = {k: getattr(args, k) for k in SIZES if getattr(args, k, None) is not None}
    extra = [_option(k) for k in given if k not in takes]
    if extra:
        raise UsageError(
            f"{what} takes {', '.join(map(_option, takes)) or 'no sizes'}; not {', '.join(extra)}"
        )
    return given


def _is_model_path(text: str) -> bool:
    return text.lower().endswith(MODEL_SUFFIXES)


def _target(args: argparse.Namespace) -> tuple[Any, dict]:
    """The pattern name or the loaded model named on the command line, with its sizes."""
    from ._patterns import PATTERNS

    name = args.pattern
    if name in PATTERNS:
        return name, _sizes(args, PATTERNS[name].sizes, f"pattern {name!r}")
    if not _is_model_path(name):
        raise UsageError(
            f"unknown pattern {name!r}; valid patterns: {', '.join(PATTERNS)}; "
            "or a saved model, PATH.keras"
        )
    sizes = _sizes(args, ("steps",), "a saved model")
    return _load_model(Path(name)), sizes


def _load_model(path: Path) -> Any:
    """A saved Keras model, read without compiling; the package's layers are known."""
    if not path.is_file():
        raise UsageError(f"no such file: {path}")
    _quiet_keras()
    import keras

    try:
        return keras.saving.load_model(path, compile=False)
    except Exception as err:  # Keras raises many kinds for a file it cannot read
        reason = " ".join(str(err).split())[:300] or type(err).__name__
        raise UsageError(f"{path.name} could not be read as a Keras model ({reason})") from None


def _cmd_patterns(args: argparse.Namespace) -> int:
    from ._patterns import PATTERNS
    from ._table import table

    rows = [("pattern", "shapes", "built by")]
    rows += [(p.name, p.shapes, p.factory) for p in PATTERNS.values()]
    print(table(rows))
    return 0


def _cmd_explain(args: argparse.Namespace) -> int:
    from .explaining import explain

    target, sizes = _target(args)
    print(explain(target, **sizes))
    return 0


def _cmd_diagram(args: argparse.Namespace) -> int:
    from .diagram import diagram
    from .explaining import explain, pattern_of

    target, sizes = _target(args)
    if not isinstance(target, str) and pattern_of(target) is None:
        print(explain(target, **sizes))
        print(
            f"klp diagram: no picture drawn: {args.pattern} is not one of the patterns "
            "(klp patterns lists them); its layers are above",
            file=sys.stderr,
        )
        return 1
    drawing = diagram(target, args.output, **sizes)
    print(f"wrote {drawing.path}: {drawing.title}")
    return 0


def _cmd_docs(args: argparse.Namespace) -> int:
    from ._patterns import PATTERNS
    from .diagram import diagram, diagram_batches

    out = Path(args.folder)
    if out.exists() and not out.is_dir():
        raise UsageError(f"{out} is a file; give a folder for the pictures")
    for name, pat in PATTERNS.items():
        d = diagram(name, out / f"{name}.png", **pat.picture_sizes())
        print(f"wrote {d.path}")
    d = diagram_batches((3, 6, 2), 2, out / "stateful_batches.png")
    print(f"wrote {d.path}")
    return 0


def _read_csv(path: Path) -> Any:
    import pandas as pd

    if not path.is_file():
        raise UsageError(f"no such file: {path}")
    try:
        return pd.read_csv(path)
    except (UnicodeDecodeError, pd.errors.ParserError, pd.errors.EmptyDataError) as err:
        reason = str(err).splitlines()[0] if str(err) else type(err).__name__
        raise UsageError(f"{path.name} could not be read as a CSV text file ({reason})") from None


def _names(text: str | None) -> list[str]:
    return [] if text is None else [p.strip() for p in text.split(",") if p.strip()]


def _window_columns(frame: Any, args: argparse.Namespace, path: Path) -> tuple[list, list]:
    """The feature columns to window, and the non-numeric columns left out."""
    import pandas as pd

    asked = _names(args.features) or _names(args.column)
    for name in [*asked, *_names(args.target), args.id, args.time]:
        if name is not None and name not in frame.columns:
            raise UsageError(
                f"no column {name!r} in {path.name}; columns: {', '.join(map(str, frame.columns))}"
            )
    numeric = [c for c in frame.columns if pd.api.types.is_numeric_dtype(frame[c])]
    keys = {args.id, args.time}
    if asked:
        text = [c for c in asked if c not in numeric]
        if text:
            raise UsageError(
                f"column {text[0]!r} of {path.name} is not numeric (dtype "
                f"{frame[text[0]].dtype}); window numeric columns (--features), and give "
                "the time column as --time"
            )
        return asked, []
    features = [c for c in numeric if c not in keys]
    if not features:
        raise UsageError(f"{path.name} has no numeric column; name them with --features")
    return features, [c for c in frame.columns if c not in numeric and c not in keys]


def _as_tanks(frame: Any, args: argparse.Namespace, features: list) -> tuple[Any, Any]:
    """The file as ``(entities, steps, features)`` and its TankIndex: one entity per id,
    or the whole file as one entity (in time order with --time, else in file order)."""
    import pandas as pd

    from . import windows

    if args.time is not None and args.time_format is not None:
        try:
            parsed = pd.to_datetime(frame[args.time], format=args.time_format)
        except (ValueError, TypeError) as err:
            reason = " ".join(str(err).split())
            raise UsageError(
                f"column {args.time!r} does not match --time-format {args.time_format!r}: {reason}"
            ) from None
        frame = frame.assign(**{args.time: parsed})
    if args.id is not None and args.time is None:
        raise UsageError("--id needs --time, the column that orders each entity's steps")
    entity = args.id if args.id is not None else "(one series)"
    time = args.time if args.time is not None else "row"
    keys = {entity: frame[args.id] if args.id is not None else "all"}
    keys[time] = frame[args.time] if args.time is not None else range(len(frame))
    long = pd.DataFrame(keys, index=frame.index).join(frame[features])
    try:
        return windows.tanks(long, id=entity, time=time, features=features, return_index=True)
    except ValueError as err:
        text = str(err)
        if "`time` must be a datetime" in text:
            fmt = text.split('format="', 1)[1].split('"', 1)[0]
            raise ValueError(f"{err} On the command line: --time-format '{fmt}'.") from None
        if args.id is None and "must be one row per" in text:
            raise UsageError(
                f"{args.time!r} repeats within the file: it holds several entities; name "
                "the column that tells them apart with --id"
            ) from None
        if "`pad` must be a number" in text:
            raise UsageError(
                "the entities have different numbers of steps "
                f"({text.split('Received: ', 1)[1]}); give each the same span of time "
                "(e.g. cut the file to the hours every entity has)"
            ) from None
        raise


def _count(steps: int, args: argparse.Namespace) -> int:
    return max((steps - args.look_back - args.horizon) // args.stride + 1, 0)


def _cmd_windows(args: argparse.Namespace) -> int:
    import numpy as np

    from . import windows

    path = Path(args.file)
    frame = _read_csv(path)
    features, ignored = _window_columns(frame, args, path)
    targets = _names(args.target) or features
    if any(t not in features for t in targets):
        raise UsageError(f"--target {args.target} must name columns among the features")
    data, index = _as_tanks(frame, args, features)
    x, y = windows.look_back(
        data,
        args.look_back,
        horizon=args.horizon,
        stride=args.stride,
        targets=[features.index(t) for t in targets],
    )
    entities, steps = data.shape[0], data.shape[1]
    per_entity = len(x) // entities
    print(f"file: {path.name}, {len(frame)} rows")
    if ignored:
        print(f"ignored non-numeric columns: {', '.join(map(str, ignored))}")
        if args.id is None and args.time is None:
            print(
                "note: without --id and --time the whole file is one series, in file row "
                "order; if those columns name entities or times, pass --id and --time",
                file=sys.stderr,
            )
    by = f" (one per {args.id!r})" if args.id else ""
    print(f"entities: {entities}{by}, {steps} steps each; features: {', '.join(features)}")
    print(f"windows: {per_entity} per entity, {len(x)} in all, never across two entities")
    print(f"x: {x.shape}  (samples, steps=look_back, features)")
    shape = "(samples, targets)" if args.horizon == 1 else "(samples, horizon, targets)"
    print(f"y: {y.shape}  {shape}, targets: {', '.join(targets)}")
    cut = int(steps * args.train)
    if args.look_back <= cut < steps:
        train, test = _count(cut, args), _count(steps - cut + args.look_back, args)
        print(
            f"split --train {args.train}: steps 0-{cut - 1} train ({train * entities} windows), "
            f"steps {cut}-{steps - 1} test ({test * entities} windows; their look-back starts "
            f"{args.look_back} steps into the train part, no test target is a train step)"
        )
    for e in range(min(args.show, entities)):
        i = e * per_entity
        if i >= len(x):
            break
        xi = x[i, :, 0] if x.shape[-1] == 1 else x[i]
        text = np.array2string(xi, precision=4, suppress_small=True, threshold=12, edgeitems=2)
        target = np.array2string(y[i].squeeze(), precision=4, suppress_small=True)
        when = index.times[e][args.look_back]
        name = f"{index.ids[e]}: " if args.id else ""
        print(
            f"{name}window 0: x={' '.join(text.split())} -> y={target}"
            f"  (target at {index.time}={when})"
        )
    return 0


def _recipe_names() -> list[str]:
    return sorted(p.stem for p in RECIPES_DIR.glob("[a-z]*.py"))


def _cmd_recipes(args: argparse.Namespace) -> int:
    import ast

    names = _recipe_names()
    if not names:
        raise UsageError(f"no recipes found in {RECIPES_DIR} (they ship with the source checkout)")
    for name in names:
        doc = ast.get_docstring(ast.parse((RECIPES_DIR / f"{name}.py").read_text())) or ""
        print(f"{name:22s} {doc.splitlines()[0] if doc else ''}")
    return 0


def _cmd_recipe(args: argparse.Namespace) -> int:
    names = _recipe_names()
    if args.name not in names:
        raise UsageError(f"unknown recipe {args.name!r}; valid recipes: {', '.join(names)}")
    run = "from keras_lstm_patterns.cli import _run_script; _run_script()"
    command = [sys.executable, "-c", run, str(RECIPES_DIR / f"{args.name}.py"), *args.rest]
    if args.quick:
        command.append("--quick")
    return subprocess.call(command)


def parser() -> argparse.ArgumentParser:
    """The ``klp`` argument parser: one subcommand per job, each with an example.

    Returns:
        The parser; each subcommand's namespace carries its handler as ``func``.

    >>> args = parser().parse_args(["explain", "many_to_one", "--steps", "5", "--units", "8,4"])
    >>> args.command, args.pattern, args.steps, args.units
    ('explain', 'many_to_one', 5, (8, 4))
    """
    top = _Parser(
        prog="klp",
        description="Keras recurrent-network patterns: shapes, pictures, windows, recipes.",
        epilog="Example: klp explain many_to_one --steps 5 --features 2 --units 8",
    )
    sub = top.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def add(name: str, help: str, example: str, more: str = "") -> argparse.ArgumentParser:
        return sub.add_parser(
            name,
            help=help,
            description=help,
            epilog=f"Example: {example}" + (f"\n\n{more}" if more else ""),
            formatter_class=argparse.RawDescriptionHelpFormatter,
        )

    p = add("patterns", "list the patterns, their shapes and factories", "klp patterns")
    p.set_defaults(func=_cmd_patterns)
    p = add(
        "explain",
        "explain the shapes of a pattern, or of a saved model, layer by layer",
        "klp explain many_to_one --steps 5 --features 2 --units 8 --outputs 1",
        "Also: klp explain my_model.keras\n\n" + _sizes_table(),
    )
    p.add_argument("pattern", help="a pattern name (klp patterns), or a saved model PATH.keras")
    _add_sizes(p)
    p.set_defaults(func=_cmd_explain)
    p = add(
        "diagram",
        "draw the unrolled picture of a pattern, or of a saved model (PNG or SVG)",
        "klp diagram many_to_many -o m2m.png --steps 4",
        "Also: klp diagram my_model.keras -o my_model.png (a model that is not one of the "
        "patterns gets its layer table, no picture)\n\n" + _sizes_table(),
    )
    p.add_argument("pattern", help="a pattern name (klp patterns), or a saved model PATH.keras")
    p.add_argument("-o", "--output", required=True, help="a .png or .svg file")
    _add_sizes(p)
    p.set_defaults(func=_cmd_diagram)
    p = add("docs", "draw every pattern's picture into a folder (make docs)", "klp docs docs/img")
    p.add_argument("folder")
    p.set_defaults(func=_cmd_docs)
    p = add(
        "windows",
        "show the look-back windows of a CSV: one series, or one per entity with --id",
        "klp windows tanks.csv --id tank_id --time timestamp --features pressure,temperature "
        "--target pressure --look-back 24",
    )
    p.add_argument("file")
    p.add_argument("--look-back", type=_positive, required=True, help="steps per window")
    p.add_argument("--horizon", type=_positive, default=1, help="steps each target holds")
    p.add_argument("--stride", type=_positive, default=1, help="steps between window starts")
    p.add_argument("--id", help="column naming the entity (tank); windows stay inside one")
    p.add_argument("--time", help="column ordering the steps (datetimes or numbers)")
    p.add_argument("--time-format", help="parse --time text with this format, e.g. %%d/%%m/%%Y")
    p.add_argument("--features", help="columns of one step, e.g. pressure,temperature")
    p.add_argument("--column", help="one column (same as --features with one name)")
    p.add_argument("--target", help="columns the model predicts (default: the features)")
    p.add_argument("--train", type=_fraction, default=0.67, help="fraction of steps that train")
    p.add_argument(
        "--show", type=_count_arg, default=3, help="entities whose first window to print"
    )
    p.set_defaults(func=_cmd_windows)
    p = add("recipes", "list the recipes", "klp recipes")
    p.set_defaults(func=_cmd_recipes)
    p = add("recipe", "run a recipe", "klp recipe airline_look_back --quick")
    p.add_argument("name")
    p.add_argument("--quick", action="store_true", help="tiny epochs and one seed")
    p.add_argument(
        "rest", nargs=argparse.REMAINDER, help="more options for the recipe (--seed, --out ...)"
    )
    p.set_defaults(func=_cmd_recipe)
    return top


def _one_line(err: BaseException) -> str:
    if isinstance(err, OSError) and err.strerror:
        where = f": {err.filename}" if err.filename else ""
        return f"{err.strerror}{where}"
    return " ".join(str(err).split()) or type(err).__name__


def main(argv: Sequence[str] | None = None) -> int:
    """Run one ``klp`` command; a usage error prints one line, never a traceback.

    Usage errors are ours (``UsageError``), the package's refusals (``ArgumentError``,
    which carries the argument's name, rule and value), and files that cannot be read or
    written (``OSError``). Any other exception is a bug and keeps its traceback.

    Args:
        argv: the command line after ``klp``; ``None`` reads ``sys.argv``.

    Returns:
        The exit code: 0 on success, 2 on a usage error (printed on stderr), 1 when
        ``klp diagram`` is given a model that is not one of the patterns.

    Raises:
        SystemExit: from argparse, for ``--help`` (code 0) or arguments it cannot
            parse (code 2).

    >>> main(["explain", "many_to_two"])  # stderr: unknown pattern 'many_to_two'; ...
    2
    """
    args = parser().parse_args(argv)
    try:
        if args.command not in NO_KERAS:
            _quiet_keras()
        return int(args.func(args) or 0)
    except (UsageError, ArgumentError, OSError) as err:
        print(f"klp {args.command}: error: {_one_line(err)}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
