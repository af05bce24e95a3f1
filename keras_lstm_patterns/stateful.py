"""Stateful recurrent models done right in Keras 3.

With ``stateful=True`` a recurrent layer starts each batch from the state the previous
batch left: row i of a batch continues row i of the previous batch. That needs a fixed
batch size, no shuffling, and a reset between independent sequences. Keras 3 removed
``Model.reset_states()``, keeps the state across ``fit`` epochs, accepts
``fit(shuffle=True)`` silently, and broadcasts a short last batch into the state instead
of failing. This module gives the missing pieces: resets, snapshots, a batch-size change,
a ``fit`` that respects the rules, chunked prediction, and feedback loops (``generate``,
``forecast``) that run as one compiled program instead of one Python call per step.
They give the same results on the TensorFlow, JAX and PyTorch backends (``_carry``
explains how the states are carried where Keras does not), and refuse a model built
under a distribution strategy with more than one replica.
"""

from __future__ import annotations

import weakref
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import keras
import numpy as np

from . import _carry
from ._checks import check_int, fail
from .explain import flat_layers
from .windows import stateful_chunks

__all__ = [
    "ResetStates",
    "fit_stateful",
    "forecast",
    "generate",
    "get_states",
    "load_states",
    "predict_chunks",
    "reset_states",
    "save_states",
    "set_states",
    "stateful_layers",
    "with_batch_size",
]


def stateful_layers(model: keras.Model) -> list[keras.layers.Layer]:
    """Every stateful recurrent layer of ``model``, nested models included, in order."""
    return [
        layer
        for layer in flat_layers(model)
        if isinstance(layer, keras.layers.RNN) and layer.stateful
    ]


def _require_stateful(model: Any) -> list[keras.layers.Layer]:
    if not isinstance(model, keras.Model):
        fail("model", "a keras.Model", None, shown=f"model of type {type(model).__name__}")
    layers = stateful_layers(model)
    if not layers:
        fail(
            "model",
            "a model with a stateful recurrent layer (stateful=True and a fixed batch size)",
            model.name,
            shown=f"model {model.name!r} with no stateful layer",
        )
    return layers


def _replicas(model: keras.Model) -> int:
    """How many replicas the model's distribution strategy trains on (1 without one)."""
    strategy = getattr(model, "distribute_strategy", None)  # TensorFlow only
    return int(getattr(strategy, "num_replicas_in_sync", 1) or 1)


def _refuse_replicas(model: keras.Model, what: str) -> None:
    replicas = _replicas(model)
    if replicas > 1:
        fail(
            "model",
            f"built outside a distribution strategy for {what}: under a strategy with "
            f"{replicas} replicas each replica receives a slice of every batch while a "
            "stateful layer's states hold the whole batch, so row i would not continue "
            "row i; train stateful models on one device (or give each worker its own "
            "sequences and model)",
            model.name,
            shown=f"model {model.name!r} under {type(model.distribute_strategy).__name__} "
            f"with {replicas} replicas",
        )


def _fixed_batch(model: keras.Model) -> int:
    batch = model.input_shape[0]
    if batch is None:
        fail(
            "model",
            "built with a fixed batch size (keras.Input(batch_shape=...))",
            model.name,
            shown=f"model {model.name!r} with input shape {model.input_shape}",
        )
    return int(batch)


def reset_states(model: keras.Model) -> int:
    """Zero the state of every stateful recurrent layer (Keras 3 models lost this method).

    Returns:
        How many layers were reset (0 for a model with no stateful layer).
    """
    layers = stateful_layers(model)
    for layer in layers:
        layer.reset_state()
    return len(layers)


def get_states(model: keras.Model) -> list[list[np.ndarray]]:
    """Snapshot the states: one entry per stateful layer, a list of ``(batch, units)`` arrays
    (two for an LSTM, ``h`` and ``c``; one for GRU and SimpleRNN)."""
    out = []
    for layer in _require_stateful(model):
        if layer.states is None or layer.states[0] is None:
            layer.reset_state()
        out.append([np.array(keras.ops.convert_to_numpy(s)) for s in layer.states])
    return out


