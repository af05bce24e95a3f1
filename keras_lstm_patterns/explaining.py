"""Explain a model's shapes, layer by layer, with the axes named.

``explain`` answers the questions people ask about recurrent layers: which number is the
steps, which the features, which the units, and what ``return_sequences`` kept.

Importing this module is cheap (no Keras, no numpy): :data:`PATTERNS` declares each
pattern, its sizes and its factory, and Keras is imported when a model is built or read.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import keras

__all__ = [
    "PATTERNS",
    "Pattern",
    "build_pattern",
    "explain",
    "flat_layers",
    "is_recurrent",
    "layer_rows",
    "pattern_of",
    "recurrent_layers",
    "require_built",
]


@dataclass(frozen=True)
class Pattern:
    """One named pattern: how to build it, its shapes, the sizes it takes, and what
    drives it.

    ``summary`` is formatted with ``steps`` (and ``history`` for ``forecast``); ``sizes``
    lists the keyword arguments ``build`` takes, in the order the help shows them.
    """

    name: str
    factory: str
    shapes: str
    summary: str
    build: Callable[..., Any]
    defaults: dict[str, Any] = field(default_factory=dict)
    drive: str | None = None
    sizes: tuple[str, ...] = ()


def _many_to_one(steps: Any, features: Any, units: Any, outputs: Any = None, cell: Any = "lstm"):
    from ._patterns import many_to_one

    return many_to_one(steps, features, units, outputs=outputs, cell=cell)


def _many_to_many(steps: Any, features: Any, units: Any, outputs: Any = None, cell: Any = "lstm"):
    from ._patterns import many_to_many

    return many_to_many(steps, features, units, outputs=outputs, cell=cell)


def _one_to_many(steps: Any, features: Any, units: Any, outputs: Any = None, cell: Any = "lstm"):
    from ._patterns import one_to_many

    return one_to_many(features, steps, units, outputs=outputs, cell=cell)


def _generator(
    steps: Any,
    features: Any,
    units: Any = (),
    batch_size: Any = 1,
    cell: Any = "lstm",
    history: Any = None,
):
    # the model has a free steps axis: steps (and history) only say how far it is driven
    from ._patterns import stateful_generator

    return stateful_generator(features, batch_size=batch_size, units=units, cell=cell)


def _seq2seq(
    steps: Any,
    features: Any,
    latent: Any = 4,
    encoder_units: Any = (),
    decoder_units: Any = (),
    cell: Any = "lstm",
):
    from ._patterns import seq2seq_autoencoder

    return seq2seq_autoencoder(
        steps=steps,
        features=features,
        latent=latent,
        encoder_units=encoder_units,
        decoder_units=decoder_units,
        cell=cell,
    ).autoencoder


def _next_token(
    steps: Any, vocab_size: Any, units: Any = (16,), embedding_dim: Any = 8, cell: Any = "gru"
):
    from ._patterns import next_token_model

    return next_token_model(
        vocab_size, units=units, embedding_dim=embedding_dim, cell=cell, steps=steps
    )


_SEQUENCE_SIZES = ("steps", "features", "units", "outputs", "cell")
_GENERATOR_SIZES = ("steps", "features", "units", "batch_size", "cell")

PATTERNS: dict[str, Pattern] = {
    pat.name: pat
    for pat in [
        Pattern(
            "many_to_one",
            "many_to_one(steps, features, units)",
            "(batch, steps, features) -> (batch, units or outputs)",
            "{steps} steps in, one vector out (return_sequences=False)",
            _many_to_one,
            {"steps": 5, "features": 2, "units": 8, "outputs": 1},
            sizes=_SEQUENCE_SIZES,
        ),
        Pattern(
            "many_to_many",
            "many_to_many(steps, features, units)",
            "(batch, steps, features) -> (batch, steps, units or outputs)",
            "{steps} steps in, {steps} steps out (return_sequences=True)",
            _many_to_many,
            {"steps": 5, "features": 2, "units": 8, "outputs": 1},
            sizes=_SEQUENCE_SIZES,
        ),
        Pattern(
            "one_to_many",
            "one_to_many(features, steps, units)",
            "(batch, features) -> (batch, steps, units or outputs)",
            "one vector in, repeated to {steps} steps (RepeatVector), {steps} steps out",
            _one_to_many,
            {"steps": 5, "features": 2, "units": 8, "outputs": 1},
            sizes=_SEQUENCE_SIZES,
        ),
        Pattern(
            "generate",
            "stateful_generator(features) + stateful.generate",
            "(batch, 1, features) -> (batch, steps, features)",
            "one step in, {steps} new steps out, each but the last fed back as the next "
            "input (stateful one-to-many)",
            _generator,
            {"steps": 5, "features": 2, "units": (), "batch_size": 1},
            drive="generate",
            sizes=_GENERATOR_SIZES,
        ),
        Pattern(
            "forecast",
            "stateful_generator(features) + stateful.forecast",
            "(batch, history, features) -> (batch, steps, features)",
            "{history} known steps warm the state up, then {steps} new steps come out, "
            "each but the last fed back as the next input (stateful many-to-many)",
            _generator,
            {"steps": 3, "history": 3, "features": 2, "units": (), "batch_size": 1},
            drive="forecast",
            sizes=("steps", "history", "features", "units", "batch_size", "cell"),
        ),
        Pattern(
            "seq2seq_autoencoder",
            "seq2seq_autoencoder(steps, features, latent=...)",
            "(batch, steps, features) -> (batch, latent) -> (batch, steps, features)",
            "{steps} steps in, squeezed into one latent vector, {steps} steps rebuilt",
            _seq2seq,
            {"steps": 5, "features": 2, "latent": 4},
            sizes=("steps", "features", "latent", "encoder_units", "decoder_units", "cell"),
        ),
        Pattern(
            "next_token",
            "next_token_model(vocab_size)",
            "(batch, steps) tokens -> (batch, steps, vocab_size)",
            "{steps} tokens in, a next-token distribution at every step "
            "(TimeDistributed softmax head)",
            _next_token,
            {"steps": 5, "vocab_size": 30, "units": 16, "embedding_dim": 8},
            sizes=("steps", "vocab_size", "units", "embedding_dim", "cell"),
        ),
    ]
}


def build_pattern(name: str, **sizes: Any) -> tuple[Pattern, keras.Model, dict[str, Any]]:
    """Build the named pattern with ``sizes`` over its defaults; sizes of None are ignored.

    A size the pattern does not take is refused by its own name:
    "`units` must be a size pattern 'seq2seq_autoencoder' takes (steps, features, latent,
    encoder_units, decoder_units, cell). Received: units=4".
    """
    from ._checks import check_choice, check_optional_int, fail

    check_choice("pattern", name, tuple(PATTERNS))
    pat = PATTERNS[name]
    given = {k: v for k, v in sizes.items() if v is not None}
    for key, value in given.items():
        if key not in pat.sizes:
            fail(key, f"a size pattern {name!r} takes ({', '.join(pat.sizes)})", value)
    args = dict(pat.defaults)
    args.update(given)
    # every pattern is drawn and described for ``steps``, even those whose model has a
    # free steps axis (generate, forecast): check it here, not only in the factories
    check_optional_int("steps", args.get("steps"))
    check_optional_int("history", args.get("history"))
    model = pat.build(**args)
    return pat, model, args


def require_built(model: keras.Model) -> keras.Model:
    """Refuse a model whose shapes are not known yet (a Sequential without an ``Input``,
    a subclassed model): there is nothing to read the axes from."""
    from ._checks import fail

    try:
        shapes = (model.input_shape, model.output_shape)
    except (AttributeError, ValueError):
        shapes = None
    if shapes is None:
        fail(
            "model",
            "a functional or Sequential model with a defined input shape (start it with "
            "keras.Input(shape=...), or call model.build(input_shape) first)",
            model.name,
            shown=f"model {model.name!r} of type {type(model).__name__} with no input shape",
        )
    return model


def is_recurrent(layer: keras.layers.Layer) -> bool:
    """A recurrent layer: any ``keras.layers.RNN`` (LSTM, GRU, SimpleRNN...) or a
    ``Bidirectional`` wrapper around one."""
    import keras

    return isinstance(layer, keras.layers.RNN | keras.layers.Bidirectional)


def recurrent_layers(model: keras.Model) -> list[keras.layers.Layer]:
    return [layer for layer in flat_layers(model) if is_recurrent(layer)]


def flat_layers(model: keras.Model, *, top: bool = True) -> list[keras.layers.Layer]:
    """The model's layers in order, nested models opened (only the outer input layers)."""
    import keras

    out: list[keras.layers.Layer] = []
    for layer in model.layers:
        if isinstance(layer, keras.Model):
            out.extend(flat_layers(layer, top=False))
        elif top or not isinstance(layer, keras.layers.InputLayer):
            out.append(layer)
    return out


