"""Unrolled pictures of recurrent models, drawn from the model's own shapes and flags.

One column per step, one input box per step, one cell box per step and recurrent layer
with the state arrow running across, output boxes only where a layer returns them,
``RepeatVector`` as one vector entering every step, a stateful layer's state leaving
the right edge for the next batch, the feedback arrow of ``generate``/``forecast``, and
the per-step head. Every box and arrow carries a ``gid`` (``box:cell``,
``arrow:state``, ``mark:shared``...), and :class:`Drawing` counts them from the figure
itself. Each recurrent row is framed as what it is: one cell, its weights shared by every
step.
"""

from __future__ import annotations

import itertools
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import keras

from ._checks import check_choice, check_int, fail
from ._files import atomic_write
from ._model import flat_layers, is_recurrent
from ._paths import check_file_path
from ._patterns import PATTERNS, Pattern
from .explaining import _check_length, build_pattern, pattern_of, require_built

__all__ = ["MAX_COLUMNS", "Drawing", "diagram", "diagram_batches"]

GAP = 1.5  # distance between two columns
MAX_COLUMNS = 6  # beyond this, steps 1..4, an ellipsis and the last step are drawn
COLORS = {
    "input": "#dbe9f6",
    "cell": "#b7e1a1",
    "output": "#f7c6c5",
    "head": "#fde9b4",
    "repeat": "#e0d4f5",
    "embedding": "#d7eef0",
    "warmup": "#eeeeee",
}


@dataclass
class Drawing:
    """What was drawn: the file, the step numbers of the columns, and the counts of
    boxes, arrows and marks (``shared``: a frame around one recurrent row; ``reset``: a
    state reset) by kind, read back from the figure's artists.

    :func:`diagram` and :func:`diagram_batches` return one; each argument below is kept
    as the attribute of the same name. The counts are ``collections.Counter`` objects,
    so a kind that was not drawn counts 0.

    Args:
        path: the picture file written.
        columns: the step number of each drawn column, ``None`` for the ellipsis
            column (more than ``MAX_COLUMNS`` steps: 1 to 4, ``None``, the last).
        boxes: boxes by kind (``input``, ``cell``, ``output``, ``head``, ``repeat``,
            ``embedding``, ``warmup``).
        arrows: arrows by kind (``state``, ``up``, ``repeat``, ``feedback``,
            ``stateful``).
        title: the picture's title.
        marks: marks by kind (``shared``, ``reset``).

    Raises:
        Nothing of its own: a plain dataclass that checks none of its arguments.

    >>> from collections import Counter
    >>> drawing = Drawing(Path("m.svg"), [1, 2, 3], boxes=Counter(cell=3, output=1))
    >>> drawing.boxes["cell"], drawing.arrows["state"], drawing.columns
    (3, 0, [1, 2, 3])
    """

    path: Path
    columns: list[int | None]
    boxes: Counter = field(default_factory=Counter)
    arrows: Counter = field(default_factory=Counter)
    title: str = ""
    marks: Counter = field(default_factory=Counter)


def _columns(steps: int) -> list[int | None]:
    if steps <= MAX_COLUMNS:
        return list(range(1, steps + 1))
    return [1, 2, 3, 4, None, steps]


