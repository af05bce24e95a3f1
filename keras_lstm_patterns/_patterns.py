"""Factories for every recurrent shape-and-mode pattern.

Each factory checks all of its arguments first, then builds an uncompiled functional
``keras.Model`` with named layers. The models are :class:`PatternModel`, a functional
model that names the axes when data of the wrong shape is fed to it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, NamedTuple

import keras

from . import _carry
from ._checks import (
    check_bool,
    check_choice,
    check_fraction,
    check_int,
    check_optional_int,
    check_real,
    check_units,
    fail,
    shape_str,
)

__all__ = [
    "CELLS",
    "TimeDistributed",
    "PatternModel",
    "Seq2Seq",
    "many_to_many",
    "many_to_one",
    "next_token_model",
    "one_to_many",
    "seq2seq_autoencoder",
    "stateful_generator",
]

CELLS = {"lstm": keras.layers.LSTM, "gru": keras.layers.GRU, "simple": keras.layers.SimpleRNN}


def axis_names(rank: int, is_int: bool) -> tuple[str, ...]:
    """Axis names for a model input of this rank: what each number of a shape means."""
    if rank == 3:
        return ("batch", "steps", "features")
    if rank == 2:
        return ("batch", "steps") if is_int else ("batch", "features")
    return ("batch", *(f"axis{i}" for i in range(1, rank)))


@keras.saving.register_keras_serializable(package="keras_lstm_patterns")
class PatternModel(keras.Model):
    """A functional model whose shape errors name the axes.

    Keras accepts some wrong shapes silently (a trailing axis of 1 is squeezed away) and
    reports others without saying which axis is which. This checks the rank and every
    fixed size of the input first and raises, for example, "expected input of shape
    `(batch, steps=5, features=2)`, received `(4, 5, 3)`".
    """

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        if args and len(self.inputs) == 1:
            self._check_input(args[0])
        return super().__call__(*args, **kwargs)

    def call(self, inputs: Any, *args: Any, **kwargs: Any) -> Any:
        # The JAX trainer reaches `call` through `stateless_call`, not `__call__`; the
        # check in `__call__` stays because Keras's own input checks run before `call`.
        if len(self.inputs) == 1:
            self._check_input(inputs)
        return super().call(inputs, *args, **kwargs)

    def fit(self, x: Any = None, y: Any = None, *args: Any, **kwargs: Any) -> Any:
        """``keras.Model.fit``, refusing a target whose shape would silently broadcast."""
        self._check_targets(y, "y")
        self._check_targets(_validation_y(kwargs.get("validation_data")), "validation_data")
        with _carry.carried(self):
            return super().fit(x, y, *args, **kwargs)

    def evaluate(self, x: Any = None, y: Any = None, *args: Any, **kwargs: Any) -> Any:
        """``keras.Model.evaluate``, refusing a target whose shape would silently broadcast."""
        self._check_targets(y, "y")
        with _carry.carried(self):
            return super().evaluate(x, y, *args, **kwargs)

    # A stateful layer's states are carried from batch to batch, and from call to call,
    # by every one of Keras's own methods on every backend, as TensorFlow does by itself
    # (on JAX the trainer would leave them at zero; on PyTorch ``train_on_batch`` would
    # fail on the in-place state update). ``_carry.carried`` sets that up for one call.

    def predict(self, x: Any, *args: Any, **kwargs: Any) -> Any:
        """``keras.Model.predict``, carrying stateful layers' states on every backend."""
        with _carry.carried(self):
            return super().predict(x, *args, **kwargs)

    def predict_on_batch(self, x: Any) -> Any:
        """``keras.Model.predict_on_batch``, carrying the states on every backend."""
        with _carry.carried(self):
            return super().predict_on_batch(x)

    def train_on_batch(self, x: Any, y: Any = None, *args: Any, **kwargs: Any) -> Any:
        """``keras.Model.train_on_batch``, carrying the states on every backend."""
        with _carry.carried(self):
            return super().train_on_batch(x, y, *args, **kwargs)

    def test_on_batch(self, x: Any, y: Any = None, *args: Any, **kwargs: Any) -> Any:
        """``keras.Model.test_on_batch``, carrying the states on every backend."""
        with _carry.carried(self):
            return super().test_on_batch(x, y, *args, **kwargs)

    def _check_targets(self, y: Any, name: str) -> None:
        """Refuse ``y`` whose shape after the batch axis differs from the output's.

        Keras's losses broadcast a ``(batch, 1)`` target against a ``(batch, 32)``
        output without a word. Allowed: the output's own shape; one axis fewer when the
        output's last axis is 1 (Keras expands it) or when ``y`` holds integer class
        labels for the last axis (sparse losses).
        """
        shape = getattr(y, "shape", None)
        if shape is None or len(self.outputs) != 1:
            return
        got = tuple(int(d) for d in shape[1:])
        out = tuple(self.output_shape[1:])

        def same(a: tuple, b: tuple) -> bool:
            return len(a) == len(b) and all(e is None or e == g for e, g in zip(b, a))

        labels = "int" in str(getattr(y, "dtype", ""))  # class ids for a sparse loss
        if same(got, out) or (out and (out[-1] == 1 or labels) and same(got, out[:-1])):
            return
        hint = ""
        if out and out[-1] is not None and got and got[-1] != out[-1]:
            hint = (
                f" The model returns {out[-1]} numbers per "
                f"{'step' if len(out) > 1 else 'sample'}; if each target has {got[-1]}, "
                f"build it with outputs={got[-1]} (a Dense head of that width)."
            )
        fail(
            name,
            f"a target of shape `(batch, {', '.join(map(str, out))})`, the model's output "
            "shape, so the loss compares like with like",
            None,
            shown=f"{name} with shape {tuple(shape)}." + hint,
        )

    def _check_input(self, x: Any) -> None:
        shape = getattr(x, "shape", None)
        if shape is None:
            return
        spec = self.inputs[0]
        expected = tuple(spec.shape)
        got = tuple(None if d is None else int(d) for d in shape)
        ok = len(got) == len(expected) and all(
            e is None or g is None or e == g for e, g in zip(expected, got)
        )
        if not ok:
            names = axis_names(len(expected), "int" in str(spec.dtype))
            raise ValueError(
                f"Model '{self.name}' expected input of shape "
                f"`{shape_str(expected, names)}`, received `{got}`." + _shape_hint(expected, got)
            )