def set_states(model: keras.Model, states: Sequence[Sequence[np.ndarray]]) -> None:
    """Restore states taken by :func:`get_states` (same layers, same batch size)."""
    layers = _require_stateful(model)
    if len(states) != len(layers):
        fail(
            "states",
            f"one entry per stateful layer ({len(layers)})",
            None,
            shown=f"{len(states)} entries",
        )
    for layer, values in zip(layers, states):
        if layer.states is None or layer.states[0] is None:
            layer.reset_state()
        if len(values) != len(layer.states):
            fail(
                "states",
                f"{len(layer.states)} arrays for layer {layer.name!r}",
                None,
                shown=f"{len(values)} arrays",
            )
        for var, value in zip(layer.states, values):
            value = np.asarray(value)
            if tuple(value.shape) != tuple(var.shape):
                fail(
                    "states",
                    f"arrays of shape {tuple(var.shape)} `(batch, units)` for layer {layer.name!r}",
                    None,
                    shown=f"shape {value.shape}",
                )
            var.assign(value.astype(var.dtype))


def save_states(model: keras.Model, path: str | Path) -> Path:
    """Write the states to an ``.npz`` file beside a saved model (``model.save`` drops them)."""
    path = Path(path)
    arrays = {
        f"{i}__{j}": value
        for i, values in enumerate(get_states(model))
        for j, value in enumerate(values)
    }
    np.savez(path, **arrays)
    return path if path.suffix == ".npz" else path.with_name(path.name + ".npz")


def load_states(model: keras.Model, path: str | Path) -> None:
    """Read states written by :func:`save_states` into ``model``."""
    with np.load(Path(path)) as data:
        keys = sorted(data.files, key=lambda k: tuple(int(p) for p in k.split("__")))
        grouped: dict[int, list[np.ndarray]] = {}
        for key in keys:
            grouped.setdefault(int(key.split("__")[0]), []).append(data[key])
    set_states(model, [grouped[i] for i in sorted(grouped)])


def _with_batch(shape: Any, batch_size: int | None) -> Any:
    if isinstance(shape, list | tuple) and shape and isinstance(shape[0], list | tuple):
        return [_with_batch(s, batch_size) for s in shape]
    return [batch_size, *list(shape)[1:]] if isinstance(shape, list | tuple) and shape else shape


def _set_batch(config: Any, batch_size: int | None) -> None:
    """Set the batch axis everywhere a (nested) functional config records a shape: input
    layers, the symbolic tensors between layers, and each layer's build shape."""
    if isinstance(config, dict):
        name = config.get("class_name")
        if name == "InputLayer":
            config["config"]["batch_shape"] = _with_batch(
                config["config"]["batch_shape"], batch_size
            )
        elif name == "__keras_tensor__":
            config["config"]["shape"] = _with_batch(config["config"]["shape"], batch_size)
        build = config.get("build_config")
        if isinstance(build, dict) and "input_shape" in build:
            build["input_shape"] = _with_batch(build["input_shape"], batch_size)
        for value in config.values():
            _set_batch(value, batch_size)
    elif isinstance(config, list):
        for value in config:
            _set_batch(value, batch_size)


def with_batch_size(model: keras.Model, batch_size: int | None) -> keras.Model:
    """The same architecture and weights with another fixed batch size.

    Train with 32 parallel streams, then predict one stream with batch size 1. The new
    model starts from zero state; ``None`` gives a model with a free batch size (only
    meaningful for non-stateful models).

    >>> from keras_lstm_patterns import stateful_generator
    >>> with_batch_size(stateful_generator(2, batch_size=32), 1).input_shape
    (1, None, 2)
    """
    if not isinstance(model, keras.Model):
        fail("model", "a keras.Model", None, shown=f"model of type {type(model).__name__}")
    if batch_size is not None:
        batch_size = check_int("batch_size", batch_size)
    if batch_size is None and stateful_layers(model):
        fail("batch_size", "a positive integer for a stateful model", batch_size)
    config = model.get_config()
    _set_batch(config, batch_size)
    clone = model.__class__.from_config(config)
    clone.set_weights(model.get_weights())
    return clone


