"""Explain a model's shapes, layer by layer, with the axes named.

``explain`` answers the questions people ask about recurrent layers: which number is the
steps, which the features, which the units, and what ``return_sequences`` kept.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import keras

from . import _patterns as p
from ._checks import check_choice, check_optional_int, fail

__all__ = [
    "PATTERNS",
    "Pattern",
    "build_pattern",
    "explain",
    "layer_rows",
    "pattern_of",
    "require_built",
]


@dataclass(frozen=True)
class Pattern:
    """One named pattern: how to build it, its shapes, and what drives it."""

    name: str
    factory: str
    shapes: str
    summary: str
    build: Callable[..., Any]
    defaults: dict[str, Any] = field(default_factory=dict)
    drive: str | None = None


def _seq2seq(**kw: Any) -> keras.Model:
    return p.seq2seq_autoencoder(**kw).autoencoder


PATTERNS: dict[str, Pattern] = {
    pat.name: pat
    for pat in [
        Pattern(
            "many_to_one",
            "many_to_one(steps, features, units)",
            "(batch, steps, features) -> (batch, units or outputs)",
            "{steps} steps in, one vector out (return_sequences=False)",
            lambda steps, features, units, outputs=None, cell="lstm": p.many_to_one(
                steps, features, units, outputs=outputs, cell=cell
            ),
            {"steps": 5, "features": 2, "units": 8, "outputs": 1},
        ),
        Pattern(
            "many_to_many",
            "many_to_many(steps, features, units)",
            "(batch, steps, features) -> (batch, steps, units or outputs)",
            "{steps} steps in, {steps} steps out (return_sequences=True)",
            lambda steps, features, units, outputs=None, cell="lstm": p.many_to_many(
                steps, features, units, outputs=outputs, cell=cell
            ),
            {"steps": 5, "features": 2, "units": 8, "outputs": 1},
        ),
        Pattern(
            "one_to_many",
            "one_to_many(features, steps, units)",
            "(batch, features) -> (batch, steps, units or outputs)",
            "one vector in, repeated to {steps} steps (RepeatVector), {steps} steps out",
            lambda steps, features, units, outputs=None, cell="lstm": p.one_to_many(
                features, steps, units, outputs=outputs, cell=cell
            ),
            {"steps": 5, "features": 2, "units": 8, "outputs": 1},
        ),
        Pattern(
            "generate",
            "stateful_generator(features) + stateful.generate",
            "(batch, 1, features) -> (batch, steps, features)",
            "one step in, each output fed back as the next input for {steps} steps "
            "(stateful one-to-many)",
            lambda steps, features, units=(), batch_size=1, cell="lstm": p.stateful_generator(
                features, batch_size=batch_size, units=units, cell=cell
            ),
            {"steps": 5, "features": 2, "units": (), "batch_size": 1},
            drive="generate",
        ),
        Pattern(
            "forecast",
            "stateful_generator(features) + stateful.forecast",
            "(batch, history, features) -> (batch, steps, features)",
            "a known history warms the state up, then {steps} new steps are fed back "
            "(stateful many-to-many)",
            lambda steps, features, units=(), batch_size=1, cell="lstm": p.stateful_generator(
                features, batch_size=batch_size, units=units, cell=cell
            ),
            {"steps": 5, "features": 2, "units": (), "batch_size": 1},
            drive="forecast",
        ),
        Pattern(
            "seq2seq_autoencoder",
            "seq2seq_autoencoder(steps, features, latent=...)",
            "(batch, steps, features) -> (batch, latent) -> (batch, steps, features)",
            "{steps} steps in, squeezed into one latent vector, {steps} steps rebuilt",
            lambda steps, features, latent=4, encoder_units=(), decoder_units=(), cell="lstm": (
                _seq2seq(
                    steps=steps,
                    features=features,
                    latent=latent,
                    encoder_units=encoder_units,
                    decoder_units=decoder_units,
                    cell=cell,
                )
            ),
            {"steps": 5, "features": 2, "latent": 4},
        ),
        Pattern(
            "next_token",
            "next_token_model(vocab_size)",
            "(batch, steps) tokens -> (batch, steps, vocab_size)",
            "{steps} tokens in, a next-token distribution at every step "
            "(TimeDistributed softmax head)",
            lambda steps, vocab_size, units=(16,), embedding_dim=8, cell="gru": p.next_token_model(
                vocab_size, units=units, embedding_dim=embedding_dim, cell=cell, steps=steps
            ),
            {"steps": 5, "vocab_size": 30, "units": 16, "embedding_dim": 8},
        ),
    ]
}


def build_pattern(name: str, **sizes: Any) -> tuple[Pattern, keras.Model, dict[str, Any]]:
    """Build the named pattern with ``sizes`` over its defaults; sizes of None are ignored."""
    check_choice("pattern", name, tuple(PATTERNS))
    pat = PATTERNS[name]
    args = dict(pat.defaults)
    args.update({k: v for k, v in sizes.items() if v is not None})
    # every pattern is drawn and described for ``steps``, even those whose model has a
    # free steps axis (generate, forecast): check it here, not only in the factories
    check_optional_int("steps", args.get("steps"))
    try:
        model = pat.build(**args)
    except TypeError as err:
        if "keyword argument" not in str(err):
            raise  # a named TypeError from the factory's own checks
        fail(
            "sizes",
            f"names that pattern {name!r} takes ({', '.join(pat.defaults)}, cell)",
            sizes,
            shown=str(err).split(")", 1)[-1].strip() or repr(sizes),
        )
    return pat, model, args


def require_built(model: keras.Model) -> keras.Model:
    """Refuse a model whose shapes are not known yet (a Sequential without an ``Input``,
    a subclassed model): there is nothing to read the axes from."""
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


def recurrent_layers(model: keras.Model) -> list[keras.layers.Layer]:
    return [layer for layer in flat_layers(model) if isinstance(layer, keras.layers.RNN)]


def flat_layers(model: keras.Model, *, top: bool = True) -> list[keras.layers.Layer]:
    """The model's layers in order, nested models opened (only the outer input layers)."""
    out: list[keras.layers.Layer] = []
    for layer in model.layers:
        if isinstance(layer, keras.Model):
            out.extend(flat_layers(layer, top=False))
        elif top or not isinstance(layer, keras.layers.InputLayer):
            out.append(layer)
    return out