class _Canvas:
    """Boxes and arrows on a grid: x is the column, y the row."""

    def __init__(self, ax: Any) -> None:
        self.ax = ax

    def box(
        self, x: float, y: float, text: str, kind: str, width: float = 0.9
    ) -> tuple[float, float]:
        from matplotlib.patches import FancyBboxPatch

        faint = kind == "warmup"
        patch = FancyBboxPatch(
            (x - width / 2, y - 0.28),
            width,
            0.56,
            boxstyle="round,pad=0.02,rounding_size=0.08",
            facecolor=COLORS[kind],
            edgecolor="#999999" if faint else "#333333",
            linewidth=1.0,
            linestyle="--" if faint else "-",
            gid=f"box:{kind}",
        )
        self.ax.add_patch(patch)
        color = "#777777" if faint else "black"
        self.ax.text(x, y, text, ha="center", va="center", fontsize=7.5, color=color)
        return (x, y)

    def frame(self, x0: float, x1: float, y: float) -> None:
        """A dashed frame around one row of cells: one cell, shared by every step."""
        from matplotlib.patches import FancyBboxPatch

        patch = FancyBboxPatch(
            (x0 - 0.58, y - 0.38),
            x1 - x0 + 1.16,
            0.76,
            boxstyle="round,pad=0.0,rounding_size=0.12",
            facecolor="none",
            edgecolor="#2c7a2c",
            linewidth=0.9,
            linestyle=(0, (4, 2)),
            gid="mark:shared",
        )
        self.ax.add_patch(patch)

    def reset(self, x: float, y0: float, y1: float, text: str) -> None:
        """A state reset: a red bar across the rows, labelled."""
        from matplotlib.patches import Rectangle

        bar = Rectangle(
            (x - 0.06, y0), 0.12, y1 - y0, facecolor="#c0392b", edgecolor="none", gid="mark:reset"
        )
        self.ax.add_patch(bar)
        self.ax.text(x, y0 - 0.12, text, ha="center", va="top", fontsize=6.5, color="#c0392b")

    def arrow(self, a: tuple[float, float], b: tuple[float, float], kind: str, **kw: Any) -> None:
        from matplotlib.patches import FancyArrowPatch

        style = {
            "state": dict(color="#2c7a2c", lw=1.6),
            "up": dict(color="#555555", lw=1.0),
            "repeat": dict(color="#7a5cc2", lw=1.0),
            "feedback": dict(color="#c0392b", lw=1.3, ls="--", connectionstyle="arc3,rad=0.15"),
            "stateful": dict(color="#2c7a2c", lw=1.6, ls="--"),
        }[kind]
        style.update(kw)
        dy_a = 0.0 if kind in ("state", "stateful") else 0.3
        start = (a[0] + (0.47 if kind in ("state", "stateful") else 0), a[1] + dy_a)
        end = (b[0] - (0.47 if kind in ("state", "stateful") else 0), b[1] - dy_a)
        if kind == "feedback":  # down through the gap between two columns
            start, end = (a[0] + 0.45, a[1] - 0.2), (b[0] - 0.45, b[1] + 0.2)
        patch = FancyArrowPatch(
            start, end, arrowstyle="-|>", mutation_scale=9, gid=f"arrow:{kind}", **style
        )
        self.ax.add_patch(patch)

    def ellipsis(self, x: float, y: float) -> None:
        self.ax.text(x, y, "...", ha="center", va="center", fontsize=11, gid="ellipsis")

    def label(self, y: float, text: str) -> None:
        self.ax.text(-0.7, y, text, ha="right", va="center", fontsize=7.5, color="#333333")


def _resolve(
    model_or_pattern: Any, sizes: dict[str, Any], drive: str | None
) -> tuple[Pattern, keras.Model, int]:
    """The pattern the model follows, the model and the steps drawn: ``horizon`` for a
    pattern driven by feeding its outputs back (generate, forecast) and for a model with
    ``drive``, else ``steps``."""
    if isinstance(model_or_pattern, str):
        pat, model, args = build_pattern(model_or_pattern, **sizes)
        sizes["history"] = args.get("history")
        return pat, model, int(args.get(pat.length) or 5)
    if isinstance(model_or_pattern, keras.Model):
        name = pattern_of(require_built(model_or_pattern))
        if name is None:
            fail(
                "model_or_pattern",
                "one of the patterns to be drawn unrolled (explain(model) shows the layers "
                "of any model)",
                shown=f"model {model_or_pattern.name!r}, which is not one of them",
            )
        pat = PATTERNS[name]
        # a generator, or a model driven as one, counts its new steps in `horizon`
        driven = PATTERNS[drive] if drive is not None else pat
        length = _check_length(driven if driven.length == "horizon" else None, sizes)
        if length == "steps" and sizes.get("horizon") is not None:
            fail(
                "horizon",
                "given only for a generator or with `drive='generate'` or `'forecast'` "
                "(the new steps of a model driven by feeding its outputs back); a "
                "model's free steps axis is set with `steps`",
                sizes["horizon"],
            )
        # the steps drawn: the output's when one vector is repeated to each, else the input's
        repeated = pat.steps_from == "output"
        shape = model_or_pattern.output_shape if repeated else model_or_pattern.input_shape
        steps = shape[1] if len(shape) >= 3 or (repeated and len(shape) >= 2) else None
        if not isinstance(steps, int):
            steps = sizes.get(length)
            steps = 5 if steps is None else steps
        return pat, model_or_pattern, check_int(length, steps)
    fail(
        "model_or_pattern",
        "a keras.Model or a pattern name (" + ", ".join(PATTERNS) + ")",
        shown=f"model_or_pattern of type {type(model_or_pattern).__name__}",
    )