class ResetStates(keras.callbacks.Callback):
    """Reset the stateful layers at the start of every epoch, and every ``every`` batches.

    ``fit_stateful`` adds it; use it directly in your own ``fit`` calls.
    """

    def __init__(self, every: int | None = None) -> None:
        super().__init__()
        self.every = every

    def on_epoch_begin(self, epoch: int, logs: Any = None) -> None:
        reset_states(self.model)

    def on_train_batch_begin(self, batch: int, logs: Any = None) -> None:
        if self.every and batch % self.every == 0 and batch > 0:
            _carry.sync_before_reset(self.model)
            reset_states(self.model)


class _Chunks(keras.utils.PyDataset):
    """Batches ``x[group, chunk]`` in time order, one group of ``batch`` rows after another."""

    def __init__(self, x: np.ndarray, y: np.ndarray | None, batch: int, chunk: int) -> None:
        super().__init__()
        self.x = [stateful_chunks(x[g : g + batch], chunk) for g in range(0, len(x), batch)]
        self.y = (
            None
            if y is None
            else [stateful_chunks(y[g : g + batch], chunk) for g in range(0, len(y), batch)]
        )
        self.per_group = len(self.x[0])

    def __len__(self) -> int:
        return len(self.x) * self.per_group

    def __getitem__(self, i: int) -> Any:
        g, c = divmod(i, self.per_group)
        xb = np.ascontiguousarray(self.x[g][c], dtype="float32")
        if self.y is None:
            return (xb,)
        return xb, np.ascontiguousarray(self.y[g][c], dtype="float32")

    def as_input(self) -> Any:
        """What ``fit`` should read. On TensorFlow a ``tf.data`` pipeline with a free time
        axis: Keras infers a PyDataset's signature from its first two batches, and a
        shorter last chunk would not fit it."""
        if keras.backend.backend() != "tensorflow":
            return self
        import tensorflow as tf

        def spec(a: np.ndarray) -> Any:
            return tf.TensorSpec((a.shape[0], None, *a.shape[2:]), tf.float32)

        first = self[0]
        signature = tuple(spec(a) for a in first)
        return tf.data.Dataset.from_generator(
            lambda: (self[i] for i in range(len(self))), output_signature=signature
        ).apply(tf.data.experimental.assert_cardinality(len(self)))


def fit_stateful(
    model: keras.Model,
    x: Any,
    y: Any = None,
    *,
    epochs: int,
    batch_size: int,
    chunk: int | None = None,
    callbacks: Sequence[keras.callbacks.Callback] = (),
    **fit_kwargs: Any,
) -> keras.callbacks.History:
    """``model.fit`` for a stateful model: reset each epoch, never shuffle, whole batches.

    Without ``chunk``, ``x`` holds samples in the order the state should flow (row i of
    batch k+1 continues row i of batch k); the state is reset at the start of every
    epoch. With ``chunk``, ``x`` (and ``y``) are whole sequences ``(N, T, features)``:
    each group of ``batch_size`` sequences is cut along time into ``chunk``-step
    batches (``windows.stateful_chunks``) that are fed in order, and the state is reset
    before every group and every epoch, so ``N`` may be larger than the batch.

    Args:
        model: a compiled model with stateful layers and fixed batch size ``batch_size``.
        x, y: inputs and targets (``y`` may be None for models that need none).
        epochs: passes over the data.
        batch_size: must equal the model's fixed batch size and divide the sample count.
        chunk: steps per batch when ``x`` holds whole sequences.
        callbacks: more Keras callbacks.
        **fit_kwargs: passed to ``model.fit`` (``shuffle=True`` is refused).

    Returns:
        The ``History`` of one ``model.fit`` call.

    Raises:
        ValueError: ``shuffle=True``, a batch size the model was not built with, a sample
            count that is not a multiple of ``batch_size``, a model with no stateful layer.
    """
    layers = _require_stateful(model)
    _refuse_replicas(model, "fit_stateful")
    epochs = check_int("epochs", epochs)
    batch_size = check_int("batch_size", batch_size)
    fixed = _fixed_batch(model)
    if fit_kwargs.get("shuffle", False):
        fail(
            "shuffle",
            "False for a stateful model (shuffling breaks row i of each batch continuing "
            "row i of the previous one)",
            fit_kwargs["shuffle"],
        )
    for key in ("validation_split", "steps_per_epoch"):
        if fit_kwargs.get(key):
            fail(key, "unset for fit_stateful (it would cut the sequences)", fit_kwargs[key])
    fit_kwargs.pop("shuffle", None)
    if batch_size != fixed:
        fail(
            "batch_size",
            f"the model's fixed batch size {fixed} (use stateful.with_batch_size to change it)",
            batch_size,
        )
    x = np.asarray(x)
    n = len(x)
    if n % batch_size:
        fail(
            "batch_size",
            f"a divisor of the number of samples: {n} samples do not split into batches of "
            f"{batch_size} (the last batch would be broadcast into the state, keras#21183); "
            f"use {n - n % batch_size} or {n + batch_size - n % batch_size} samples",
            batch_size,
        )
    if y is not None:
        y = np.asarray(y)
        if len(y) != n:
            fail("y", f"as many samples as x ({n})", None, shown=f"y with {len(y)} samples")
    cbs = list(callbacks)
    if chunk is None:
        cbs.insert(0, ResetStates())
        data, fit_args = x, {"y": y, "batch_size": batch_size}
    else:
        if x.ndim != 3:
            fail(
                "x",
                "whole sequences `(samples, steps, features)` with chunk=",
                None,
                shown=f"x with shape {x.shape}",
            )
        chunks = _Chunks(x, y, batch_size, check_int("chunk", chunk, high=x.shape[1]))
        cbs.insert(0, ResetStates(every=chunks.per_group))
        data, fit_args = chunks.as_input(), {}
    with _carry.carried_in_fit(model, layers):
        return model.fit(
            data, epochs=epochs, shuffle=False, callbacks=cbs, **fit_args, **fit_kwargs
        )