def _plain(layer: keras.layers.Layer) -> bool:
    """A layer the patterns are made of (and the pictures know how to draw)."""
    import keras

    kinds = (
        keras.layers.InputLayer,
        keras.layers.Masking,
        keras.layers.Dropout,
        keras.layers.LSTM,
        keras.layers.GRU,
        keras.layers.SimpleRNN,
        keras.layers.Dense,
        keras.layers.RepeatVector,
        keras.layers.Embedding,
    )
    if isinstance(layer, keras.layers.TimeDistributed):
        return isinstance(layer.layer, keras.layers.Dense)
    return isinstance(layer, kinds)


def pattern_of(model: keras.Model) -> str | None:
    """Which pattern a model follows, read from its layers and flags.

    Returns:
        A name from :data:`PATTERNS`, or ``None`` for a model with recurrent layers
        that is not one of them (a ``Bidirectional`` or ``Conv1D`` layer, several inputs
        or outputs, a merge...).

    Raises:
        ValueError: the model has no recurrent layer.
    """

    from ._checks import fail

    layers = flat_layers(model)
    rnns = [la for la in layers if is_recurrent(la)]
    if not rnns:
        kinds = ", ".join(type(la).__name__ for la in layers) or "none"
        fail(
            "model",
            "a model with a recurrent layer (LSTM, GRU, SimpleRNN, Bidirectional or another "
            "keras.layers.RNN)",
            shown=f"model {model.name!r} with layers {kinds}",
        )
    if len(model.inputs) != 1 or len(model.outputs) != 1 or not all(map(_plain, layers)):
        return None
    kinds = {type(la).__name__ for la in layers}
    if "Embedding" in kinds:
        return "next_token"
    if "RepeatVector" in kinds:
        has_encoder = any(not la.return_sequences for la in rnns)
        return "seq2seq_autoencoder" if has_encoder else "one_to_many"
    if not rnns[-1].return_sequences:
        return "many_to_one"
    if rnns[0].stateful and model.output_shape[-1] == model.input_shape[-1]:
        return "generate"
    return "many_to_many"


