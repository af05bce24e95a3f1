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
import contextlib
import math
import os
import stat
import subprocess
import sys
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any, NoReturn

from ._errors import ArgumentError

# set before any command imports TensorFlow: its C++ INFO and WARNING lines off
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

RECIPES_DIR = Path(__file__).resolve().parent.parent / "recipes"
__all__ = ["UsageError", "main", "parser"]

MODEL_SUFFIXES = (".keras", ".h5", ".hdf5")  # as Keras reads them: lower case
NO_KERAS = ("patterns", "recipes", "recipe", "windows")  # commands that import no Keras here


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


@contextlib.contextmanager
def _user_file() -> Iterator[None]:
    """Around reading or writing a file the command line named: the system's refusal
    (no permission, a full disk, ...) becomes a usage error of one line. An ``OSError``
    anywhere else is a bug and keeps its traceback."""
    try:
        yield
    except OSError as err:
        raise UsageError(_one_line(err)) from None


def _raised_in_package(err: BaseException | None) -> bool:
    """Whether ``err``, or an error it was raised from (Keras wraps some), came through
    the package's own code (not this module)."""
    here = Path(__file__).resolve()
    seen = set()
    while err is not None and id(err) not in seen:
        seen.add(id(err))
        tb = err.__traceback__
        while tb is not None:
            file = Path(tb.tb_frame.f_code.co_filename).resolve()
            if file != here and here.parent in file.parents:
                return True
            tb = tb.tb_next
        err = err.__cause__ or err.__context__
    return False


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
    "steps": (int, "steps per sequence (the unrolled length)"),
    "horizon": (int, "generate/forecast: new steps"),
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
    lines.append(
        "a saved model (PATH.keras) takes --steps, for a free steps axis; a saved generator"
        " takes --horizon, its new steps"
    )
    return "\n".join(lines)