# --- compiled feedback loops -------------------------------------------------------------

_LOOPS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def _rollout_fn(model: keras.Model) -> Any:
    """One compiled program: run a prefix, then feed each output back ``n`` times."""
    fn = _LOOPS.get(model)
    if fn is not None:
        return fn
    import tensorflow as tf

    ref = weakref.ref(model)  # the cache must not keep the model alive

    def last_step(y: Any) -> Any:
        return y[:, -1, :] if len(y.shape) == 3 else y

    @tf.function(reduce_retracing=True)
    def rollout(prefix: Any, n: Any) -> Any:
        m = ref()
        first = last_step(m(prefix, training=False))
        out = tf.TensorArray(first.dtype, size=n)
        out = out.write(0, first)
        step = first
        for i in tf.range(1, n):
            step = last_step(m(step[:, None, :], training=False))
            out = out.write(i, step)
        return tf.transpose(out.stack(), [1, 0, 2])

    _LOOPS[model] = rollout
    return rollout


def _check_feedback(model: keras.Model, name: str, data: Any, steps: int) -> np.ndarray:
    _require_stateful(model)
    _refuse_replicas(model, "generate and forecast")
    batch = _fixed_batch(model)
    in_shape, out_shape = model.input_shape, model.output_shape
    if len(in_shape) != 3:
        fail(
            "model",
            "a model that reads `(batch, steps, features)`",
            None,
            shown=f"input shape {in_shape}",
        )
    if out_shape[-1] != in_shape[-1]:
        fail(
            "model",
            "a model whose output width equals its input width, so an output step can be "
            "fed back as the next input",
            None,
            shown=f"input features={in_shape[-1]}, output features={out_shape[-1]}",
        )
    arr = np.asarray(data, dtype="float32")
    if arr.ndim != 3 or arr.shape[-1] != in_shape[-1]:
        fail(
            name,
            f"of shape `(batch={batch}, steps, features={in_shape[-1]})`",
            None,
            shown=f"shape {arr.shape}",
        )
    if arr.shape[0] != batch:
        fail(
            name,
            f"a batch of the model's fixed batch size {batch} (use "
            "stateful.with_batch_size(model, n) for another)",
            None,
            shown=f"batch size {arr.shape[0]}",
        )
    if in_shape[1] is not None and arr.shape[1] != in_shape[1]:
        fail(
            name,
            f"{in_shape[1]} steps long (the model's fixed steps)",
            None,
            shown=f"shape {arr.shape}",
        )
    check_int("steps", steps)
    if not np.isfinite(arr).all():
        fail(name, "finite (no NaN or inf)", None, shown=f"{name} with non-finite values")
    return arr