def _shape_text(shape: tuple) -> str:
    """A shape without its batch axis, a free steps axis written ``T``."""
    return "(" + ", ".join("T" if d is None else str(d) for d in shape[1:]) + ")"


def _finish(fig: Any, ax: Any, path: Path, columns: list[int | None], title: str) -> Drawing:
    import matplotlib.pyplot as plt

    ax.set_title(title, fontsize=9, loc="left")
    ax.set_aspect("equal")
    ax.axis("off")
    ax.autoscale_view()
    drawing = Drawing(path=path, columns=columns, title=title)
    for patch in ax.patches:
        gid = patch.get_gid() or ""
        kind, _, name = gid.partition(":")
        if kind == "box":
            drawing.boxes[name] += 1
        elif kind == "arrow":
            drawing.arrows[name] += 1
        elif kind == "mark":
            drawing.marks[name] += 1
    fmt = path.suffix.lower()[1:]
    metadata = {"Date": None} if fmt == "svg" else {"Software": None}
    path.parent.mkdir(parents=True, exist_ok=True)

    def write(f: Any) -> None:
        fig.savefig(f, format=fmt, dpi=120, bbox_inches="tight", metadata=metadata)

    try:
        with plt.rc_context({"svg.hashsalt": "keras_lstm_patterns", "svg.fonttype": "path"}):
            atomic_write(path, write)
    finally:
        plt.close(fig)
    return drawing


def _picture_path(path: Any) -> Path:
    """A ``.png``/``.svg`` file name (any case) whose folder exists or can be made."""
    path = check_file_path(path, suffixes=(".png", ".svg"))
    if path.is_dir():
        fail("path", "a file name, not a folder", str(path))
    for parent in path.parents:
        if parent.exists():
            if not parent.is_dir():
                fail(
                    "path",
                    "in a folder",
                    str(path),
                    shown=f"path={str(path)!r}, where {str(parent)!r} is a file",
                )
            break
    return path


@dataclass
class _Unrolled:
    """One unrolled picture being drawn: the canvas, the columns and what they show.

    ``history`` is the number of known steps of a forecast (1 otherwise); ``warmup``
    marks a forecast (known steps first, then the new ones); ``feedback`` a pattern whose
    outputs are fed back as inputs. ``y`` is the row being drawn.
    """

    cv: _Canvas
    cols: list[int | None]
    xs: list[float]
    history: int
    warmup: bool
    feedback: bool
    y: float = 0.0

    def row(self, text: Any, kind: Any, below: Any, arrow: str = "up") -> list:
        """One box per drawn column (an ellipsis where steps are skipped), each fed from
        the box below it, or from one box for all (``RepeatVector``); ``text`` is a
        function of the column's position and step, ``kind`` a name or such a function."""
        out: list = []
        for i, (x, c) in enumerate(zip(self.xs, self.cols)):
            if c is None:
                self.cv.ellipsis(x, self.y)
                out.append(None)
                continue
            box = self.cv.box(x, self.y, text(i, c), kind(i, c) if callable(kind) else kind)
            src = below[i] if isinstance(below, list) else below
            if src is not None:
                self.cv.arrow(src, box, arrow)
            out.append(box)
        return out