def _units_of(layer: keras.layers.Layer) -> str:
    import keras

    if isinstance(layer, keras.layers.Bidirectional):
        return f"{_units_of(layer.forward_layer)} per direction"
    units = getattr(layer, "units", None) or getattr(getattr(layer, "cell", None), "units", None)
    return "?" if units is None else str(units)


def _role(layer: keras.layers.Layer) -> str:
    import keras

    if isinstance(layer, keras.layers.InputLayer):
        return "input"
    if is_recurrent(layer):
        inner = layer.forward_layer if isinstance(layer, keras.layers.Bidirectional) else layer
        flags = ["return_sequences" if inner.return_sequences else "last step only"]
        if inner.stateful:
            flags.append("stateful")
        if inner is not layer:
            flags.insert(0, "bidirectional")
        return "recurrent, " + ", ".join(flags)
    if isinstance(layer, keras.layers.RepeatVector):
        return "RepeatVector"
    if isinstance(layer, keras.layers.TimeDistributed | keras.layers.Dense):
        return "head"
    return type(layer).__name__


def _named(shape: tuple, last: str, *, tokens: bool = False) -> str:
    """``(None, 5, 8)`` with the last axis called ``last`` -> ``(batch, steps=5, units=8)``."""
    shape = tuple(shape)
    if tokens and len(shape) == 2:
        names = ["batch", "steps"]
    elif len(shape) == 2:
        names = ["batch", last]
    elif len(shape) <= 3:
        names = ["batch", "steps", last][-len(shape) :]
    else:
        names = ["batch", *(f"axis{i}" for i in range(1, len(shape)))]
    parts = [n if s is None else f"{n}={s}" for n, s in zip(names, shape)]
    return "(" + ", ".join(parts) + ")"


