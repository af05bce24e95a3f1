"""The patterns: one factory each, and beside it the pattern's declaration.

Each factory checks all of its arguments first, then builds an uncompiled functional
model, a :class:`~keras_lstm_patterns.layers.PatternModel`, with named layers. Next to
each factory a :class:`Pattern` declares what every reader needs to know about it as
data: its shapes and sizes, the sizes ``explain``/``diagram`` use by default and for the
picture in ``docs/img``, what the last axis of its output means, and how a built model of
it looks. :data:`PATTERNS` collects them; ``explain``, ``diagram``, ``klp`` and ``klp docs``
read nothing else. A new pattern is a factory and its ``_declare(Pattern(...))``.

Importing this module is cheap (no Keras, no numpy), so ``klp --help`` can list the
patterns; Keras is imported when a factory builds a model.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, fields
from typing import TYPE_CHECKING, Any, NamedTuple

if TYPE_CHECKING:
    import keras

    from .layers import PatternModel

__all__ = [
    "PATTERNS",
    "Pattern",
    "Seq2Seq",
    "Structure",
    "many_to_many",
    "many_to_one",
    "next_token_model",
    "one_to_many",
    "seq2seq_autoencoder",
    "stateful_generator",
]

_CELLS = {"lstm": "LSTM", "gru": "GRU", "simple": "SimpleRNN"}  # cell= -> keras.layers class


@dataclass(frozen=True)
class Structure:
    """How a built model of a pattern looks: one flag per fact, ``None`` for either way.

    Attributes:
        tokens: it reads integer tokens through an ``Embedding``.
        repeated: a ``RepeatVector`` feeds one vector to every step.
        last_step: some recurrent layer keeps only its last step.
        sequences: the last recurrent layer returns every step.
        loop: the first recurrent layer is stateful and the output is as wide as the
            input, so each output step can be fed back as the next input.
    """

    tokens: bool | None = None
    repeated: bool | None = None
    last_step: bool | None = None
    sequences: bool | None = None
    loop: bool | None = None

    def matches(self, seen: Structure) -> bool:
        """Every flag this one sets has the same value in ``seen``."""
        return all(
            getattr(self, f.name) is None or getattr(self, f.name) == getattr(seen, f.name)
            for f in fields(self)
        )


@dataclass(frozen=True)
class Pattern:
    """One named pattern, declared beside its factory.

    Attributes:
        name: the name ``explain``, ``diagram`` and ``klp`` take.
        factory: how it is built, as the user writes it.
        shapes: its shapes, with axis names.
        summary: one line about it, formatted with ``steps`` (or ``horizon``, for a
            pattern driven by feeding its outputs back) and ``history``.
        build: builds its model (the one ``explain`` and ``diagram`` show) from keyword
            sizes named in ``sizes``.
        sizes: the sizes ``build`` takes, in the order the help shows them: ``steps``,
            the time steps a sample reads, or ``horizon``, the new steps a driven
            pattern (``generate``, ``forecast``) produces, never both.
        defaults: the sizes used for those not given.
        picture: the sizes of its picture in ``docs/img`` (``klp docs``), over
            ``defaults``.
        axes: what the last axis means, by the role of the layer that returns it:
            ``"head"`` a ``Dense`` head returning the model's output, ``"output"`` a
            recurrent layer returning it, ``"code"`` a recurrent layer inside the model
            that keeps only its last step. Roles not named read ``"outputs"``,
            ``"units"`` and ``"units"``.
        steps_from: where a built model's steps are read: ``"input"``, or ``"output"``
            when one vector is repeated to every step.
        drive: ``"generate"`` or ``"forecast"`` when the model is driven by feeding its
            outputs back (the picture draws the feedback arrows).
        structure: how a built model of it looks, which ``pattern_of`` matches; ``None``
            for a pattern whose model is another's (``forecast`` drives ``generate``'s).
    """

    name: str
    factory: str
    shapes: str
    summary: str
    build: Callable[..., Any]
    sizes: tuple[str, ...]
    defaults: Mapping[str, Any]
    picture: Mapping[str, Any] = field(default_factory=dict)
    axes: Mapping[str, str] = field(default_factory=dict)
    steps_from: str = "input"
    drive: str | None = None
    structure: Structure | None = None

    @property
    def length(self) -> str:
        """The size its summary and picture count steps in: ``"horizon"`` for a pattern
        driven by feeding its outputs back, ``"steps"`` for the others."""
        return "horizon" if "horizon" in self.sizes else "steps"

    def picture_sizes(self) -> dict[str, Any]:
        """The sizes of its picture in ``docs/img``."""
        return {**self.defaults, **self.picture}


PATTERNS: dict[str, Pattern] = {}
"""Every pattern by name, in the order ``klp patterns`` lists them."""


def _declare(pattern: Pattern) -> None:
    PATTERNS[pattern.name] = pattern


def _rnn(cell: str, units: int, name: str, **kwargs: Any) -> keras.layers.Layer:
    import keras

    return getattr(keras.layers, _CELLS[cell])(units, name=name, **kwargs)


def _check_common(
    *,
    cell: str,
    stateful: bool,
    batch_size: Any,
    mask_value: Any,
    dropout: Any,
    output_activation: Any,
    outputs: Any,
) -> tuple[int | None, int | None]:
    from ._checks import (
        check_bool,
        check_choice,
        check_fraction,
        check_optional_int,
        check_real,
        fail,
    )

    check_choice("cell", cell, tuple(_CELLS))
    stateful = check_bool("stateful", stateful)
    batch_size = check_optional_int("batch_size", batch_size)
    if stateful and batch_size is None:
        fail(
            "batch_size",
            "a positive integer when stateful=True (a stateful layer needs a fixed "
            "batch: row i of each batch continues row i of the previous one)",
            batch_size,
        )
    check_real("mask_value", mask_value, optional=True)  # NaN never equals a padded step
    check_fraction("dropout", dropout)
    outputs = check_optional_int("outputs", outputs)
    _check_activation(output_activation)
    return batch_size, outputs


def _check_activation(activation: Any) -> None:
    import keras

    from ._checks import fail

    if activation is None:
        return
    try:
        keras.activations.get(activation)
    except (ValueError, TypeError):
        fail("output_activation", "None or a Keras activation name", activation)


def _recurrent_stack(
    x: Any,
    units: Sequence[int],
    *,
    cell: str,
    last_returns_sequences: bool,
    prefix: str = "",
    **kwargs: Any,
) -> Any:
    for i, u in enumerate(units):
        last = i == len(units) - 1
        x = _rnn(
            cell,
            u,
            f"{prefix}{cell}_{i + 1}",
            return_sequences=True if not last else last_returns_sequences,
            **kwargs,
        )(x)
    return x


def _head(x: Any, width: int, *, activation: Any = None, prefix: str = "") -> Any:
    """The same ``Dense(width)`` applied to every step."""
    import keras

    from .layers import TimeDistributed

    dense = keras.layers.Dense(width, activation=activation, name=f"{prefix}dense")
    return TimeDistributed(dense, name=f"{prefix}head")(x)


_SEQUENCE_SIZES = ("steps", "features", "units", "outputs", "cell")
_SEQUENCE_DEFAULTS = {"steps": 5, "features": 2, "units": 8, "outputs": 1}


def _many(
    pattern: str,
    steps: int | None,
    features: int,
    units: Any,
    *,
    outputs: int | None,
    cell: str,
    stateful: bool,
    batch_size: int | None,
    mask_value: float | None,
    dropout: float,
    output_activation: Any,
) -> PatternModel:
    import keras

    from ._checks import check_int, check_optional_int, check_units
    from .layers import PatternModel

    steps = check_optional_int("steps", steps)
    features = check_int("features", features)
    units = check_units("units", units)
    batch_size, outputs = _check_common(
        cell=cell,
        stateful=stateful,
        batch_size=batch_size,
        mask_value=mask_value,
        dropout=dropout,
        output_activation=output_activation,
        outputs=outputs,
    )
    stateful = bool(stateful)
    sequences = pattern == "many_to_many"
    inp = keras.Input(batch_shape=(batch_size, steps, features), name="steps_in")
    x = inp
    if mask_value is not None:
        x = keras.layers.Masking(mask_value=float(mask_value), name="mask")(x)
    x = _recurrent_stack(
        x, units, cell=cell, last_returns_sequences=sequences, stateful=stateful, dropout=dropout
    )
    if outputs is not None and sequences:
        x = _head(x, outputs, activation=output_activation)
    elif outputs is not None:
        x = keras.layers.Dense(outputs, activation=output_activation, name="dense")(x)
    return PatternModel(inp, x, name=pattern)


def many_to_one(
    steps: int | None,
    features: int,
    units: int | Sequence[int],
    *,
    outputs: int | None = None,
    cell: str = "lstm",
    stateful: bool = False,
    batch_size: int | None = None,
    mask_value: float | None = None,
    dropout: float = 0.0,
    output_activation: Any = None,
) -> PatternModel:
    """Many steps in, one vector out: ``(batch, steps, features) -> (batch, units[-1] or outputs)``.

    The last recurrent layer has ``return_sequences=False``, so only its output at the
    last step is kept; earlier layers of a stack return every step to the next.

    Args:
        steps: how many steps each sample has (the unrolled length), or ``None`` for any.
        features: the width of one step's input vector.
        units: the state width of the recurrent layer, or a sequence of widths for a
            stack (first to last). Independent of ``steps``.
        outputs: width of a ``Dense`` head; ``None`` returns the recurrent output.
        cell: ``"lstm"``, ``"gru"`` or ``"simple"``.
        stateful: carry the state from batch to batch (needs ``batch_size``).
        batch_size: a fixed batch size (required with ``stateful=True``).
        mask_value: insert ``Masking(mask_value)`` so padded steps are skipped.
        dropout: input dropout of each recurrent layer, in [0, 1).
        output_activation: activation of the head.

    Returns:
        An uncompiled :class:`~keras_lstm_patterns.layers.PatternModel` named
        ``many_to_one``.

    Raises:
        ValueError: an argument out of range, named with what was received.

    >>> many_to_one(5, 2, 8, outputs=1).output_shape
    (None, 1)
    """
    return _many("many_to_one", **locals())  # every argument, by name


_declare(
    Pattern(
        name="many_to_one",
        factory="many_to_one(steps, features, units)",
        shapes="(batch, steps, features) -> (batch, units or outputs)",
        summary="{steps} steps in, one vector out (return_sequences=False)",
        build=many_to_one,
        sizes=_SEQUENCE_SIZES,
        defaults=_SEQUENCE_DEFAULTS,
        axes={"head": "outputs"},
        structure=Structure(tokens=False, repeated=False, sequences=False),
    )
)


def many_to_many(
    steps: int | None,
    features: int,
    units: int | Sequence[int],
    *,
    outputs: int | None = None,
    cell: str = "lstm",
    stateful: bool = False,
    batch_size: int | None = None,
    mask_value: float | None = None,
    dropout: float = 0.0,
    output_activation: Any = None,
) -> PatternModel:
    """One output per step: ``(batch, steps, features) -> (batch, steps, units[-1] or outputs)``.

    Every recurrent layer has ``return_sequences=True``; the head is
    ``TimeDistributed(Dense(outputs))``, the same ``Dense`` applied to every step (a
    plain ``Dense`` on a 3-D input computes exactly the same thing).

    Args:
        steps: how many steps each sample has, or ``None`` for any.
        features: the width of one step's input vector.
        units: the state width of the recurrent layer, or a sequence of widths for a
            stack (first to last).
        outputs: width of the per-step ``Dense`` head; ``None`` returns the recurrent
            output at every step.
        cell: ``"lstm"``, ``"gru"`` or ``"simple"``.
        stateful: carry the state from batch to batch (needs ``batch_size``).
        batch_size: a fixed batch size (required with ``stateful=True``).
        mask_value: insert ``Masking(mask_value)`` so padded steps are skipped.
        dropout: input dropout of each recurrent layer, in [0, 1).
        output_activation: activation of the head.

    Returns:
        An uncompiled :class:`~keras_lstm_patterns.layers.PatternModel` named
        ``many_to_many``.

    Raises:
        ValueError: an argument out of range, named with what was received.

    >>> many_to_many(None, 3, [16, 8], outputs=3).output_shape
    (None, None, 3)
    """
    return _many("many_to_many", **locals())  # every argument, by name


_declare(
    Pattern(
        name="many_to_many",
        factory="many_to_many(steps, features, units)",
        shapes="(batch, steps, features) -> (batch, steps, units or outputs)",
        summary="{steps} steps in, {steps} steps out (return_sequences=True)",
        build=many_to_many,
        sizes=_SEQUENCE_SIZES,
        defaults=_SEQUENCE_DEFAULTS,
        axes={"head": "outputs"},
        structure=Structure(tokens=False, repeated=False, sequences=True, loop=False),
    )
)


def one_to_many(
    steps: int,
    features: int,
    units: int | Sequence[int],
    *,
    outputs: int | None = None,
    cell: str = "lstm",
    output_activation: Any = None,
) -> PatternModel:
    """One vector in, a sequence out: ``(batch, features) -> (batch, steps, units[-1] or outputs)``.

    A recurrent layer needs an input at every step, so ``RepeatVector(steps)`` feeds the
    same vector to each of them. (The other way, feeding each output back as the next
    input, is :func:`stateful_generator` with ``stateful.generate``.)

    The arguments come in the order of :func:`many_to_one`, ``(steps, features,
    units)``; version 0.1.0 took ``(features, steps, units)``.

    Args:
        steps: how many steps come out (the length ``RepeatVector`` repeats to).
        features: the width of the input vector.
        units: the state width of the recurrent layer, or a sequence of widths for a
            stack (first to last).
        outputs: width of the per-step ``Dense`` head; ``None`` returns the recurrent
            output at every step.
        cell: ``"lstm"``, ``"gru"`` or ``"simple"``.
        output_activation: activation of the head.

    Returns:
        An uncompiled :class:`~keras_lstm_patterns.layers.PatternModel` named
        ``one_to_many``, ``(batch, features) -> (batch, steps, outputs)``.

    Raises:
        ValueError: an argument out of range, named with what was received.

    >>> one_to_many(6, 3, 32, outputs=1).output_shape
    (None, 6, 1)
    """
    import keras

    from ._checks import check_int, check_units
    from .layers import PatternModel

    steps = check_int("steps", steps)
    features = check_int("features", features)
    units = check_units("units", units)
    _, outputs = _check_common(
        cell=cell,
        stateful=False,
        batch_size=None,
        mask_value=None,
        dropout=0.0,
        output_activation=output_activation,
        outputs=outputs,
    )
    inp = keras.Input(shape=(features,), name="vector_in")
    x = keras.layers.RepeatVector(steps, name="repeat")(inp)
    x = _recurrent_stack(x, units, cell=cell, last_returns_sequences=True)
    if outputs is not None:
        x = _head(x, outputs, activation=output_activation)
    return PatternModel(inp, x, name="one_to_many")


_declare(
    Pattern(
        name="one_to_many",
        factory="one_to_many(steps, features, units)",
        shapes="(batch, features) -> (batch, steps, units or outputs)",
        summary="one vector in, repeated to {steps} steps (RepeatVector), {steps} steps out",
        build=one_to_many,
        sizes=_SEQUENCE_SIZES,
        defaults=_SEQUENCE_DEFAULTS,
        picture={"features": 3},
        axes={"head": "outputs"},
        steps_from="output",
        structure=Structure(tokens=False, repeated=True, last_step=False),
    )
)


def _to_features(
    x: Any, features: int, hidden: Sequence[int], cell: str, prefix: str, **kw: Any
) -> Any:
    """The layer that returns ``features`` per step: a recurrent layer of that width when
    there are no hidden layers (the classic picture), else a per-step ``Dense`` head."""
    if not hidden:
        return _rnn(cell, features, f"{prefix}{cell}_out", return_sequences=True, **kw)(x)
    x = _recurrent_stack(x, hidden, cell=cell, last_returns_sequences=True, prefix=prefix, **kw)
    return _head(x, features, prefix=prefix)


def stateful_generator(
    features: int, *, batch_size: int = 1, units: int | Sequence[int] = (), cell: str = "lstm"
) -> PatternModel:
    """A stateful model whose output step can be fed back as the next input step.

    Input ``batch_shape=(batch_size, None, features)``, output
    ``(batch_size, steps, features)``, ``return_sequences=True`` everywhere so any number
    of steps can be fed, one at a time or many. Drive it with ``stateful.generate``
    (one-to-many) or ``stateful.forecast`` (many-to-many), or train it with
    ``stateful.fit_stateful`` on ``windows.next_step`` pairs.

    Args:
        features: the width of one step, in and out (an output step is the next input).
        batch_size: the fixed batch size: how many sequences are carried side by side.
        units: hidden recurrent widths. With none, the model is one recurrent layer of
            width ``features`` (its outputs are in (-1, 1) for LSTM/GRU: scale the
            data); with some, stateful layers of those widths are followed by a linear
            per-step ``Dense(features)`` head.
        cell: ``"lstm"``, ``"gru"`` or ``"simple"``.

    Returns:
        An uncompiled :class:`~keras_lstm_patterns.layers.PatternModel` named
        ``stateful_generator``, every recurrent layer stateful.

    Raises:
        ValueError: an argument out of range, named with what was received.

    >>> stateful_generator(2, batch_size=4, units=16).output_shape
    (4, None, 2)
    """
    import keras

    from ._checks import check_choice, check_int, check_units
    from .layers import PatternModel

    features = check_int("features", features)
    batch_size = check_int("batch_size", batch_size)
    hidden = check_units("units", units, allow_empty=True)
    check_choice("cell", cell, tuple(_CELLS))
    inp = keras.Input(batch_shape=(batch_size, None, features), name="steps_in")
    x = _to_features(inp, features, hidden, cell, "", stateful=True)
    return PatternModel(inp, x, name="stateful_generator")


def _generator(horizon: Any = None, history: Any = None, **sizes: Any) -> PatternModel:
    """``stateful_generator`` for the registry: its steps axis is free, so ``horizon``
    and ``history`` only say how far it is driven."""
    return stateful_generator(**sizes)


_GENERATOR_AXES = {"head": "features", "output": "features"}
_declare(
    Pattern(
        name="generate",
        factory="stateful_generator(features) + stateful.generate",
        shapes="(batch, 1, features) -> (batch, horizon, features)",
        summary="one step in, {horizon} new steps out, each but the last fed back as the next "
        "input (stateful one-to-many)",
        build=_generator,
        sizes=("horizon", "features", "units", "batch_size", "cell"),
        defaults={"horizon": 5, "features": 2, "units": (), "batch_size": 1},
        picture={"units": 32},  # the README's stateful_generator(2, units=32)
        axes=_GENERATOR_AXES,
        drive="generate",
        structure=Structure(tokens=False, repeated=False, sequences=True, loop=True),
    )
)
_declare(
    Pattern(
        name="forecast",
        factory="stateful_generator(features) + stateful.forecast",
        shapes="(batch, history, features) -> (batch, horizon, features)",
        summary="{history} known steps warm the state up, then {horizon} new steps come out, "
        "each but the last fed back as the next input (stateful many-to-many)",
        build=_generator,
        sizes=("horizon", "history", "features", "units", "batch_size", "cell"),
        defaults={"horizon": 3, "history": 3, "features": 2, "units": (), "batch_size": 1},
        picture={"units": 32},
        axes=_GENERATOR_AXES,
        drive="forecast",
    )
)


class Seq2Seq(NamedTuple):
    """The three models of :func:`seq2seq_autoencoder`; they share their weights.

    Attributes:
        autoencoder: ``(batch, steps, features) -> (batch, steps, features)``.
        encoder: ``(batch, steps, features) -> (batch, latent)``.
        decoder: ``(batch, latent) -> (batch, steps, features)``.

    Args:
        autoencoder: the whole model, ``decoder(encoder(x))``.
        encoder: the model from a sequence to its latent vector.
        decoder: the model from a latent vector back to a sequence.

    Raises:
        Nothing of its own: a ``NamedTuple`` that does not check the models it holds
            (:func:`seq2seq_autoencoder` makes them fit together).

    >>> ae = seq2seq_autoencoder(5, 2, latent=3)
    >>> ae.encoder.output_shape, ae.decoder.output_shape
    ((None, 3), (None, 5, 2))
    """

    autoencoder: keras.Model
    encoder: keras.Model
    decoder: keras.Model


def seq2seq_autoencoder(
    steps: int,
    features: int,
    *,
    encoder_units: int | Sequence[int] = (),
    latent: int = 16,
    decoder_units: int | Sequence[int] = (),
    cell: str = "lstm",
) -> Seq2Seq:
    """A many-to-one encoder and a one-to-many decoder, trained together with ``fit(x, x)``.

    The encoder, ``(batch, steps, features) -> (batch, latent)``: the ``encoder_units``
    layers return sequences, the last layer, of width ``latent``, returns only its last
    step. The decoder, ``(batch, latent) -> RepeatVector(steps) -> (batch, steps,
    features)``: the ``decoder_units`` layers, then a recurrent layer of width
    ``features`` (no ``decoder_units``) or a per-step linear ``Dense(features)`` head
    (with them). ``autoencoder(x)`` is ``decoder(encoder(x))`` with the same weights.

    Args:
        steps: how many steps each sequence has, in and out.
        features: the width of one step, in and out.
        encoder_units: the encoder's recurrent widths before the latent layer.
        latent: the width of the code: the encoder's last layer, the decoder's input.
        decoder_units: the decoder's recurrent widths before its output layer.
        cell: ``"lstm"``, ``"gru"`` or ``"simple"``.

    Returns:
        ``Seq2Seq(autoencoder, encoder, decoder)``, all uncompiled
        :class:`~keras_lstm_patterns.layers.PatternModel`.

    Raises:
        ValueError: an argument out of range, named with what was received.

    >>> ae = seq2seq_autoencoder(100, 6, latent=8, decoder_units=32)
    >>> ae.encoder.output_shape, ae.autoencoder.output_shape
    ((None, 8), (None, 100, 6))
    """
    import keras

    from ._checks import check_choice, check_int, check_units
    from .layers import PatternModel

    steps = check_int("steps", steps)
    features = check_int("features", features)
    enc_units = check_units("encoder_units", encoder_units, allow_empty=True)
    latent = check_int("latent", latent)
    dec_units = check_units("decoder_units", decoder_units, allow_empty=True)
    check_choice("cell", cell, tuple(_CELLS))

    enc_in = keras.Input(shape=(steps, features), name="steps_in")
    x = _recurrent_stack(
        enc_in, (*enc_units, latent), cell=cell, last_returns_sequences=False, prefix="encoder_"
    )
    encoder = PatternModel(enc_in, x, name="encoder")

    dec_in = keras.Input(shape=(latent,), name="latent_in")
    y = keras.layers.RepeatVector(steps, name="repeat")(dec_in)
    y = _to_features(y, features, dec_units, cell, "decoder_")
    decoder = PatternModel(dec_in, y, name="decoder")

    ae_in = keras.Input(shape=(steps, features), name="steps_in")
    autoencoder = PatternModel(ae_in, decoder(encoder(ae_in)), name="seq2seq_autoencoder")
    return Seq2Seq(autoencoder, encoder, decoder)


def _autoencoder(**sizes: Any) -> PatternModel:
    """``seq2seq_autoencoder`` for the registry: the model that holds the other two."""
    return seq2seq_autoencoder(**sizes).autoencoder


_declare(
    Pattern(
        name="seq2seq_autoencoder",
        factory="seq2seq_autoencoder(steps, features, latent=...)",
        shapes="(batch, steps, features) -> (batch, latent) -> (batch, steps, features)",
        summary="{steps} steps in, squeezed into one latent vector, {steps} steps rebuilt",
        build=_autoencoder,
        sizes=("steps", "features", "latent", "encoder_units", "decoder_units", "cell"),
        defaults={"steps": 5, "features": 2, "latent": 4},
        picture={"decoder_units": 8},
        axes={"head": "features", "output": "features", "code": "latent"},
        steps_from="output",
        structure=Structure(tokens=False, repeated=True, last_step=True),
    )
)


def next_token_model(
    vocab_size: int,
    *,
    embedding_dim: int = 64,
    units: int | Sequence[int] = (512, 128),
    cell: str = "gru",
    steps: int | None = None,
    stateful: bool = False,
    batch_size: int | None = None,
) -> PatternModel:
    """A next-token model: ``(batch, steps)`` integer tokens ``-> (batch, steps, vocab_size)``.

    ``Embedding -> recurrent stack (return_sequences=True) ->
    TimeDistributed(Dense(vocab_size, softmax))``: at every step, the probabilities of the
    next token. Compile it with ``loss="sparse_categorical_crossentropy"`` and train on
    ``windows.next_step(tokens)``.

    Args:
        vocab_size: how many distinct tokens there are (ids ``0 .. vocab_size - 1``).
        embedding_dim: the width of each token's learned vector.
        units: the state width of the recurrent layer, or a sequence of widths for a
            stack (first to last).
        cell: ``"lstm"``, ``"gru"`` or ``"simple"``.
        steps: how many tokens each sample has, or ``None`` for any.
        stateful: carry the state from batch to batch (needs ``batch_size``): the
            sampling model, fed one token at a time.
        batch_size: a fixed batch size (required with ``stateful=True``).

    Returns:
        An uncompiled :class:`~keras_lstm_patterns.layers.PatternModel` named
        ``next_token``.

    Raises:
        ValueError: an argument out of range, named with what was received.

    >>> next_token_model(50, units=32).output_shape
    (None, None, 50)
    """
    import keras

    from ._checks import check_choice, check_int, check_optional_int, check_units
    from .layers import PatternModel

    vocab_size = check_int("vocab_size", vocab_size, low=2)
    embedding_dim = check_int("embedding_dim", embedding_dim)
    units = check_units("units", units)
    check_choice("cell", cell, tuple(_CELLS))
    steps = check_optional_int("steps", steps)
    batch_size, _ = _check_common(
        cell=cell,
        stateful=stateful,
        batch_size=batch_size,
        mask_value=None,
        dropout=0.0,
        output_activation=None,
        outputs=None,
    )
    stateful = bool(stateful)
    inp = keras.Input(batch_shape=(batch_size, steps), dtype="int32", name="tokens_in")
    x = keras.layers.Embedding(vocab_size, embedding_dim, name="embedding")(inp)
    x = _recurrent_stack(x, units, cell=cell, last_returns_sequences=True, stateful=stateful)
    x = _head(x, vocab_size, activation="softmax")
    return PatternModel(inp, x, name="next_token")


_declare(
    Pattern(
        name="next_token",
        factory="next_token_model(vocab_size)",
        shapes="(batch, steps) tokens -> (batch, steps, vocab_size)",
        summary="{steps} tokens in, a next-token distribution at every step "
        "(TimeDistributed softmax head)",
        build=next_token_model,
        sizes=("steps", "vocab_size", "units", "embedding_dim", "cell"),
        defaults={"steps": 5, "vocab_size": 30, "units": 16, "embedding_dim": 8},
        axes={"head": "vocab_size"},
        structure=Structure(tokens=True),
    )
)