def generate(model: keras.Model, first_step: Any, steps: int) -> np.ndarray:
    """One-to-many by feedback: reset, feed ``first_step``, feed each output back.

    Args:
        model: a stateful model, ``(batch, 1, features) -> (batch, 1, features)``, e.g.
            from ``stateful_generator``.
        first_step: ``(batch, 1, features)`` with ``batch`` the model's batch size.
        steps: how many outputs to produce.

    Returns:
        ``(batch, steps, features)``: the outputs in order; output k was fed back as
        input k+1. Equal to the hand loop ``y = model.predict_on_batch(y)`` but run as
        one compiled program. The state is left where the loop ended.
    """
    arr = _check_feedback(model, "first_step", first_step, steps)
    if arr.shape[1] != 1:
        fail(
            "first_step", "one step long, `(batch, 1, features)`", None, shown=f"shape {arr.shape}"
        )
    return _run_rollout(model, arr, steps)


def forecast(model: keras.Model, history: Any, steps: int) -> np.ndarray:
    """Many-to-many forecasting: reset, run ``history`` to set the state, then roll out.

    The model's output at the last history step is the first new step; each new step is
    fed back to produce the next.

    Args:
        model: a stateful model trained to predict the next step,
            ``(batch, T, features) -> (batch, T, features)``.
        history: the known steps, ``(batch, T, features)``.
        steps: how many new steps to produce.

    Returns:
        ``(batch, steps, features)``, the new steps only.
    """
    arr = _check_feedback(model, "history", history, steps)
    return _run_rollout(model, arr, steps)


def _run_rollout(model: keras.Model, prefix: np.ndarray, steps: int) -> np.ndarray:
    reset_states(model)
    if keras.backend.backend() == "tensorflow":
        return np.asarray(_rollout_fn(model)(prefix, np.int32(steps)))
    return _carry.rollout(model, stateful_layers(model), prefix, steps)


def predict_chunks(model: keras.Model, sequences: Any, chunk: int) -> np.ndarray:
    """Predict whole sequences through a stateful model, ``chunk`` steps per call.

    Takes the sequences ``batch`` at a time (the model's fixed batch size), in order:
    resets, then feeds that group's ``windows.stateful_chunks(group, chunk)`` so each
    call continues the state the previous one left. The result equals running each
    whole sequence at once from zero state. This is the prediction a stateful model is
    built for (a stream arriving in pieces), and it carries the states on every backend
    (Keras's own ``predict`` does not on JAX). The states are left where the last
    group's last chunk ended.

    Args:
        model: a stateful model with a free or ``chunk``-compatible steps axis.
        sequences: ``(N, T, features)`` with ``N`` a multiple of the model's batch size.
        chunk: steps per call (the last call may be shorter).

    Returns:
        ``(N, T, outputs)`` for a model that returns sequences, or ``(N, outputs)``: the
        output of each group's last call, for one that does not.
    """
    layers = _require_stateful(model)
    _refuse_replicas(model, "predict_chunks")
    batch = _fixed_batch(model)
    arr = np.asarray(sequences, dtype="float32")
    if arr.ndim != 3 or arr.shape[0] == 0 or arr.shape[0] % batch:
        fail(
            "sequences",
            f"of shape `(N, steps, features)` with N a multiple of {batch} (the model's "
            "fixed batch size)",
            None,
            shown=f"shape {arr.shape}",
        )
    chunk = check_int("chunk", chunk, high=arr.shape[1])
    groups = []
    for start in range(0, arr.shape[0], batch):
        reset_states(model)
        parts = stateful_chunks(arr[start : start + batch], chunk)
        if keras.backend.backend() == "tensorflow":
            outs = [np.asarray(model.predict_on_batch(p)) for p in parts]
        else:
            outs = [_carry.call_with_states(model, layers, p) for p in parts]
        groups.append(np.concatenate(outs, axis=1) if outs[0].ndim == 3 else outs[-1])
    return np.concatenate(groups, axis=0)