def _draw_inputs(u: _Unrolled, model: keras.Model) -> Any:
    """The input row: a box per step (``fed back`` past the history), or one vector."""
    in_shape = model.input_shape
    tokens = "int" in str(model.inputs[0].dtype)
    if len(in_shape) == 3 or tokens:

        def input_text(i: int, c: int) -> str:
            if u.feedback and c > u.history:
                return f"x{c}\nfed back"
            return f"token {c}" if tokens else f"x{c}\n{in_shape[-1]} feat."

        current: Any = u.row(input_text, "input", None)
    else:
        current = u.cv.box(u.xs[-1] / 2, u.y, f"vector\n{in_shape[-1]} feat.", "input", width=1.4)
    u.cv.label(u.y, "input " + _shape_text(in_shape))
    return current


def _draw_recurrent(u: _Unrolled, layer: keras.layers.Layer, current: Any) -> Any:
    """A recurrent row: a cell per step, the state arrow across, framed as one cell; a
    stateful layer's state leaves the right edge."""
    kind = type(layer).__name__
    cells = u.row(
        lambda i, c: f"{kind}\n{layer.units} units",
        "cell",
        current if isinstance(current, list) else None,
    )
    for left, right in itertools.pairwise(cells):
        if left is not None and right is not None:
            u.cv.arrow(left, right, "state")
    u.cv.frame(u.xs[0], u.xs[-1], u.y)
    if layer.stateful:
        last = cells[-1]
        u.cv.arrow(last, (last[0] + 1.2, last[1]), "stateful")
        u.cv.ax.text(
            last[0] + 0.95,
            u.y + 0.35,
            "state to\nnext batch",
            fontsize=6.5,
            ha="center",
            color="#2c7a2c",
        )
    flags = "return_sequences" if layer.return_sequences else "last step only"
    stateful = ", stateful" if layer.stateful else ""
    u.cv.label(
        u.y, f"{layer.name}: {flags}{stateful}\none {kind} cell, the same weights at every step"
    )
    return cells if layer.return_sequences else cells[-1]


def _draw_head(u: _Unrolled, layer: keras.layers.Layer, current: Any) -> Any:
    """A head: Dense or TimeDistributed(Dense), applied per step when the row is per step."""
    per_step = isinstance(current, list)
    inner = layer.layer if isinstance(layer, keras.layers.TimeDistributed) else layer
    text = f"Dense\n{getattr(inner, 'units', '?')}"
    if per_step:
        current = u.row(lambda i, c: text, "head", current)
    else:
        box = u.cv.box(current[0], u.y, text, "head")
        u.cv.arrow(current, box, "up")
        current = box
    u.cv.label(
        u.y,
        f"{layer.name}: {type(layer).__name__}" + (" (same Dense each step)" if per_step else ""),
    )
    return current


def _draw_layer(u: _Unrolled, layer: keras.layers.Layer, current: Any) -> Any:
    """One layer's row; returns what the next row reads (a box per column, or one box)."""
    if isinstance(layer, keras.layers.RepeatVector):
        current = u.row(lambda i, c: "same\nvector", "repeat", current, "repeat")
        u.cv.label(u.y, f"RepeatVector({layer.n})")
        return current
    if is_recurrent(layer):
        return _draw_recurrent(u, layer, current)
    if isinstance(layer, keras.layers.Embedding):
        current = u.row(lambda i, c: f"embed\n{layer.output_dim}", "embedding", current)
        u.cv.label(u.y, f"Embedding({layer.input_dim}, {layer.output_dim})")
        return current
    return _draw_head(u, layer, current)