@keras.saving.register_keras_serializable(package="keras_lstm_patterns")
class TimeDistributed(keras.layers.TimeDistributed):
    """``keras.layers.TimeDistributed``, applying a ``Dense`` to every step in one matmul.

    A ``Dense`` on a 3-D input already acts on each step separately, with the same
    weights and the same result (up to float rounding), so this applies it directly. That is faster, and
    it avoids a Keras 3.15 fault: on an input with a fixed batch size and a free number
    of steps (every stateful sequence model), ``keras.layers.TimeDistributed`` retraced
    for a new length returns ``batch`` steps instead of ``steps``. Other wrapped layers
    go through Keras's own implementation.
    """

    def call(self, inputs: Any, training: Any = None, mask: Any = None) -> Any:
        if isinstance(self.layer, keras.layers.Dense):
            return self.layer.call(inputs)
        return super().call(inputs, training=training, mask=mask)


def _validation_y(data: Any) -> Any:
    """The target array of a ``validation_data=(x, y[, weights])`` tuple, if any."""
    if isinstance(data, tuple | list) and len(data) >= 2:
        return data[1]
    return None


def _shape_hint(expected: tuple, got: tuple) -> str:
    """The fix for this model's own sizes: ``x[..., None]`` only when it reads 1 feature."""
    if len(expected) == 3 and len(got) == 2:
        steps, features = expected[1], expected[2]
        if features == 1:
            return (
                " A recurrent layer reads `(samples, steps, features)`: reshape a single "
                "feature with `x[..., None]` (or `x.reshape(len(x), steps, 1)`)."
            )
        if features is None:
            return " A recurrent layer reads `(samples, steps, features)`: add the features axis."
        if steps is not None and got[1] == steps * features:
            return (
                f" Each row holds {got[1]} = {steps} steps x {features} features: "
                f"`x.reshape(len(x), {steps}, {features})` (if they are stored step by step)."
            )
        names = "f1, f2" if features == 2 else f"f1, ..., f{features}"
        return (
            f" A recurrent layer reads `(samples, steps, features)` and this model reads "
            f"{features} features per step, so the array needs a features axis of "
            f"{features}: stack one `(samples, steps)` array per feature, "
            f"`np.stack([{names}], axis=-1)`. (`x[..., None]` would make 1 feature, "
            f"not {features}.)"
        )
    if len(expected) == len(got) == 3 and expected[0] is not None and got[0] != expected[0]:
        return (
            f" This model is stateful with a fixed batch size of {expected[0]}; "
            "use `stateful.with_batch_size(model, n)` for another."
        )
    return ""


def _rnn(cell: str, units: int, name: str, **kwargs: Any) -> keras.layers.Layer:
    return CELLS[cell](units, name=name, **kwargs)


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
    check_choice("cell", cell, tuple(CELLS))
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
    if activation is None:
        return
    try:
        keras.activations.get(activation)
    except (ValueError, TypeError):
        fail("output_activation", "None or a Keras activation name", activation)


def _sequence_input(steps: int | None, features: int, batch_size: int | None) -> Any:
    return keras.Input(batch_shape=(batch_size, steps, features), name="steps_in")


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
    inp = _sequence_input(steps, features, batch_size)
    x = inp
    if mask_value is not None:
        x = keras.layers.Masking(mask_value=float(mask_value), name="mask")(x)
    x = _recurrent_stack(
        x, units, cell=cell, last_returns_sequences=sequences, stateful=stateful, dropout=dropout
    )
    if outputs is not None:
        dense = keras.layers.Dense(outputs, activation=output_activation, name="dense")
        x = (TimeDistributed(dense, name="head") if sequences else dense)(x)
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
        An uncompiled :class:`PatternModel` named ``many_to_one``.

    Raises:
        ValueError: an argument out of range, named with what was received.

    >>> many_to_one(5, 2, 8, outputs=1).output_shape
    (None, 1)
    """
    return _many(
        "many_to_one",
        steps,
        features,
        units,
        outputs=outputs,
        cell=cell,
        stateful=stateful,
        batch_size=batch_size,
        mask_value=mask_value,
        dropout=dropout,
        output_activation=output_activation,
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
    plain ``Dense`` on a 3-D input computes exactly the same thing). Arguments as in
    :func:`many_to_one`.

    >>> many_to_many(None, 3, [16, 8], outputs=3).output_shape
    (None, None, 3)
    """
    return _many(
        "many_to_many",
        steps,
        features,
        units,
        outputs=outputs,
        cell=cell,
        stateful=stateful,
        batch_size=batch_size,
        mask_value=mask_value,
        dropout=dropout,
        output_activation=output_activation,
    )


