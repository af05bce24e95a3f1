"""Training a generator on its own rollouts, so the fed-back outputs are not a surprise.

A generator trained one step ahead (teacher forcing) always reads true values; fed its
own outputs at prediction time, it meets inputs it never saw, and small errors compound
into drift. :func:`fit_closed_loop` trains it the way it is used: each training window
warms the state up on ``warmup`` true steps, then feeds the model's own outputs back for
``horizon - 1`` more steps, and the loss covers every prediction of the window
(backpropagation through the whole rollout). With ``horizon=1`` nothing is fed back and
this is ordinary one-step training.

The rollout is a plain Keras model (:func:`closed_loop_model`) that calls the
generator's own recurrent cells and head step by step, with explicit states: it shares
the generator's weights (training it trains the generator), never touches the
generator's stateful states, and trains with Keras's own ``fit`` on TensorFlow, JAX and
PyTorch alike, compiled as the generator is (Keras's convention: the caller compiles).
"""

from __future__ import annotations

from typing import Any

import keras
import numpy as np

from ._checks import as_array, check_finite, check_int, fail, old_keywords, removed
from ._compile import compile_like, is_compiled
from .layers import PatternModel
from .windows import sliding

__all__ = ["closed_loop_model", "fit_closed_loop"]


def _parts(model: Any) -> tuple[list, list, int, int]:
    """The generator's recurrent layers and head layers, and its input/output widths."""
    if not isinstance(model, keras.Model):
        fail(
            "model", "a keras.Model", shown=f"model of type {type(model).__name__}", error=TypeError
        )
    layers = [la for la in model.layers if not isinstance(la, keras.layers.InputLayer)]
    rnn = [la for la in layers if isinstance(la, keras.layers.RNN)]
    head = layers[len(rnn) :]
    simple = (
        rnn
        and layers[: len(rnn)] == rnn
        and all(la.return_sequences for la in rnn)
        and all(isinstance(getattr(la, "layer", la), keras.layers.Dense) for la in head)
        and len(model.inputs) == 1
        and len(model.input_shape) == 3
    )
    if not simple:
        fail(
            "model",
            "a generator: recurrent layers with return_sequences=True, then Dense or "
            "TimeDistributed(Dense) layers (as `stateful_generator` builds)",
            shown=f"model {model.name!r} with layers "
            + ", ".join(type(la).__name__ for la in layers),
        )
    backwards = [la.name for la in rnn if la.go_backwards]
    if backwards:
        fail(
            "model",
            "a generator that runs forwards in time (the rollout feeds each output to the "
            "next step, so `go_backwards=True` has no meaning there)",
            shown=f"model {model.name!r} with go_backwards=True in layer {backwards[0]!r}",
        )
    return (
        rnn,
        [getattr(la, "layer", la) for la in head],
        model.input_shape[-1],
        model.output_shape[-1],
    )


class ClosedLoop(keras.layers.Layer):
    """Run a generator's cells step by step: true inputs for ``warmup`` steps, then its
    own outputs (beside the true known-future inputs), returning every prediction."""

    def __init__(self, cells: list, head: list, warmup: int, width: int, **kwargs: Any):
        super().__init__(**kwargs)
        self.cells, self.head = cells, head
        self.warmup, self.width = warmup, width

    def call(self, inputs: Any) -> Any:
        batch = keras.ops.shape(inputs)[0]
        states = [cell.get_initial_state(batch) for cell in self.cells]
        outputs, previous = [], None
        for t in range(inputs.shape[1]):
            step = inputs[:, t, :]
            if t >= self.warmup:  # feed back: own output, then the known covariates
                step = keras.ops.concatenate([previous, step[:, self.width :]], axis=-1)
            for k, cell in enumerate(self.cells):
                step, new = cell(step, states[k])
                states[k] = new if isinstance(new, list | tuple) else [new]
            for layer in self.head:
                step = layer(step)
            outputs.append(step)
            previous = step
        return keras.ops.stack(outputs, axis=1)


def closed_loop_model(model: keras.Model, warmup: int, horizon: int) -> PatternModel:
    """A model that rolls ``model`` out over a window, sharing its weights.

    It reads a window's first ``warmup + horizon - 1`` true steps
    ``(batch, warmup + horizon - 1, input features)`` and returns the generator's
    prediction of each next step, ``(batch, warmup + horizon - 1, output features)``:
    predictions ``0 .. warmup - 1`` come from true inputs, the rest from its own fed-back
    outputs (and the true values of the extra input features, the covariates known
    ahead). Train it against ``window[:, 1:, :output features]``.

    Args:
        model: a generator, e.g. ``stateful_generator(features, units=...)``; its
            input width is its output width plus the number of covariates.
        warmup: true steps before the feedback starts, at least 1.
        horizon: predictions made from the end of the warm-up: 1 for no feedback.

    Returns:
        An uncompiled :class:`PatternModel` whose weights are ``model``'s.

    Raises:
        ValueError: ``model`` is not a generator of that form, or a size is out of range.

    >>> from keras_lstm_patterns import stateful_generator
    >>> loop = closed_loop_model(stateful_generator(2, units=8), warmup=5, horizon=4)
    >>> loop.input_shape, loop.output_shape
    ((None, 8, 2), (None, 8, 2))
    """
    rnn, head, f_in, f_out = _parts(model)
    warmup = check_int("warmup", warmup)
    horizon = check_int("horizon", horizon)
    if f_in < f_out:
        fail(
            "model",
            "a generator whose input width is its output width plus the covariates",
            shown=f"input width {f_in}, output width {f_out}",
        )
    steps = warmup + horizon - 1
    inp = keras.Input((steps, f_in), name="window_in")
    loop = ClosedLoop([la.cell for la in rnn], head, warmup, f_out, name="closed_loop")
    return PatternModel(inp, loop(inp), name=f"closed_loop_{model.name}")