def _draw_outputs(u: _Unrolled, model: keras.Model, current: Any) -> None:
    """The output row: per step (warm-up guesses greyed, new steps fed back), or one box."""
    width_out = model.output_shape[-1]
    if isinstance(current, list):

        def output_text(i: int, c: int) -> str:
            if u.warmup and c < u.history:
                return f"(x{c + 1})\nwarm-up"  # a guess at a known step: not used
            if u.feedback:
                return f"x{c + 1}\nnew"
            return f"y{c}\n{width_out}"

        def output_kind(i: int, c: int) -> str:
            return "warmup" if u.warmup and c < u.history else "output"

        outs = u.row(output_text, output_kind, current)
        if u.feedback:  # each new output but the last is the next step's input
            for i in range(len(u.cols) - 1):
                c, after = u.cols[i], u.cols[i + 1]
                if c is not None and after == c + 1 and c >= u.history:
                    u.cv.arrow(outs[i], (u.xs[i + 1], 0.0), "feedback")
    else:
        box = u.cv.box(current[0], u.y, f"y\n{width_out}", "output")
        u.cv.arrow(current, box, "up")
    u.cv.label(u.y, "output " + _shape_text(model.output_shape))


def _history(pat: Pattern, sizes: dict[str, Any], given: Any) -> int:
    """The known steps drawn before a forecast's new ones (3 unless given); 1 otherwise."""
    if pat.drive != "forecast":
        return 1
    return check_int("history", sizes.get("history") or given or 3)


def diagram(model_or_pattern: keras.Model | str, path: str | Path, **sizes: Any) -> Drawing:
    """Draw the unrolled picture of a model or of a named pattern.

    Args:
        model_or_pattern: a Keras model, or a pattern name (``"many_to_one"``,
            ``"many_to_many"``, ``"one_to_many"``, ``"generate"``, ``"forecast"``,
            ``"seq2seq_autoencoder"``, ``"next_token"``).
        path: a ``.png`` or ``.svg`` file (the suffix in any case); missing folders are
            made. The picture is written under a temporary name and renamed, so a
            failure leaves the old file, or none.
        **sizes: with a pattern name, its sizes (``steps``, ``features``, ``units``...;
            ``horizon``, the new steps, and ``history`` for ``generate`` and
            ``forecast``); with a model whose steps are free, ``steps`` sets how many to
            draw, and ``drive="generate"`` or ``"forecast"`` draws the feedback loop,
            its new steps set by ``horizon`` (and ``history``) instead; a generator
            model (the ``generate`` pattern) counts its new steps in ``horizon`` too.

    Returns:
        A :class:`Drawing` with the counts of boxes and arrows read from the figure.

    Raises:
        TypeError: ``path`` is not a str or ``pathlib.Path``; ``steps`` for ``generate``
            or ``forecast``, a generator model or with ``drive``, refused naming
            ``horizon``.
        ValueError: another suffix, ``path`` is a folder or lies under a file, an
            unknown pattern or ``drive``, sizes the pattern does not take, ``horizon``
            for a model that is neither a generator nor given a ``drive``.

    >>> import pathlib, tempfile
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     drawing = diagram("many_to_one", pathlib.Path(folder) / "m.svg", steps=3)
    >>> drawing.columns, drawing.boxes["cell"], drawing.boxes["output"]
    ([1, 2, 3], 3, 1)
    """
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    path = _picture_path(path)
    drive = sizes.pop("drive", None)
    if drive is not None:
        check_choice("drive", drive, ("generate", "forecast"))
    given = sizes.pop("history", None) if not isinstance(model_or_pattern, str) else None
    pat, model, length = _resolve(model_or_pattern, sizes, drive)  # steps or horizon
    if drive is not None:
        pat = PATTERNS[drive]
    history = _history(pat, sizes, given)
    warmup = pat.drive == "forecast"
    # forecast: `history` known steps, then each new step but the last is fed back
    cols = _columns(history + length - 1 if warmup else length)
    drawn = (keras.layers.InputLayer, keras.layers.Masking, keras.layers.Dropout)
    layers = [la for la in flat_layers(model) if not isinstance(la, drawn)]
    fig, ax = plt.subplots(figsize=(1.5 * len(cols) + 4.0, 0.8 * (3 + len(layers)) + 0.6))
    xs = [GAP * i for i in range(len(cols))]
    u = _Unrolled(_Canvas(ax), cols, xs, history, warmup, feedback=pat.drive is not None)
    current = _draw_inputs(u, model)
    for layer in layers:
        u.y += 1.0
        current = _draw_layer(u, layer, current)
    u.y += 1.0
    _draw_outputs(u, model, current)
    summary = pat.summary.format(steps=length, horizon=length, history=history)
    title = pat.name.replace("_", "-") + ": " + summary
    return _finish(fig, ax, path, cols, title)