def one_to_many(
    features: int,
    steps: int,
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

    >>> one_to_many(12, 12, 32, outputs=1).output_shape
    (None, 12, 1)
    """
    features = check_int("features", features)
    steps = check_int("steps", steps)
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
        dense = keras.layers.Dense(outputs, activation=output_activation, name="dense")
        x = TimeDistributed(dense, name="head")(x)
    return PatternModel(inp, x, name="one_to_many")


def _to_features(
    x: Any, features: int, hidden: Sequence[int], cell: str, prefix: str, **kw: Any
) -> Any:
    """The layer that returns ``features`` per step: a recurrent layer of that width when
    there are no hidden layers (the classic picture), else a per-step ``Dense`` head."""
    if not hidden:
        return _rnn(cell, features, f"{prefix}{cell}_out", return_sequences=True, **kw)(x)
    x = _recurrent_stack(x, hidden, cell=cell, last_returns_sequences=True, prefix=prefix, **kw)
    dense = keras.layers.Dense(features, name=f"{prefix}dense")
    return TimeDistributed(dense, name=f"{prefix}head")(x)


def stateful_generator(
    features: int, *, batch_size: int = 1, units: int | Sequence[int] = (), cell: str = "lstm"
) -> PatternModel:
    """A stateful model whose output step can be fed back as the next input step.

    Input ``batch_shape=(batch_size, None, features)``, output
    ``(batch_size, steps, features)``, ``return_sequences=True`` everywhere so any number
    of steps can be fed, one at a time or many. With no ``units`` the model is one
    recurrent layer of width ``features`` (its outputs are in (-1, 1) for LSTM/GRU:
    scale the data); with hidden ``units``, stateful layers of those widths are followed
    by a linear per-step ``Dense(features)`` head. Drive it with ``stateful.generate``
    (one-to-many) or ``stateful.forecast`` (many-to-many), or train it with
    ``stateful.fit_stateful`` on ``windows.next_step`` pairs.

    >>> stateful_generator(2, batch_size=4, units=16).output_shape
    (4, None, 2)
    """
    features = check_int("features", features)
    batch_size = check_int("batch_size", batch_size)
    hidden = check_units("units", units, allow_empty=True)
    check_choice("cell", cell, tuple(CELLS))
    inp = _sequence_input(None, features, batch_size)
    x = _to_features(inp, features, hidden, cell, "", stateful=True)
    return PatternModel(inp, x, name="stateful_generator")


class Seq2Seq(NamedTuple):
    """The three models of :func:`seq2seq_autoencoder`; they share their weights."""

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

    encoder ``(batch, steps, features) -> (batch, latent)``: the ``encoder_units`` layers
    return sequences, the last layer of width ``latent`` returns only its last step.
    decoder ``(batch, latent) -> RepeatVector(steps) -> (batch, steps, features)``: the
    ``decoder_units`` layers, then a recurrent layer of width ``features`` (no
    ``decoder_units``) or a per-step linear ``Dense(features)`` head (with them).
    ``autoencoder(x)`` is ``decoder(encoder(x))`` with the same weights.

    Returns:
        ``Seq2Seq(autoencoder, encoder, decoder)``, all uncompiled.

    >>> ae = seq2seq_autoencoder(100, 6, latent=8, decoder_units=32)
    >>> ae.encoder.output_shape, ae.autoencoder.output_shape
    ((None, 8), (None, 100, 6))
    """
    steps = check_int("steps", steps)
    features = check_int("features", features)
    enc_units = check_units("encoder_units", encoder_units, allow_empty=True)
    latent = check_int("latent", latent)
    dec_units = check_units("decoder_units", decoder_units, allow_empty=True)
    check_choice("cell", cell, tuple(CELLS))

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
    ``windows.next_step(tokens)``. ``stateful=True`` with a ``batch_size`` makes the
    sampling model (feed one token at a time).

    >>> next_token_model(50, units=32).output_shape
    (None, None, 50)
    """
    vocab_size = check_int("vocab_size", vocab_size, low=2)
    embedding_dim = check_int("embedding_dim", embedding_dim)
    units = check_units("units", units)
    check_choice("cell", cell, tuple(CELLS))
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
    dense = keras.layers.Dense(vocab_size, activation="softmax", name="dense")
    x = TimeDistributed(dense, name="head")(x)
    return PatternModel(inp, x, name="next_token")