def _last_axis(layer: keras.layers.Layer, previous: str) -> str:
    """What the last axis of a layer's output means."""
    import keras

    if isinstance(layer, keras.layers.RNN):
        if layer.name.startswith("encoder_") and not layer.return_sequences:
            return "latent"
        return "features" if layer.name.endswith("_out") else "units"
    if isinstance(layer, keras.layers.Bidirectional):
        return "units"
    if isinstance(layer, keras.layers.Embedding):
        return "embedding"
    if isinstance(layer, keras.layers.TimeDistributed | keras.layers.Dense):
        return "features" if layer.name.endswith("head") and layer.name != "head" else "outputs"
    if isinstance(layer, keras.layers.Conv1D):
        return "filters"
    if isinstance(layer, keras.layers.RepeatVector | keras.layers.Masking | keras.layers.Dropout):
        return previous  # they keep the meaning of the last axis
    ins, outs = _shapes(layer)
    if ins and outs and len(ins[0]) == len(outs[0]) and ins[0][-1:] == outs[0][-1:]:
        return previous  # another layer that keeps the last axis
    return "features"


def _shapes(layer: keras.layers.Layer) -> tuple[list[tuple], list[tuple]]:
    """The shapes of a layer's inputs and outputs (empty when the layer was called more
    than once, so that it has no single input)."""

    def listed(tensors: Any) -> list[tuple]:
        items = tensors if isinstance(tensors, list | tuple) else [tensors]
        return [tuple(t.shape) for t in items]

    try:
        return listed(layer.input), listed(layer.output)
    except (AttributeError, ValueError):
        return [], []


def layer_rows(model: keras.Model) -> list[tuple[str, str, str, str, int]]:
    """``(name, role, input shape, output shape, params)`` for every layer, axes named."""
    import keras

    rows = []
    last = "features"
    for layer in flat_layers(model):
        if isinstance(layer, keras.layers.InputLayer):
            tokens = "int" in str(layer.dtype)
            text = _named(tuple(layer.batch_shape), last, tokens=tokens)
            rows.append((layer.name, "input", "", text, 0))
            continue
        out_last = _last_axis(layer, last)
        tokens = isinstance(layer, keras.layers.Embedding)
        ins, outs = _shapes(layer)
        ins_text = " + ".join(_named(s, last, tokens=tokens) for s in ins) or "?"
        outs_text = " + ".join(_named(s, out_last) for s in outs) or "?"
        rows.append((layer.name, _role(layer), ins_text, outs_text, int(layer.count_params())))
        last = out_last
    return rows