def pattern_of(model: keras.Model) -> str:
    """Guess which pattern a model follows from its layers and flags."""
    layers = flat_layers(model)
    rnns = [la for la in layers if isinstance(la, keras.layers.RNN)]
    kinds = {type(la).__name__ for la in layers}
    if "Embedding" in kinds:
        return "next_token"
    if "RepeatVector" in kinds:
        has_encoder = any(not la.return_sequences for la in rnns)
        return "seq2seq_autoencoder" if has_encoder else "one_to_many"
    if not rnns:
        fail("model", "a model with a recurrent layer", model.name, shown=f"model {model.name!r}")
    if not rnns[-1].return_sequences:
        return "many_to_one"
    if rnns[0].stateful and model.output_shape[-1] == model.input_shape[-1]:
        return "generate"
    return "many_to_many"


def _role(layer: keras.layers.Layer) -> str:
    if isinstance(layer, keras.layers.InputLayer):
        return "input"
    if isinstance(layer, keras.layers.RNN):
        flags = ["return_sequences" if layer.return_sequences else "last step only"]
        if layer.stateful:
            flags.append("stateful")
        return "recurrent, " + ", ".join(flags)
    if isinstance(layer, keras.layers.RepeatVector):
        return "RepeatVector"
    if isinstance(layer, (keras.layers.TimeDistributed, keras.layers.Dense)):
        return "head"
    return type(layer).__name__


def _named(shape: tuple, last: str, *, tokens: bool = False) -> str:
    """``(None, 5, 8)`` with the last axis called ``last`` -> ``(batch, steps=5, units=8)``."""
    shape = tuple(shape)
    if tokens and len(shape) == 2:
        names = ["batch", "steps"]
    else:
        names = ["batch", "steps", last][-len(shape) :] if len(shape) <= 3 else ["?"] * len(shape)
        if len(shape) == 2:
            names = ["batch", last]
    parts = [n if s is None else f"{n}={s}" for n, s in zip(names, shape)]
    return "(" + ", ".join(parts) + ")"