def diagram_batches(sequences_shape: tuple[int, int, int], chunk: int, path: str | Path) -> Drawing:
    """The stateful batch layout: sequences as rows, time cut into BATCH 1 | BATCH 2 | ...

    Row i of each batch continues row i of the previous batch (the arrows), which is what
    ``windows.stateful_chunks`` produces and a stateful layer expects.

    Args:
        sequences_shape: ``(samples, steps, features)`` of the whole sequences.
        chunk: steps per batch.
        path: a ``.png`` or ``.svg`` file.

    Returns:
        A :class:`Drawing`; ``boxes["input"]`` counts the drawn step cells and
        ``arrows["stateful"]`` the row-continues-row arrows.

    Raises:
        TypeError: ``path`` is not a str or ``pathlib.Path``.
        ValueError: a shape that is not three positive integers, ``chunk`` out of
            ``[1, steps]``, a ``path`` refused as by :func:`diagram`.

    >>> import pathlib, tempfile
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     drawing = diagram_batches((3, 6, 2), 2, pathlib.Path(folder) / "b.png")
    >>> drawing.boxes["input"], drawing.arrows["stateful"]
    (18, 6)
    """
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt
    import numpy as np

    path = _picture_path(path)
    if not isinstance(sequences_shape, tuple | list) or len(sequences_shape) != 3:
        fail("sequences_shape", "`(samples, steps, features)`", sequences_shape)
    n, t, f = (check_int(k, v) for k, v in zip(("samples", "steps", "features"), sequences_shape))
    from .windows import stateful_chunks

    batches = stateful_chunks(
        np.empty((1, t, 1)), check_int("chunk", chunk, high=t, context=f" for {t} steps")
    )
    rows = min(n, 4)
    fig, ax = plt.subplots(figsize=(1.0 * t + 1.5 * len(batches) + 3.0, 0.7 * rows + 2.0))
    cv = _Canvas(ax)
    x0 = 0.0
    step = 1
    top, bottom = rows - 0.5, -0.5  # the rows' boxes lie between
    cv.reset(x0 - 0.75, bottom, top, "reset\n(epoch start)")
    last_cells: list[tuple[float, float]] = []
    for b, piece in enumerate(batches):
        width = piece.shape[1]
        ax.text(
            x0 + (width - 1) * 0.55,
            top + 0.2,
            f"BATCH {b + 1}",
            ha="center",
            fontsize=8,
            weight="bold",
        )
        firsts, lasts = [], []
        for r in range(rows):
            yy = rows - 1 - r
            for k in range(width):
                box = cv.box(x0 + k * 1.1, yy, f"seq {r + 1}\nt={step + k}", "input", width=0.95)
                if k == 0:
                    firsts.append(box)
                if k == width - 1:
                    lasts.append(box)
        if last_cells:
            for a, bb in zip(last_cells, firsts):
                cv.arrow(a, bb, "stateful")
        last_cells = lasts
        x0 += width * 1.1 + 1.0
        step += width
    right = x0 - 1.0 + 0.25
    cv.reset(right, bottom, top, "reset\n(next group of\nsequences, or\nnext epoch)")
    # the headers and the labels under the resets are inside the picture, under the title
    ax.update_datalim([(-1.5, bottom - 1.2), (right + 0.8, top + 0.6)])
    shown = f" (first {rows} rows shown)" if rows < n else ""
    title = (
        f"stateful batches: {n} sequences of {t} steps ({f} features), chunk={chunk}{shown}:\n"
        "row i of each batch continues row i of the previous one; "
        "reset before the first batch and after the last"
    )
    return _finish(fig, ax, path, list(range(1, t + 1)), title)