def _add_sizes(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("sizes (each pattern takes its own: see the list below)")
    for size, (kind, text) in SIZES.items():
        g.add_argument(_option(size), dest=size, type=kind, help=text)


def _sizes(
    args: argparse.Namespace, takes: Sequence[str], what: str, *, passed: Sequence[str] = ()
) -> dict:
    """The sizes given on the command line, refusing those ``what`` does not take (but
    those ``passed`` on, for the package to refuse by name)."""
    given = {k: getattr(args, k) for k in SIZES if getattr(args, k, None) is not None}
    extra = [_option(k) for k in given if k not in takes and k not in passed]
    if extra:
        raise UsageError(
            f"{what} takes {', '.join(map(_option, takes)) or 'no sizes'}; not {', '.join(extra)}"
        )
    return given


def _is_model_path(text: str) -> bool:
    """A name meant as a saved model: a model suffix in any case (Keras reads lower case
    only; ``_load_model`` says so)."""
    return text.lower().endswith(MODEL_SUFFIXES)


def _target(args: argparse.Namespace) -> tuple[Any, dict]:
    """The pattern name or the loaded model named on the command line, with its sizes."""
    from ._patterns import PATTERNS

    name = args.pattern
    if name in PATTERNS:
        pat = PATTERNS[name]
        # --steps for a pattern counted in --horizon goes on: the package refuses it by
        # name, and _size_refusal names --horizon
        passed = ("steps",) if pat.length == "horizon" else ()
        return name, _sizes(args, pat.sizes, f"pattern {name!r}", passed=passed)
    _check_target(name)
    sizes = _sizes(args, ("steps", "horizon"), "a saved model")
    model = _load_model(Path(name))
    # --horizon (a generator's new steps) and --steps go on: explain and diagram refuse the
    # one a model does not take by name, as they do in Python
    if "steps" in sizes:
        fixed = _fixed_steps(model)
        if fixed is not None and fixed != sizes["steps"]:
            raise UsageError(
                f"--steps {sizes['steps']}: {Path(name).name} has a fixed steps axis of "
                f"{fixed}; --steps sets only a free one (an input shape (None, features))"
            )
    return model, sizes


def _check_target(name: str) -> None:
    """Refuse what is neither a pattern nor a model file name (no Keras needed)."""
    from ._patterns import PATTERNS

    if name not in PATTERNS and not _is_model_path(name):
        kind = _file_kind(Path(name))
        what = "" if kind is None or kind.startswith("no such") else f" ({name} is {kind})"
        raise UsageError(
            f"unknown pattern {name!r}{what}; valid patterns: {', '.join(PATTERNS)}; "
            "or a saved model, PATH.keras"
        )


def _fixed_steps(model: Any) -> int | None:
    """The steps axis of a model's first 3-D input, ``None`` when it is free (or 2-D)."""
    shape = tuple(model.inputs[0].shape) if getattr(model, "inputs", None) else ()
    return shape[1] if len(shape) == 3 else None


HDF5_SIGNATURE = b"\x89HDF\r\n\x1a\n"


def _model_file_problem(path: Path) -> str | None:
    """Why ``path`` cannot be a saved Keras model, read from its name and first bytes
    (``None`` when it looks like one): Keras's own errors for these say "File not
    found" or "format not supported"."""
    import zipfile

    suffix = next(s for s in MODEL_SUFFIXES if path.name.lower().endswith(s))
    if not path.name.endswith(suffix):
        fixed = path.name[: -len(suffix)] + suffix
        return (
            f"Keras reads saved models only from names ending in "
            f"{', '.join(MODEL_SUFFIXES)} in lower case; rename {path.name} to {fixed}"
        )
    size = path.stat().st_size
    if suffix == ".keras":
        if not zipfile.is_zipfile(path):
            return (
                f"{path.name} is not a Keras model file: a .keras file is a zip archive, this "
                f"one ({size} bytes) is not (cut short while copying, or another format)"
            )
        try:
            with zipfile.ZipFile(path) as archive:
                names = set(archive.namelist())
        except (zipfile.BadZipFile, OSError) as err:
            return f"{path.name} is a damaged zip archive ({err})"
        if "config.json" not in names:
            return f"{path.name} is a zip archive but not a Keras model (no config.json in it)"
        return None
    with _user_file(), open(path, "rb") as f:
        head = f.read(2048 + 8)
    if not any(head[at : at + 8] == HDF5_SIGNATURE for at in (0, 512, 1024, 2048)):
        return (
            f"{path.name} is not a Keras model file: a {suffix} model is an HDF5 file, this "
            f"one ({size} bytes) does not start like one"
        )
    return None


def _load_model(path: Path) -> Any:
    """A saved Keras model, read without compiling; the package's layers are known."""
    _check_file(path)
    problem = _model_file_problem(path)
    if problem:
        raise UsageError(problem)
    _quiet_keras()
    import keras

    try:
        return keras.saving.load_model(path, compile=False)
    except Exception as err:  # Keras raises many kinds (OSError too) for a file it cannot read
        if _raised_in_package(err):  # the package's own layers failed (a nested
            raise  # PatternModel is called while Keras rebuilds the model): a bug
        reason = " ".join(str(err).split())[:300] or type(err).__name__
        raise UsageError(f"{path.name} could not be read as a Keras model ({reason})") from None


def _cmd_patterns(args: argparse.Namespace) -> int:
    from ._patterns import PATTERNS
    from ._table import table

    rows = [("pattern", "shapes", "built by")]
    rows += [(p.name, p.shapes, p.factory) for p in PATTERNS.values()]
    print(table(rows))
    return 0


def _size_refusal(err: ArgumentError, what: str) -> ArgumentError | UsageError:
    """A size the package refused, in options: ``steps`` for a pattern that counts its
    new steps in ``horizon`` (the rule ``STEPS_RENAMED``) names ``--horizon``; any other
    refusal is left as it is."""
    from ._checks import STEPS_RENAMED

    if err.name == "steps" and err.rule == STEPS_RENAMED:
        return UsageError(
            f"{_option('steps')} must be written {_option('horizon')} for {what}: "
            f"{_option('horizon')} counts the new steps, {_option('steps')} the time steps "
            f"a sample reads. Received: {_option('steps')} {err.value}"
        )
    return err


def _cmd_explain(args: argparse.Namespace) -> int:
    from .explaining import explain

    target, sizes = _target(args)
    try:
        text = explain(target, **sizes)
    except ArgumentError as err:
        raise _size_refusal(err, args.pattern) from None
    print(text)
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
    try:
        with _user_file():
            drawing = diagram(target, args.output, **sizes)
    except ArgumentError as err:
        raise _size_refusal(err, args.pattern) from None
    print(f"wrote {drawing.path}: {drawing.title}")
    return 0


def _cmd_docs(args: argparse.Namespace) -> int:
    from ._patterns import PATTERNS
    from .diagram import diagram, diagram_batches

    out = Path(args.folder)
    if out.exists() and not out.is_dir():
        raise UsageError(f"{out} is a file; give a folder for the pictures")
    with _user_file():
        for name, pat in PATTERNS.items():
            d = diagram(name, out / f"{name}.png", **pat.picture_sizes())
            print(f"wrote {d.path}")
        d = diagram_batches((3, 6, 2), 2, out / "stateful_batches.png")
        print(f"wrote {d.path}")
    return 0


def _file_kind(path: Path) -> str | None:
    """What ``path`` is when it is not a file a command can read (``None`` when it is)."""
    try:
        mode = path.stat().st_mode
    except FileNotFoundError:
        return "no such file"
    except NotADirectoryError:
        return "no such file (a part of the path is a file, not a folder)"
    if stat.S_ISREG(mode) or stat.S_ISFIFO(mode):
        return None
    if stat.S_ISDIR(mode):
        return "a directory, not a file"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device, not a file"
    return "not a regular file"


def _check_file(path: Path) -> None:
    kind = _file_kind(path)
    if kind is not None:
        raise UsageError(f"{kind}: {path}" if kind.startswith("no such") else f"{path} is {kind}")


def _separator(text: str) -> str:
    """``--sep``: one character; ``\\t`` or ``tab`` (as a shell passes them) for a tab."""
    value = "\t" if text in ("\\t", "tab") else text
    if len(value) != 1:
        raise argparse.ArgumentTypeError(f"expected one character such as ';' or tab; got {text!r}")
    return value


def _decimal(text: str) -> str:
    if len(text) != 1:
        raise argparse.ArgumentTypeError(f"expected one character such as ',' or '.'; got {text!r}")
    return text


def _number(text: str) -> float | None:
    """``text`` as a finite number (a sentinel such as -999), else ``None``."""
    try:
        value = float(text)
    except ValueError:
        return None
    return value if math.isfinite(value) else None


def _na_values(args: argparse.Namespace) -> tuple[list[str], list[float]]:
    """``--na-values`` as the text markers ``read_csv`` reads as missing, and the numbers
    (sentinels such as -999) that ``tanks`` marks missing."""
    # --na-values may be given several times: every one counts (never only the last)
    names = [name for text in args.na_values or () for name in _names(text)]
    return [n for n in names if _number(n) is None], [
        v for v in map(_number, names) if v is not None
    ]


def _read_csv(path: Path, *, sep: str = ",", decimal: str = ".", na_values: Any = ()) -> Any:
    _check_file(path)  # before pandas is imported: a wrong path answers at once
    import pandas as pd

    if sep == decimal:
        raise UsageError(
            f"--sep and --decimal are both {sep!r}; a column separator cannot also mark decimals"
        )
    try:
        with _user_file():
            return pd.read_csv(path, sep=sep, decimal=decimal, na_values=list(na_values) or None)
    except (UnicodeDecodeError, pd.errors.ParserError, pd.errors.EmptyDataError) as err:
        reason = str(err).splitlines()[0] if str(err) else type(err).__name__
        raise UsageError(f"{path.name} could not be read as a CSV text file ({reason})") from None


def _names(text: str | None) -> list[str]:
    return [] if text is None else [p.strip() for p in text.split(",") if p.strip()]


def _sep_hint(frame: Any, args: argparse.Namespace) -> str:
    """When the header was not split into columns: the ``--sep`` it holds."""
    header = " ".join(map(str, frame.columns))
    for sep, shown in ((";", '";"'), ("\t", "'\\t'"), ("|", '"|"')):
        if sep != args.sep and sep in header:
            return f"; the header holds {shown}: give --sep {shown}"
    return ""


def _decimal_hint(column: Any, args: argparse.Namespace) -> str:
    """Why a column of numbers was read as text: decimal commas (``--decimal ','``) or a
    few markers of missing values (``--na-values``); "" when neither."""
    import pandas as pd

    text = column.dropna().astype(str).str.strip()
    sample = text.head(20)
    if args.decimal != "," and len(sample) and sample.str.fullmatch(r"-?\d+,\d+").all():
        return f" (values such as {sample.iloc[0]!r}: give --decimal ',')"
    numbers = pd.to_numeric(text.str.replace(args.decimal, ".", regex=False), errors="coerce")
    markers = text[numbers.isna()].unique()
    if len(text) and numbers.notna().mean() >= 0.5 and len(markers) <= 3:
        shown = ",".join(map(str, markers))
        return f" (numbers, and {', '.join(map(repr, markers))}: give --na-values {shown})"
    return ""


def _window_columns(frame: Any, args: argparse.Namespace, path: Path) -> tuple[list, list]:
    """The feature columns to window, and the non-numeric columns left out."""
    import pandas as pd

    asked = _names(args.features) or _names(args.column)
    for option, name in [
        *(("--features", n) for n in asked),
        *(("--target", n) for n in _names(args.target)),
        ("--id", args.id),
        ("--time", args.time),
    ]:
        if name is not None and name not in frame.columns:
            raise UsageError(
                f"{option}: no column {name!r} in {path.name}; columns: "
                f"{', '.join(map(str, frame.columns))}{_sep_hint(frame, args)}"
            )
    if args.id is not None and args.id == args.time:
        raise UsageError(f"--id and --time both name {args.id!r}; give two different columns")
    keys = {"--id": args.id, "--time": args.time}
    for option, key in keys.items():
        if key is not None and key in asked:
            raise UsageError(
                f"--features names {key!r}, the {option} column; a column is either a key "
                f"({option}) or a feature, not both"
            )
    numeric = [c for c in frame.columns if pd.api.types.is_numeric_dtype(frame[c])]
    numeric = [c for c in numeric if not pd.api.types.is_bool_dtype(frame[c])]
    if asked:
        text = [c for c in asked if c not in numeric]
        if text:
            raise UsageError(
                f"--features: column {text[0]!r} of {path.name} is not numeric (dtype "
                f"{frame[text[0]].dtype}){_decimal_hint(frame[text[0]], args)}; window numeric "
                "columns (--features), and give the time column as --time"
            )
        return asked, []
    features = [c for c in numeric if c not in keys.values()]
    if not features:
        hints = [_decimal_hint(frame[c], args) for c in frame.columns if c not in keys.values()]
        hint = next((h for h in hints if h), "") or _sep_hint(frame, args)
        raise UsageError(f"{path.name} has no numeric column{hint}; name them with --features")
    return features, [c for c in frame.columns if c not in numeric and c not in keys.values()]


ISO_STAMP = (  # ISO 8601: a month or a day, a time of day, a UTC offset after a time
    r"^\s*(?P<stamp>\d{4}-\d{2}(?:-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?"
    r"(?P<zone>Z|[+-]\d{2}(?::?\d{2})?)?)?)?)\s*$"
)


def _parse_time(frame: Any, args: argparse.Namespace) -> tuple[Any, str]:
    """The frame with its --time column parsed, and a note on the zone ("" if none).

    With --time-format, that layout. Without, ISO 8601 text is read as such (year first,
    so day and month are never guessed): stamps with UTC offsets, mixed ones included,
    become UTC; stamps without offsets stay as written. Any other text is left for
    ``tanks`` to refuse with the layout to give."""
    import pandas as pd

    column = frame[args.time]
    if args.time_format is not None:
        utc = "%z" in args.time_format
        try:
            parsed = pd.to_datetime(column, format=args.time_format, utc=utc)
        except (ValueError, TypeError) as err:
            reason = " ".join(str(err).split())
            raise UsageError(
                f"column {args.time!r} does not match --time-format {args.time_format!r}: {reason}"
            ) from None
        return frame.assign(**{args.time: parsed}), "times: UTC, from the offsets" * utc
    if pd.api.types.is_numeric_dtype(column) or pd.api.types.is_datetime64_any_dtype(column):
        return frame, ""
    text = column.dropna().astype(str)
    found = text.str.extract(ISO_STAMP)
    iso, zoned = found["stamp"].notna(), found["zone"].notna()
    if not iso.any():
        return frame, ""  # not ISO 8601: tanks refuses it, with the layout to give
    for bad, what in ((~iso, "ISO 8601 stamps with others"), (zoned != zoned.iloc[0], "")):
        if bad.any():
            row = text.index[int(bad.to_numpy().argmax())]
            what = what or "stamps with and without a UTC offset"
            raise UsageError(
                f"--time: column {args.time!r} mixes {what} (row {row}: {text[row]!r}); "
                "give one layout with --time-format"
            )
    zoned_all = bool(zoned.all())
    try:
        parsed = pd.to_datetime(column, format="ISO8601", utc=zoned_all)
    except (ValueError, TypeError) as err:  # e.g. month 13
        reason = " ".join(str(err).split())
        raise UsageError(f"--time: column {args.time!r} could not be read: {reason}") from None
    note = "times: UTC, converted from the offsets in the file" if zoned_all else ""
    return frame.assign(**{args.time: parsed}), note


def _free_name(frame: Any, name: str) -> str:
    """``name``, or ``name_`` ..., whichever is not a column of ``frame``."""
    while name in frame.columns:
        name += "_"
    return name


OPTIONS = {  # argument of the package -> the klp windows option that sets it
    "look_back": "--look-back",
    "horizon": "--horizon",
    "stride": "--stride",
    "targets": "--target",
    "features": "--features",
    "id": "--id",
    "time": "--time",
    "freq": "--freq",
    "agg": "--agg",
    "fill": "--fill",
    "limit": "--limit",
    "na_values": "--na-values",
}


def _with_option(err: ArgumentError) -> UsageError:
    """The package's refusal, with the command-line option that sets the argument."""
    option = OPTIONS.get(err.name)
    return UsageError(f"{err} (option {option})" if option else str(err))


def _as_tanks(frame: Any, args: argparse.Namespace, features: list) -> tuple[Any, Any, str]:
    """The file as ``(entities, steps, features)``, its TankIndex and a note on times:
    one entity per id, or the whole file as one entity (in time order with --time, else
    in file order)."""
    from .series import _time_format, tanks

    if args.id is not None and args.time is None:
        raise UsageError("--id needs --time, the column that orders each entity's steps")
    for option in ("agg", "fill", "limit"):
        if getattr(args, option) is not None and args.freq is None:
            raise UsageError(f"--{option} works on a time grid: give --freq too (e.g. --freq h)")
    if args.limit is not None and args.fill is None:
        raise UsageError("--limit caps what --fill fills: give --fill ffill or interpolate")
    note = ""
    if args.time is not None:
        frame, note = _parse_time(frame, args)
        stamps = frame[args.time]
        if args.drop_duplicates:  # tanks drops exact duplicate rows: not a repeat
            stamps = stamps[~frame.duplicated()]
        if args.id is None and args.freq is None and stamps.duplicated().any():
            first = stamps[stamps.duplicated()].iloc[0]
            raise UsageError(
                f"--time: {args.time!r} repeats within the file ({first} and "
                f"{int(stamps.duplicated().sum()) - 1} more): if it holds several entities, "
                "name the column that tells them apart with --id"
            )
    # the command's own key columns get names no column of the file has
    entity = args.id if args.id is not None else _free_name(frame, "series")
    time = args.time if args.time is not None else _free_name(frame, "row")
    extra = {}
    if args.id is None:
        extra[entity] = "all"
    if args.time is None:
        extra[time] = range(len(frame))
    long = frame.assign(**extra) if extra else frame
    options: dict[str, Any] = {}
    for name in ("freq", "agg", "fill", "limit"):
        if getattr(args, name) is not None:
            options[name] = getattr(args, name)
    _, sentinels = _na_values(args)
    if sentinels:
        options["na_values"] = sentinels
    if args.clean_ids:  # ids stripped and upper-cased by tanks, before grouping
        options["clean_ids"] = True
    if args.drop_duplicates:  # by tanks, after --clean-ids: 'T-01 ' and 'T-01' may repeat
        options["duplicates"] = "drop"
    try:
        data, index = tanks(
            long, id=entity, time=time, features=features, return_index=True, **options
        )
    except ArgumentError as err:
        raise _tanks_refusal(err, long, args, time, _time_format) from None
    return data, index, note


def _tanks_refusal(
    err: ArgumentError, long: Any, args: argparse.Namespace, time: str, layout: Any
) -> UsageError:
    """``tanks``' refusal, with the command-line option that fixes it (read from the
    error's argument name and the data, never from the message text)."""
    column = long[time]
    first = column.dropna().iloc[0] if column.notna().any() else None
    if err.name == "time" and isinstance(first, str):  # text that is not ISO 8601
        return UsageError(f"{err} On the command line: --time-format '{layout(first)}'.")
    if err.name == "pad":
        return UsageError(
            f"the entities have different numbers of steps ({err.received}); put them "
            "on one time grid with --freq (e.g. --freq h), or give each the same span "
            "of time"
        )
    if err.name == "id" and args.id is not None and not args.clean_ids:
        ids = long[args.id].dropna().astype(str)
        if ids.str.strip().str.upper().nunique() < ids.nunique():
            return UsageError(f"{err} On the command line: --clean-ids.")
    if err.name == "frame" and not args.drop_duplicates and long.duplicated().any():
        return UsageError(f"{err} On the command line: --drop-duplicates.")
    return _with_option(err)


def _first_missing(data: Any, index: Any, features: list, by_id: bool) -> str:
    """Where the first missing value of a tank array is, by id, time and feature."""
    import numpy as np

    entity, step, feature = np.argwhere(np.isnan(data))[0]
    when = index.times[entity][step] if step < len(index.times[entity]) else f"step {step}"
    who = f"{index.id}={_plain(index.ids[entity])!r} has" if by_id else "the file has"
    count = int(np.isnan(data).sum())
    return (
        f"{who} no {features[feature]!r} at {index.time}={when} ({count} missing "
        f"value{'s' * (count != 1)} in all)"
    )


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}{'s' * (n != 1)}"