def explain(model_or_pattern: keras.Model | str, **sizes: Any) -> str:
    """A table of a model's layers with named shapes, and the rules people get wrong.

    Args:
        model_or_pattern: a Keras model with a recurrent layer (one of the patterns or
            any other), or a pattern name from :data:`PATTERNS` (``"many_to_one"``,
            ``"many_to_many"``, ``"one_to_many"``, ``"generate"``, ``"forecast"``,
            ``"seq2seq_autoencoder"``, ``"next_token"``).
        **sizes: with a pattern name, the sizes that pattern takes
            (``PATTERNS[name].sizes``: ``steps``, ``features``, ``units``, ``outputs``,
            ``latent``, ``vocab_size``, ``batch_size``, ``cell``...).

    Returns:
        The text: a first line naming the pattern (or saying the model is none of
        them), one row per layer (layer, role, input and output shapes with axis names,
        parameter count), then the rules, written with the model's own sizes.

    Raises:
        ValueError: an unknown pattern, sizes it does not take or out of range (``steps``
            below 1...), a model with no input shape yet or no recurrent layer.

    >>> print(explain("many_to_one", steps=5, features=2, units=8).splitlines()[0])
    many-to-one: 5 steps in, one vector out (return_sequences=False)
    """
    import keras

    from ._checks import fail

    history = None
    if isinstance(model_or_pattern, str):
        pat, model, args = build_pattern(model_or_pattern, **sizes)
        name: str | None = pat.name
        steps, history = args.get("steps"), args.get("history")
    elif isinstance(model_or_pattern, keras.Model):
        model = require_built(model_or_pattern)
        name = pattern_of(model)
        shape = model.inputs[0].shape
        steps = shape[1] if len(shape) == 3 or name == "next_token" else sizes.get("steps")
        if name in ("one_to_many", "seq2seq_autoencoder"):
            steps = model.output_shape[1]
    else:
        fail(
            "model_or_pattern",
            "a keras.Model or a pattern name",
            None,
            shown=f"model_or_pattern of type {type(model_or_pattern).__name__}",
        )
    steps_text = "any number of" if steps is None else str(steps)
    if name is None:
        head = (
            f"{model.name}: a recurrent model that is not one of the patterns "
            "(its layers as they are)"
        )
    else:
        summary = PATTERNS[name].summary.format(steps=steps_text, history=history)
        head = name.replace("_", "-") + ": " + summary
    rows = [("layer", "role", "input shape", "output shape", "params")]
    rows += [(n, r, i, o, f"{c:,}") for n, r, i, o, c in layer_rows(model)]
    widths = [max(len(str(r[k])) for r in rows) for k in range(5)]
    lines = [head, ""]
    for k, row in enumerate(rows):
        cells = [
            str(c).ljust(w) if j < 4 else str(c).rjust(w)
            for j, (c, w) in enumerate(zip(row, widths))
        ]
        lines.append("  ".join(cells).rstrip())
        if k == 0:
            lines.append("  ".join("-" * w for w in widths))
    lines.append(f"total params: {model.count_params():,}")
    lines += ["", *_rules(model, name, steps)]
    return "\n".join(lines)


def _rules(model: keras.Model, name: str | None, steps: Any) -> list[str]:
    """The rules, each written with this model's own sizes."""
    import keras

    rnns = recurrent_layers(model)
    inner = [r.forward_layer if isinstance(r, keras.layers.Bidirectional) else r for r in rnns]
    units = ", ".join(_units_of(r) for r in rnns)
    in_shape = tuple(model.inputs[0].shape)
    tokens = "int" in str(model.inputs[0].dtype)
    feat = in_shape[-1] if len(in_shape) >= 2 and not tokens else None
    out = [
        f"- steps ({'any' if steps is None else steps}) is how far the layers unroll: one input "
        "box and one cell application per step, the same cell and weights at every step.",
    ]
    if feat is not None:
        out.append(f"- features ({feat}) is the width of one step's input vector.")
    first = rnns[0]
    weights = int(first.count_params())
    reads = "any number of steps" if steps is None else f"{steps} or {100 * steps} steps"
    out.append(
        f"- units ({units}) is the width of each recurrent layer's state and output; it is "
        f"independent of steps ({first.name}, {_units_of(first)} units, reads {reads} with "
        f"the same {weights:,} weights)."
    )
    if any(r.return_sequences for r in inner):
        out.append(
            "- return_sequences=True keeps one output per step; a Dense on that 3-D output is "
            "applied per step (identical to TimeDistributed(Dense))."
        )
    if any(not r.return_sequences for r in inner):
        out.append("- return_sequences=False keeps only the last step's output.")
    if any(r.stateful for r in inner):
        out.append(
            f"- stateful: batch size fixed at {in_shape[0]}; row i of each batch continues row i "
            "of the previous batch; never shuffle; reset with stateful.reset_states(model)."
        )
    if name is None:
        out.append(
            "- not one of the patterns: `klp diagram` draws the unrolled picture only for "
            "the patterns (see `klp patterns`)."
        )
    return out