def _last_axis(layer: keras.layers.Layer, previous: str) -> str:
    """What the last axis of a layer's output means."""
    if isinstance(layer, keras.layers.RNN):
        if layer.name.startswith("encoder_") and not layer.return_sequences:
            return "latent"
        return "features" if layer.name.endswith("_out") else "units"
    if isinstance(layer, keras.layers.Embedding):
        return "embedding"
    if isinstance(layer, (keras.layers.TimeDistributed, keras.layers.Dense)):
        return "features" if layer.name.endswith("head") and layer.name != "head" else "outputs"
    return previous  # shape-preserving layers (Masking, RepeatVector) keep the name


def layer_rows(model: keras.Model) -> list[tuple[str, str, str, str, int]]:
    """``(name, role, input shape, output shape, params)`` for every layer, axes named."""
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
        ins = _named(tuple(layer.input.shape), last, tokens=tokens)
        outs = _named(tuple(layer.output.shape), out_last)
        rows.append((layer.name, _role(layer), ins, outs, int(layer.count_params())))
        last = out_last
    return rows


def explain(model_or_pattern: keras.Model | str, **sizes: Any) -> str:
    """A table of a model's layers with named shapes, and the rules people get wrong.

    Args:
        model_or_pattern: a Keras model, or a pattern name from :data:`PATTERNS`
            (``"many_to_one"``, ``"many_to_many"``, ``"one_to_many"``, ``"generate"``,
            ``"forecast"``, ``"seq2seq_autoencoder"``, ``"next_token"``).
        **sizes: with a pattern name, its sizes (``steps``, ``features``, ``units``,
            ``outputs``, ``latent``, ``vocab_size``, ``batch_size``, ``cell``).

    Returns:
        The text: a first line naming the pattern, one row per layer (layer, role, input
        and output shapes with axis names, parameter count), then the rules.

    Raises:
        ValueError: an unknown pattern, sizes it does not take or out of range (``steps``
            below 1...), a model with no input shape yet or no recurrent layer.

    >>> print(explain("many_to_one", steps=5, features=2, units=8).splitlines()[0])
    many-to-one: 5 steps in, one vector out (return_sequences=False)
    """
    if isinstance(model_or_pattern, str):
        pat, model, args = build_pattern(model_or_pattern, **sizes)
        steps = args.get("steps")
    elif isinstance(model_or_pattern, keras.Model):
        model = require_built(model_or_pattern)
        pat = PATTERNS[pattern_of(model)]
        steps = model.input_shape[1] if len(model.input_shape) == 3 else sizes.get("steps")
        if pat.name == "one_to_many" or pat.name == "seq2seq_autoencoder":
            steps = model.output_shape[1]
    else:
        fail(
            "model_or_pattern",
            "a keras.Model or a pattern name",
            None,
            shown=f"model_or_pattern of type {type(model_or_pattern).__name__}",
        )
    steps_text = "any number of" if steps is None else str(steps)
    head = pat.name.replace("_", "-") + ": " + pat.summary.format(steps=steps_text)
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
    lines += ["", *_rules(model, pat, steps)]
    return "\n".join(lines)


def _rules(model: keras.Model, pat: Pattern, steps: Any) -> list[str]:
    rnns = recurrent_layers(model)
    units = ", ".join(str(r.units) for r in rnns)
    in_shape = model.input_shape
    feat = in_shape[-1] if len(in_shape) >= 2 and pat.name != "next_token" else None
    out = [
        f"- steps ({'any' if steps is None else steps}) is how far the layers unroll: one input "
        "box and one cell application per step.",
    ]
    if feat is not None:
        out.append(f"- features ({feat}) is the width of one step's input vector.")
    out.append(
        f"- units ({units}) is the width of each recurrent layer's state and output; it is "
        "independent of steps (a layer of 8 units reads 5 or 500 steps with the same weights)."
    )
    if any(r.return_sequences for r in rnns):
        out.append(
            "- return_sequences=True keeps one output per step; a Dense on that 3-D output is "
            "applied per step (identical to TimeDistributed(Dense))."
        )
    if any(not r.return_sequences for r in rnns):
        out.append("- return_sequences=False keeps only the last step's output.")
    if any(r.stateful for r in rnns):
        out.append(
            f"- stateful: batch size fixed at {in_shape[0]}; row i of each batch continues row i "
            "of the previous batch; never shuffle; reset with stateful.reset_states(model)."
        )
    return out