def _plain(value: Any) -> Any:
    return value.item() if hasattr(value, "item") else value


def _cmd_windows(args: argparse.Namespace) -> int:
    """``klp windows``; the package's warnings become one line each on stderr."""
    import warnings

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            return _windows(args)
        finally:
            for w in caught:
                text = " ".join(str(w.message).split())
                print(f"klp windows: warning: {text}", file=sys.stderr)


def _windows(args: argparse.Namespace) -> int:
    path = Path(args.file)
    frame = _read_csv(path, sep=args.sep, decimal=args.decimal, na_values=_na_values(args)[0])
    import numpy as np
    import pandas as pd

    from .series import window_count

    if not isinstance(frame.index, pd.RangeIndex):  # pandas took the first field as labels
        hint = _sep_hint(frame, args) or (
            "; are its decimals written with commas (give --decimal ',' and --sep ';')?"
            * (args.sep == ",")
        )
        raise UsageError(
            f"the rows of {path.name} have more fields than its header "
            f"({', '.join(map(str, frame.columns))}){hint}"
        )
    features, ignored = _window_columns(frame, args, path)
    targets = _names(args.target) or features
    if any(t not in features for t in targets):
        raise UsageError(f"--target {args.target} must name columns among the features")
    rows = len(frame)
    if args.clean_ids and args.id is None:
        raise UsageError("--clean-ids cleans the --id column: give --id too")
    data, index, note = _as_tanks(frame, args, features)
    dropped = rows - int(index.report()["rows"].sum())  # --drop-duplicates, in tanks
    target_columns = [features.index(t) for t in targets]
    nan = np.isnan(data)
    if nan.any() and args.missing != "drop":
        raise UsageError(
            f"--missing: {_first_missing(data, index, features, args.id is not None)}; "
            "give --missing drop to keep only the windows whose steps are "
            "all present, or fill short gaps with --freq, --fill and --limit"
        )
    observed = index if getattr(index, "observed", None) is not None else None
    drop = {"missing": "drop", "observed": observed} if args.missing == "drop" else {}
    # the module itself: the package's lazy names (`from . import windows`) load Keras
    from .windows import look_back

    try:
        x, y = look_back(
            data,
            args.look_back,
            horizon=args.horizon,
            stride=args.stride,
            targets=target_columns,
            **drop,
        )
    except ArgumentError as err:
        raise _with_option(err) from None
    size = {"horizon": args.horizon, "stride": args.stride}
    entities, steps = data.shape[0], data.shape[1]

    def kept(offset: int = 0, end: int | None = None) -> Any:
        """The (id, time) of each kept window's first target step."""
        named = index.window_rows(
            args.look_back,
            offset=offset,
            end=end,
            targets=target_columns,
            missing="drop" if drop else "keep",
            observed=observed is not None and bool(drop),
            **size,
        )
        return named.iloc[:: args.horizon].reset_index(drop=True)

    where = kept()
    print(
        f"file: {path.name}, {rows} rows"
        + (f" ({dropped} exact duplicates dropped)" * bool(dropped))
    )
    if ignored:
        print(f"ignored non-numeric columns: {', '.join(map(str, ignored))}")
        for column in ignored:
            hint = _decimal_hint(frame[column], args)
            if hint:
                print(f"note: column {column!r} looks numeric{hint}", file=sys.stderr)
        if args.id is None and args.time is None:
            print(
                "note: without --id and --time the whole file is one series, in file row "
                "order; if those columns name entities or times, pass --id and --time",
                file=sys.stderr,
            )
    if note:
        print(note)
    if args.time is not None and getattr(index, "summary", None) is not None:
        with pd.option_context("display.width", 200, "display.max_columns", 30):
            print(index.report().to_string())
    by = f" (one per {args.id!r})" if args.id else ""
    grid = f" on one time grid (--freq {args.freq})" if args.freq else ""
    print(f"entities: {entities}{by}, {steps} steps each{grid}; features: {', '.join(features)}")
    if drop:
        full = entities * window_count(steps, args.look_back, **size)
        counts = where[index.id].value_counts(sort=False)
        print(
            f"windows: {len(x)} in all, never across two entities; {full - len(x)} of "
            f"{full} dropped (a missing input or target step"
            + (", or a filled target" if observed is not None else "")
            + "); per entity: "
            + ", ".join(f"{_plain(i)} {counts.get(i, 0)}" for i in index.ids)
        )
    else:
        per_entity = window_count(steps, args.look_back, **size)
        print(f"windows: {per_entity} per entity, {len(x)} in all, never across two entities")
    print(f"x: {x.shape}  (samples, steps=look_back, features)")
    shape = "(samples, targets)" if args.horizon == 1 else "(samples, horizon, targets)"
    print(f"y: {y.shape}  {shape}, targets: {', '.join(targets)}")
    cut = int(steps * args.train)
    if args.look_back + args.horizon <= cut and steps - cut >= args.horizon:
        if drop:
            train, test = len(kept(end=cut)), len(kept(offset=cut - args.look_back))
        else:
            train = entities * window_count(cut, args.look_back, **size)
            test = entities * window_count(steps - cut + args.look_back, args.look_back, **size)
        print(
            f"split --train {args.train}: steps 0-{cut - 1} train ({_count(train, 'window')}), "
            f"steps {cut}-{steps - 1} test ({_count(test, 'window')}; their look-back starts "
            f"{_count(args.look_back, 'step')} into the train part, no test target is a "
            "train step)"
        )
    ids = where[index.id].to_numpy()
    for e in range(min(args.show, entities)):
        found = np.flatnonzero(ids == index.ids[e])
        if not len(found):
            continue
        i = int(found[0])
        xi = x[i, :, 0] if x.shape[-1] == 1 else x[i]
        text = np.array2string(xi, precision=4, suppress_small=True, threshold=12, edgeitems=2)
        target = np.array2string(y[i].squeeze(), precision=4, suppress_small=True)
        name = f"{_plain(index.ids[e])}: " if args.id else ""
        first = "first kept window" if drop else "window 0"
        print(
            f"{name}{first}: x={' '.join(text.split())} -> y={target}"
            f"  (target at {index.time}={where[index.time].iloc[i]})"
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
        "A real export (offsets, gaps, sentinels, a 30-minute tank):\n"
        "  klp windows data/tank_export.csv --id tank_id --time timestamp --freq h "
        "--na-values -999 --fill interpolate --limit 3 --look-back 24",
    )
    p.add_argument("file")
    p.add_argument("--look-back", type=_positive, required=True, help="steps per window")
    p.add_argument("--horizon", type=_positive, default=1, help="steps each target holds")
    p.add_argument("--stride", type=_positive, default=1, help="steps between window starts")
    p.add_argument("--id", help="column naming the entity (tank); windows stay inside one")
    p.add_argument("--time", help="column ordering the steps (datetimes or numbers)")
    p.add_argument(
        "--time-format",
        help="parse --time text with this format, e.g. %%d/%%m/%%Y (ISO 8601 text is read "
        "without it; stamps with UTC offsets become UTC)",
    )
    p.add_argument(
        "--sep", type=_separator, default=",", help="column separator: ';' or tab (default ,)"
    )
    p.add_argument(
        "--decimal", type=_decimal, default=".", help="decimal mark: ',' for 3,5 (default .)"
    )
    p.add_argument(
        "--na-values",
        action="append",
        help="values that mean missing, e.g. -999; repeat it or give a list "
        "(--na-values=-999,NA); empty cells always are",
    )
    p.add_argument(
        "--freq",
        help="put every entity on one time grid: a pandas offset alias (h, 30min, D, or MS "
        "for calendar months)",
    )
    p.add_argument("--agg", help="with --freq: how readings in one step combine (default mean)")
    p.add_argument("--fill", choices=("ffill", "interpolate"), help="with --freq: fill short gaps")
    p.add_argument(
        "--limit", type=_positive, help="with --fill: longest run of missing steps filled"
    )
    p.add_argument("--features", help="columns of one step, e.g. pressure,temperature")
    p.add_argument("--column", help="one column (same as --features with one name)")
    p.add_argument("--target", help="columns the model predicts (default: the features)")
    p.add_argument(
        "--missing",
        choices=("raise", "drop"),
        default="raise",
        help="a missing step: refuse (default), or drop the windows that touch it",
    )
    p.add_argument("--drop-duplicates", action="store_true", help="drop rows that repeat exactly")
    p.add_argument(
        "--clean-ids",
        action="store_true",
        help="strip spaces around --id values and upper-case them (' t-01' is T-01)",
    )
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

    Usage errors are ours (``UsageError``; among them a file the command line named that
    the system will not read or write) and the package's refusals (``ArgumentError``,
    which carries the argument's name, rule and value). Any other exception, an
    ``OSError`` about another file included, is a bug and keeps its traceback.

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
        if args.command in ("explain", "diagram"):
            _check_target(args.pattern)  # a mistyped name answers before Keras starts
        if args.command not in NO_KERAS:
            _quiet_keras()
        return int(args.func(args) or 0)
    except (UsageError, ArgumentError) as err:
        print(f"klp {args.command}: error: {_one_line(err)}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
