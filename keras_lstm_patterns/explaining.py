"""Explain a model's shapes, layer by layer, with the axes named.

:func:`explain` answers the questions people ask about recurrent layers: which number is
the steps, which the features, which the units, and what ``return_sequences`` kept.
:func:`pattern_of` says which of the patterns a model follows; what each pattern's axes
mean is read from its declaration in :data:`keras_lstm_patterns.PATTERNS`.

Importing this module is cheap (no Keras, no numpy): Keras is imported when a model is
built or read.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ._model import flat_layers as flat_layers
from ._model import is_recurrent as is_recurrent
from ._model import recurrent_layers as recurrent_layers
from ._patterns import PATTERNS, Pattern, Structure

if TYPE_CHECKING:
    import keras

__all__ = [
    "build_pattern",
    "explain",
    "flat_layers",
    "is_recurrent",
    "layer_rows",
    "pattern_of",
    "recurrent_layers",
    "require_built",
]


def build_pattern(name: str, **sizes: Any) -> tuple[Pattern, keras.Model, dict[str, Any]]:
    """Build the named pattern's model with ``sizes`` over its defaults.

    Args:
        name: a pattern name, a key of :data:`keras_lstm_patterns.PATTERNS`.
        **sizes: sizes the pattern takes (``PATTERNS[name].sizes``); those given as
            ``None`` are left at their defaults. ``steps`` is the time steps a sample
            reads; ``generate`` and ``forecast`` count their new steps in ``horizon``.

    Returns:
        ``(pattern, model, sizes)``: the :class:`~keras_lstm_patterns._patterns.Pattern`,
        its uncompiled model and every size it was built with.

    Raises:
        TypeError: ``steps`` for ``generate`` or ``forecast``, refused naming
            ``horizon`` ("`steps` must be written `horizon`: it was renamed `horizon`
            in 0.3.0 (...). Received: steps=3"; an ``ArgumentTypeError``).
        ValueError: an unknown pattern; a size the pattern does not take, refused by its
            own name ("`units` must be a size pattern 'seq2seq_autoencoder' takes
            (steps, features, latent, encoder_units, decoder_units, cell). Received:
            units=4"); a size out of range.

    >>> pattern, model, sizes = build_pattern("one_to_many", steps=4)
    >>> model.output_shape, sizes["features"]
    ((None, 4, 1), 2)
    """
    from ._checks import check_choice, check_int, check_optional_int, fail

    check_choice("pattern", name, tuple(PATTERNS))
    pat = PATTERNS[name]
    given = {k: v for k, v in sizes.items() if v is not None}
    _check_length(pat, given)
    for key, value in given.items():
        if key not in pat.sizes:
            fail(key, f"a size pattern {name!r} takes ({', '.join(pat.sizes)})", value)
    args = {**pat.defaults, **given}
    # every pattern is drawn and described for its ``steps`` or ``horizon``, even those
    # whose model has a free steps axis (generate, forecast): check it here, not only in
    # the factories
    if pat.length == "horizon":
        check_int("horizon", args["horizon"])
    else:
        check_optional_int("steps", args.get("steps"))
    check_optional_int("history", args.get("history"))
    return pat, pat.build(**args), args


def _check_length(pattern: Pattern | None, sizes: dict[str, Any]) -> str:
    """The size that counts the steps drawn or described for ``pattern``
    (:attr:`Pattern.length`; ``steps`` for no pattern), with ``steps`` given for a
    pattern counted in ``horizon`` refused naming it, as ``stateful.forecast`` and
    ``generate`` refuse it (``ArgumentTypeError``, the rule ``STEPS_RENAMED``)."""
    from ._checks import STEPS_RENAMED, fail

    length = pattern.length if pattern is not None else "steps"
    if length == "horizon" and sizes.get("steps") is not None:
        fail("steps", STEPS_RENAMED, sizes["steps"], error=TypeError)
    return length


def require_built(model: keras.Model) -> keras.Model:
    """Refuse a model whose shapes are not known yet: there is nothing to read axes from.

    Args:
        model: a Keras model.

    Returns:
        ``model`` itself, once its input and output shapes are known.

    Raises:
        ValueError: a Sequential model without an ``Input``, or a subclassed model, not
            built yet.

    >>> import keras
    >>> model = keras.Sequential([keras.Input((5, 2)), keras.layers.LSTM(3)])
    >>> require_built(model) is model
    True
    """
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
            shown=f"model {model.name!r} of type {type(model).__name__} with no input shape",
        )
    return model


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
        keras.layers.Normalization,  # the scaling `normalized` puts around a model
    )
    if isinstance(layer, keras.layers.TimeDistributed):
        return isinstance(layer.layer, keras.layers.Dense)
    return isinstance(layer, kinds)


def _structure(model: keras.Model, layers: list, rnns: list) -> Structure:
    """What a model looks like, in the terms the patterns declare theirs."""
    import keras

    return Structure(
        tokens=any(isinstance(la, keras.layers.Embedding) for la in layers),
        repeated=any(isinstance(la, keras.layers.RepeatVector) for la in layers),
        last_step=any(not r.return_sequences for r in rnns),
        sequences=bool(rnns[-1].return_sequences),
        loop=bool(rnns[0].stateful) and model.output_shape[-1] == model.input_shape[-1],
    )


def pattern_of(model: keras.Model) -> str | None:
    """Which pattern a model follows, matched against each pattern's declared structure.

    Args:
        model: a built Keras model.

    Returns:
        The name of the pattern in :data:`keras_lstm_patterns.PATTERNS` whose
        ``structure`` the model has (``forecast`` drives the ``generate`` model, so it
        is never the answer), or ``None`` for a model with recurrent layers that is not
        one of them (a ``Bidirectional`` or ``Conv1D`` layer, several inputs or outputs,
        a merge...).

    Raises:
        ValueError: the model has no recurrent layer.

    >>> from keras_lstm_patterns import one_to_many
    >>> pattern_of(one_to_many(6, 3, 8))
    'one_to_many'
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
    seen = _structure(model, layers, rnns)
    for pat in PATTERNS.values():
        if pat.structure is not None and pat.structure.matches(seen):
            return pat.name
    return None


def _units_of(layer: keras.layers.Layer) -> str:
    import keras

    if isinstance(layer, keras.layers.Bidirectional):
        return f"{_units_of(layer.forward_layer)} per direction"
    units = getattr(layer, "units", None) or getattr(getattr(layer, "cell", None), "units", None)
    return "?" if units is None else str(units)


def _kind(layer: keras.layers.Layer) -> str:
    """What a layer is, for the table's role column."""
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


def _role(layer: keras.layers.Layer, last: keras.layers.Layer) -> str | None:
    """A layer's role in the model, as the patterns' ``axes`` name them: ``"head"``
    (a ``Dense`` returning the model's output), ``"output"`` (a recurrent layer returning
    it), ``"code"`` (a recurrent layer inside the model that keeps only its last step)."""
    import keras

    if isinstance(layer, keras.layers.RNN):
        if layer is last:
            return "output"
        return None if layer.return_sequences else "code"
    if isinstance(layer, keras.layers.TimeDistributed | keras.layers.Dense) and layer is last:
        return "head"
    return None


def _last_axis(layer: keras.layers.Layer, previous: str, declared: str | None) -> str:
    """What the last axis of a layer's output means: ``declared`` by the pattern for the
    layer's role, else what a layer of its kind returns."""
    import keras

    if declared is not None:
        return declared
    if is_recurrent(layer):
        return "units"
    if isinstance(layer, keras.layers.TimeDistributed | keras.layers.Dense):
        return "outputs"
    if isinstance(layer, keras.layers.Embedding):
        return "embedding"
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
    """One row per layer, nested models opened, with the axes of every shape named.

    What the last axis of a recurrent or ``Dense`` layer means comes from the pattern the
    model follows (its declared ``axes``: ``outputs``, ``features``, ``latent``,
    ``vocab_size``...), else from the layer's kind (``units``, ``outputs``).

    Args:
        model: a built Keras model.

    Returns:
        ``(name, role, input shape, output shape, params)`` for every layer; the input
        layer's input shape is ``""``; a shape Keras cannot give (a layer called
        more than once) is ``"?"``.

    Raises:
        ValueError: a model whose shapes are not known yet, such as a ``Sequential``
            model without ``keras.Input`` (an ``ArgumentError`` naming ``model``, from
            :func:`require_built`).

    >>> from keras_lstm_patterns import many_to_one
    >>> layer_rows(many_to_one(5, 2, 8, outputs=1))[-1]
    ('dense', 'head', '(batch, units=8)', '(batch, outputs=1)', 9)
    """
    require_built(model)
    name = pattern_of(model) if recurrent_layers(model) else None
    return _rows(model, PATTERNS[name] if name is not None else None)


def _rows(model: keras.Model, pattern: Pattern | None) -> list[tuple[str, str, str, str, int]]:
    import keras

    declared = pattern.axes if pattern is not None else {}
    layers = flat_layers(model)
    rows = []
    last = "features"
    for layer in layers:
        if isinstance(layer, keras.layers.InputLayer):
            tokens = "int" in str(layer.dtype)
            text = _named(tuple(layer.batch_shape), last, tokens=tokens)
            rows.append((layer.name, "input", "", text, 0))
            continue
        out_last = _last_axis(layer, last, declared.get(_role(layer, layers[-1]) or ""))
        tokens = isinstance(layer, keras.layers.Embedding)
        ins, outs = _shapes(layer)
        ins_text = " + ".join(_named(s, last, tokens=tokens) for s in ins) or "?"
        outs_text = " + ".join(_named(s, out_last) for s in outs) or "?"
        rows.append((layer.name, _kind(layer), ins_text, outs_text, int(layer.count_params())))
        last = out_last
    return rows


def _steps(model: keras.Model, pattern: Pattern | None, given: Any) -> Any:
    """How many steps a built model unrolls: from its output when one vector is repeated
    to every step, else from its input's steps axis; ``given`` (its ``steps`` or
    ``horizon``) when that axis is free (or the input has none), ``None`` without it."""
    if pattern is not None and pattern.steps_from == "output":
        return model.output_shape[1]
    shape = model.inputs[0].shape
    tokens = "int" in str(model.inputs[0].dtype)
    if (len(shape) == 3 or tokens) and shape[1] is not None:
        return shape[1]
    return given


def _unrolled(pattern: Pattern | None, length: Any, history: Any) -> Any:
    """The steps the layers unroll: a forecast's known steps and then its new steps but
    the last (each fed back), else ``length``."""
    if pattern is not None and pattern.drive == "forecast" and length is not None:
        return history + length - 1
    return length


def explain(model_or_pattern: keras.Model | str, **sizes: Any) -> str:
    """A table of a model's layers with named shapes, and the rules people get wrong.

    Args:
        model_or_pattern: a Keras model with a recurrent layer (one of the patterns or
            any other), or a pattern name from :data:`keras_lstm_patterns.PATTERNS`
            (``"many_to_one"``, ``"many_to_many"``, ``"one_to_many"``, ``"generate"``,
            ``"forecast"``, ``"seq2seq_autoencoder"``, ``"next_token"``).
        **sizes: with a pattern name, the sizes that pattern takes
            (``PATTERNS[name].sizes``: ``steps``, ``features``, ``units``, ``outputs``,
            ``latent``, ``vocab_size``, ``batch_size``, ``cell``...; ``generate`` and
            ``forecast`` take ``horizon``, their new steps, and ``history``); with a
            model whose steps axis is free, ``steps`` sets how many it reads; with a
            generator model (the ``generate`` pattern), ``horizon`` sets its new steps.

    Returns:
        The text: a first line naming the pattern (or saying the model is none of
        them), one row per layer (layer, role, input and output shapes with axis names,
        parameter count), then the rules, written with the model's own sizes.

    Raises:
        TypeError: ``steps`` for ``generate`` or ``forecast`` or a generator model,
            refused naming ``horizon`` (an ``ArgumentTypeError``).
        ValueError: an unknown pattern, sizes it does not take or out of range (``steps``
            below 1...), ``horizon`` with a model that is not a generator, a model with
            no input shape yet or no recurrent layer.

    >>> print(explain("many_to_one", steps=5, features=2, units=8).splitlines()[0])
    many-to-one: 5 steps in, one vector out (return_sequences=False)
    >>> print(explain("forecast", history=4, horizon=2).split(", each")[0])
    forecast: 4 known steps warm the state up, then 2 new steps come out
    """
    import keras

    from ._checks import fail
    from ._table import table

    history = None
    pattern: Pattern | None
    if isinstance(model_or_pattern, str):
        pattern, model, args = build_pattern(model_or_pattern, **sizes)
        length, history = args.get(pattern.length), args.get("history")
    elif isinstance(model_or_pattern, keras.Model):
        model = require_built(model_or_pattern)
        name = pattern_of(model)
        pattern = PATTERNS[name] if name is not None else None
        if _check_length(pattern, sizes) == "horizon":  # a generator: its new steps
            length = sizes.get("horizon")
        elif sizes.get("horizon") is not None:
            fail(
                "horizon",
                "left out for a model that is not a generator: its free steps axis is set "
                "with `steps` (`horizon` counts the new steps of the patterns generate and "
                "forecast)",
                sizes["horizon"],
            )
        else:
            length = _steps(model, pattern, sizes.get("steps"))
    else:
        fail(
            "model_or_pattern",
            "a keras.Model or a pattern name",
            shown=f"model_or_pattern of type {type(model_or_pattern).__name__}",
        )
    length_text = "any number of" if length is None else str(length)
    if pattern is None:
        head = (
            f"{model.name}: a recurrent model that is not one of the patterns "
            "(its layers as they are)"
        )
    else:
        summary = pattern.summary.format(steps=length_text, horizon=length_text, history=history)
        head = pattern.name.replace("_", "-") + ": " + summary
    rows = [("layer", "role", "input shape", "output shape", "params")]
    rows += [(n, r, i, o, f"{c:,}") for n, r, i, o, c in _rows(model, pattern)]
    lines = [head, "", table(rows, align="<<<<>"), f"total params: {model.count_params():,}"]
    lines += ["", *_rules(model, pattern, _unrolled(pattern, length, history))]
    return "\n".join(lines)


def _rules(model: keras.Model, pattern: Pattern | None, steps: Any) -> list[str]:
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
    if pattern is None:
        out.append(
            "- not one of the patterns: `klp diagram` draws the unrolled picture only for "
            "the patterns (see `klp patterns`)."
        )
    return out