_COMPILE_THE_GENERATOR = removed(
    "the rollout trains with the generator's own compile settings; compile the "
    "generator: model.compile(optimizer=..., loss=...)"
)


@old_keywords(optimizer=_COMPILE_THE_GENERATOR, loss=_COMPILE_THE_GENERATOR)
def fit_closed_loop(
    model: keras.Model,
    sequences: Any,
    *,
    warmup: int,
    horizon: int,
    epochs: int,
    batch_size: int = 32,
    stride: int = 1,
    **fit_kwargs: Any,
) -> keras.callbacks.History:
    """Train a generator on windows of its own rollouts (backpropagation through them).

    Every window of ``warmup + horizon`` steps of ``sequences`` (never across two
    sequences) is one sample: the model reads ``warmup`` true steps, then its own
    outputs for the rest, and the loss compares every prediction with the true next
    step. The generator's weights are trained in place; its stateful states are left
    alone (reset them before using it). The rollout model is compiled as ``model`` is:
    the same loss and metrics, a new optimizer of the same class and configuration.

    Args:
        model: a compiled generator (``stateful_generator``, then
            ``model.compile(optimizer=..., loss=...)``); input width = output width + K
            covariates, whose true values are read at every step.
        sequences: ``(N, T, input features)``: each row a whole sequence; the first
            ``output features`` columns are what the model predicts and feeds back.
        warmup: true steps read before the feedback starts.
        horizon: predictions from the end of the warm-up; 1 is teacher forcing.
        epochs, batch_size: as in ``model.fit`` (samples are windows, shuffled).
        stride: steps between the starts of two windows of one sequence.
        **fit_kwargs: more ``model.fit`` arguments (``verbose``, ``callbacks``,
            ``validation_split`` ...).

    Returns:
        The ``History`` of the rollout model's ``fit``.

    Raises:
        ValueError: ``model`` is not a generator (or runs backwards in time) or is not
            compiled; ``sequences`` empty, of the wrong shape, holding NaN or inf, or
            too short for one window; ``warmup``, ``horizon``, ``epochs``,
            ``batch_size`` or ``stride`` out of range.
        TypeError: ``optimizer=`` or ``loss=`` (removed: compile the generator).

    >>> import numpy as np
    >>> from keras_lstm_patterns import stateful_generator
    >>> gen = stateful_generator(1, units=4)
    >>> gen.compile(optimizer="adam", loss="mse")
    >>> waves = np.sin(np.arange(40.0) / 4)[None, :, None]
    >>> h = fit_closed_loop(gen, waves, warmup=8, horizon=6, epochs=1, verbose=0)
    >>> len(h.history["loss"])
    1
    """
    *_, f_in, f_out = _parts(model)
    if not is_compiled(model):
        fail(
            "model",
            "a compiled generator: the rollout trains with its compile settings; call "
            "model.compile(optimizer=..., loss=...) first",
            shown=f"model {model.name!r}, not compiled",
        )
    arr = as_array("sequences", sequences)
    if arr.ndim != 3 or arr.shape[-1] != f_in:
        fail(
            "sequences",
            f"`(N, steps, features={f_in})`, whole sequences of the model's inputs",
            shown=f"sequences with shape {arr.shape}",
        )
    if arr.shape[0] == 0:
        fail(
            "sequences",
            "at least one sequence, `(N >= 1, steps, features)`",
            shown=f"sequences with shape {arr.shape}",
        )
    check_finite("sequences", arr)
    length = arr.shape[1]
    warmup = check_int(
        "warmup",
        warmup,
        high=length - 1,
        context=f" for sequences of {length} steps (the rollout needs a step after it)",
    )
    horizon = check_int(
        "horizon",
        horizon,
        high=length - warmup,
        context=f" for sequences of {length} steps and warmup={warmup}",
    )
    epochs = check_int("epochs", epochs)
    batch_size = check_int("batch_size", batch_size)
    stride = check_int("stride", stride)
    span = warmup + horizon
    cut = np.concatenate([sliding(seq, span, stride=stride) for seq in arr]).astype("float32")
    loop = closed_loop_model(model, warmup, horizon)
    compile_like(model, loop)
    return loop.fit(
        cut[:, :-1], cut[:, 1:, :f_out], epochs=epochs, batch_size=batch_size, **fit_kwargs
    )
