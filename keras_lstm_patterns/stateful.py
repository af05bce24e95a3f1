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

import os
import weakref
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import keras
import numpy as np

from . import _carry
from ._checks import check_finite, check_int, check_optional_int, fail
from ._files import atomic_write
from .explaining import flat_layers
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
    "step",
    "with_batch_size",
]


def stateful_layers(model: keras.Model) -> list[keras.layers.Layer]:
    """Every stateful recurrent layer of ``model``, nested models included, in order."""
    return [
        layer
        for layer in flat_layers(model)
        if isinstance(layer, keras.layers.RNN) and layer.stateful
    ]


def _require_model(model: Any) -> keras.Model:
    if not isinstance(model, keras.Model):
        fail(
            "model",
            "a keras.Model",
            model,
            shown=f"model of type {type(model).__name__}",
            error=TypeError,
        )
    return model


def _real_array(name: str, value: Any, *, dtype: str | None = None) -> np.ndarray:
    """``value`` as an array of finite real numbers, refused by name otherwise (no object,
    string, bool or complex values; NaN and inf are named by position)."""
    if value is None or isinstance(value, str | bytes | dict):
        fail(
            name,
            "an array of real numbers",
            value,
            shown=f"{name} of type {type(value).__name__}",
            error=TypeError,
        )
    try:
        arr = np.asarray(value)
    except (TypeError, ValueError):
        fail(
            name,
            "an array of real numbers",
            value,
            shown=f"{name} of type {type(value).__name__}",
            error=TypeError,
        )
    if not (np.issubdtype(arr.dtype, np.integer) or np.issubdtype(arr.dtype, np.floating)):
        fail(
            name,
            "real numbers (integer or float)",
            value,
            shown=f"{name} with dtype {arr.dtype}",
            error=TypeError,
        )
    check_finite(name, arr)
    if dtype is None:
        return arr
    with np.errstate(over="ignore"):
        cast = arr.astype(dtype, copy=False)
    if cast is not arr and np.issubdtype(cast.dtype, np.floating) and not np.isfinite(cast).all():
        bad = tuple(int(i) for i in np.argwhere(~np.isfinite(cast))[0])
        fail(
            name,
            f"values that {dtype} can hold (magnitude below {float(np.finfo(dtype).max):.3g})",
            None,
            shown=f"{name}[{', '.join(map(str, bad))}]={arr[bad].item()!r}",
        )
    return cast


def _require_stateful(model: Any) -> list[keras.layers.Layer]:
    _require_model(model)
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

    Raises:
        TypeError: ``model`` is not a ``keras.Model``.
    """
    layers = stateful_layers(_require_model(model))
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


def _states_of(layer: keras.layers.Layer) -> list[Any]:
    """The layer's state variables, created (as zeros) if the layer has not run yet."""
    if layer.states is None or layer.states[0] is None:
        layer.reset_state()
    return list(layer.states)


def set_states(model: keras.Model, states: Sequence[Sequence[np.ndarray]]) -> None:
    """Restore states taken by :func:`get_states` (same layers, same batch size).

    Every value is checked (count, shape, real and finite) before any is written, so a
    refused call leaves every layer's states as they were.

    Raises:
        TypeError: ``states`` is not a list of lists of arrays, or holds non-numbers.
        ValueError: a wrong number of entries or arrays, a wrong shape, NaN or inf.
    """
    layers = _require_stateful(model)
    rule = "a list with one list of `(batch, units)` arrays per stateful layer"
    if not isinstance(states, list | tuple):
        fail(
            "states",
            rule + " (as get_states returns)",
            states,
            shown=f"states of type {type(states).__name__}",
            error=TypeError,
        )
    if len(states) != len(layers):
        fail(
            "states",
            f"one entry per stateful layer ({len(layers)})",
            None,
            shown=f"{len(states)} entries",
        )
    checked = []
    for i, (layer, values) in enumerate(zip(layers, states)):
        variables = _states_of(layer)
        if not isinstance(values, list | tuple):
            fail(
                f"states[{i}]",
                f"a list of arrays for layer {layer.name!r}",
                values,
                shown=f"states[{i}] of type {type(values).__name__}",
                error=TypeError,
            )
        if len(values) != len(variables):
            fail(
                "states",
                f"{len(variables)} arrays for layer {layer.name!r}",
                None,
                shown=f"{len(values)} arrays",
            )
        for j, (var, value) in enumerate(zip(variables, values)):
            arr = _real_array(f"states[{i}][{j}]", value)
            if tuple(arr.shape) != tuple(var.shape):
                fail(
                    "states",
                    f"arrays of shape {tuple(var.shape)} `(batch, units)` for layer {layer.name!r}",
                    None,
                    shown=f"shape {arr.shape} at states[{i}][{j}]",
                )
            checked.append((var, arr.astype(var.dtype)))
    for var, arr in checked:
        var.assign(arr)


def _check_path(path: Any) -> Path:
    if not isinstance(path, str | os.PathLike):
        fail(
            "path",
            "a file path (str or pathlib.Path)",
            path,
            shown=f"path of type {type(path).__name__}",
            error=TypeError,
        )
    path = Path(path)
    if path.name in ("", ".", ".."):
        fail("path", "a file name, not a folder", str(path))
    return path


def save_states(model: keras.Model, path: str | Path, *, overwrite: bool = True) -> Path:
    """Write the states to an ``.npz`` file beside a saved model (``model.save`` drops them).

    ``.npz`` is appended to a name without it. As ``model.save`` does, an existing file is
    replaced by default; with ``overwrite=False`` it is refused (``model.save`` asks on
    the terminal instead). The file is written under a temporary name in the same folder
    and renamed, so a failure leaves the old file, or none, never a partial one.

    Returns:
        The path written.

    Raises:
        TypeError: ``path`` is not a str or ``pathlib.Path`` (``None``, a file object).
        ValueError: ``path`` is a folder, its folder does not exist, or it exists and
            ``overwrite=False``.
    """
    path = _check_path(path)
    if not isinstance(overwrite, bool | np.bool_):
        fail(
            "overwrite",
            "True or False",
            overwrite,
            shown=f"overwrite of type {type(overwrite).__name__}",
            error=TypeError,
        )
    final = path if path.suffix.lower() == ".npz" else path.with_name(path.name + ".npz")
    for candidate in (path, final):
        if candidate.is_dir():
            fail("path", "a file name, not a folder", str(candidate))
    path = final
    if not path.parent.is_dir():
        fail(
            "path",
            "in an existing folder",
            str(path),
            shown=f"path={str(path)!r} (no folder {str(path.parent)!r})",
        )
    if path.exists() and not overwrite:
        fail(
            "path",
            "a new file with overwrite=False (pass overwrite=True to replace it)",
            str(path),
        )
    arrays = {
        f"{i}__{j}": value
        for i, values in enumerate(get_states(model))
        for j, value in enumerate(values)
    }
    return atomic_write(path, lambda f: np.savez(f, **arrays))


def load_states(model: keras.Model, path: str | Path) -> None:
    """Read states written by :func:`save_states` into ``model``.

    Raises:
        TypeError: ``path`` is not a str or ``pathlib.Path``.
        ValueError: ``path`` is missing, is not an ``.npz`` file written by
            :func:`save_states`, or holds states that do not fit ``model``; nothing is
            written then.
    """
    path = _check_path(path)
    _require_stateful(model)
    if not path.is_file():
        fail("path", "an existing .npz file written by save_states", str(path))
    rule = "an .npz file written by save_states (arrays named '<layer>__<state>')"
    try:
        data = np.load(path, allow_pickle=False)
    except (OSError, ValueError, EOFError):
        fail("path", rule, str(path), shown=f"path={str(path)!r}, which numpy cannot read as .npz")
    if not isinstance(data, np.lib.npyio.NpzFile):
        fail("path", rule, str(path), shown=f"path={str(path)!r}, a single array (.npy)")
    with data:
        keys = list(data.files)
        parsed = []
        for key in keys:
            parts = key.split("__")
            if len(parts) != 2 or not all(part.isdigit() for part in parts):
                fail(
                    "path", rule, str(path), shown=f"path={str(path)!r} with an array named {key!r}"
                )
            parsed.append((int(parts[0]), int(parts[1]), key))
        grouped: dict[int, list[tuple[int, str]]] = {}
        for i, j, key in sorted(parsed):
            grouped.setdefault(i, []).append((j, key))
        if sorted(grouped) != list(range(len(grouped))) or any(
            [j for j, _ in v] != list(range(len(v))) for v in grouped.values()
        ):
            fail(
                "path",
                rule + " numbered from 0 without gaps",
                str(path),
                shown=f"path={str(path)!r} with arrays {sorted(keys)}",
            )
        try:
            states = [[data[key] for _, key in grouped[i]] for i in sorted(grouped)]
        except (OSError, ValueError) as err:
            fail("path", rule, str(path), shown=f"path={str(path)!r} ({err})")
    try:
        set_states(model, states)
    except (TypeError, ValueError) as err:
        fail("path", "states that fit the model", str(path), shown=f"path={str(path)!r}: {err}")


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
    meaningful for non-stateful models). A compiled model gives a compiled clone: the
    same loss, metrics and settings, and a new optimizer of the same configuration
    (its step count and moments start afresh).

    >>> from keras_lstm_patterns import stateful_generator
    >>> with_batch_size(stateful_generator(2, batch_size=32), 1).input_shape
    (1, None, 2)
    """
    _require_model(model)
    if batch_size is not None:
        batch_size = check_int("batch_size", batch_size)
    if batch_size is None and stateful_layers(model):
        fail("batch_size", "a positive integer for a stateful model", batch_size)
    config = model.get_config()
    _set_batch(config, batch_size)
    clone = model.__class__.from_config(config)
    clone.set_weights(model.get_weights())
    _recompile(model, clone)
    return clone


def _recompile(model: keras.Model, clone: keras.Model) -> None:
    """Compile ``clone`` as ``model`` was compiled, with its own optimizer and metrics."""
    if not getattr(model, "compiled", False) or not hasattr(model, "_compile_config"):
        return
    try:  # fresh objects from the serialized settings, as keras.models.load_model does
        clone.compile_from_config(model.get_compile_config())
    except (TypeError, ValueError):  # a loss or metric Keras cannot serialize: reuse it
        settings = dict(model._compile_config.config)
        optimizer = model.optimizer
        settings["optimizer"] = optimizer.__class__.from_config(optimizer.get_config())
        clone.compile(**settings)


class ResetStates(keras.callbacks.Callback):
    """Reset the stateful layers at the start of every epoch, and every ``every`` batches.

    ``fit_stateful`` adds it; use it directly in your own ``fit`` calls.

    Raises:
        ValueError: ``every`` is not None or a positive integer.
    """

    def __init__(self, every: int | None = None) -> None:
        super().__init__()
        self.every = check_optional_int("every", every)

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
        self.arrays = (x, y, batch, chunk)

    def __len__(self) -> int:
        return len(self.x) * self.per_group

    def __getitem__(self, i: int) -> Any:
        g, c = divmod(i, self.per_group)
        xb = np.ascontiguousarray(self.x[g][c], dtype="float32")
        if self.y is None:
            return (xb,)
        return xb, np.ascontiguousarray(self.y[g][c], dtype="float32")

    def as_input(self) -> Any:
        """What Keras's ``fit`` should read on this backend (``_carry.fit_dataset``)."""
        return _carry.fit_dataset(self)

    def stacked(self) -> tuple[tuple[np.ndarray, np.ndarray], Any]:
        """The same batches as arrays, for a compiled loop.

        Returns ``(x, y)`` of the whole chunks, shape ``(groups, chunks, batch, chunk,
        ...)`` (views where numpy can), and ``(x, y)`` of each group's shorter last
        chunk, shape ``(groups, batch, rest, ...)``, or None when ``chunk`` divides the
        steps. Needs ``y``.
        """
        x, y, batch, chunk = self.arrays
        groups, steps = len(x) // batch, x.shape[1]
        whole = steps // chunk * chunk

        def cut(a: np.ndarray) -> tuple[np.ndarray, np.ndarray | None]:
            a = a.reshape(groups, batch, *a.shape[1:])
            full = a[:, :, :whole].reshape(groups, batch, whole // chunk, chunk, *a.shape[3:])
            return full.swapaxes(1, 2), (a[:, :, whole:] if whole < steps else None)

        (xf, xr), (yf, yr) = cut(x), cut(y)
        return (xf, yf), (None if xr is None else (xr, yr))


def _check_validation_data(data: Any, batch_size: int) -> None:
    """Arrays of validation data follow the rules of ``x``/``y``: finite, whole batches."""
    if not isinstance(data, list | tuple):
        return  # a tf.data pipeline or None: Keras reads it as it is
    if len(data) not in (2, 3):
        fail(
            "validation_data",
            "a tuple (x_val, y_val) or (x_val, y_val, sample_weight)",
            None,
            shown=f"validation_data with {len(data)} items",
        )
    arrays = [_real_array(f"validation_data[{i}]", a) for i, a in enumerate(data) if a is not None]
    n = len(arrays[0]) if arrays and arrays[0].ndim else 0
    if n == 0 or n % batch_size:
        fail(
            "validation_data",
            f"whole batches: a number of samples that is a positive multiple of batch_size "
            f"{batch_size}, as for x (a short last batch would be broadcast into the state)",
            None,
            shown=f"validation_data with {n} samples",
        )
    for i, arr in enumerate(arrays[1:], start=1):
        if arr.ndim == 0 or len(arr) != n:
            fail(
                "validation_data",
                f"items with as many samples as validation_data[0] ({n})",
                None,
                shown=f"validation_data[{i}] with shape {arr.shape}",
            )


# What the compiled training reads from ``fit``'s keywords; any other keyword (for
# example ``class_weight`` or ``sample_weight``) sends ``fit_stateful`` to Keras's ``fit``.
_COMPILED_KEYWORDS = frozenset(
    {
        "verbose",
        "validation_data",
        "validation_batch_size",
        "validation_freq",
        "validation_steps",
        "initial_epoch",
    }
)
_BATCH_HOOKS = ("on_batch_begin", "on_batch_end", "on_train_batch_begin", "on_train_batch_end")


def _per_batch(callback: keras.callbacks.Callback) -> bool:
    """Whether ``callback`` acts between training batches (so needs Keras's ``fit``)."""
    if isinstance(callback, keras.callbacks.ProgbarLogger):
        return False  # its epoch-end update is enough
    if isinstance(callback, keras.callbacks.ModelCheckpoint) and callback.save_freq == "epoch":
        return False
    return any(
        getattr(getattr(callback, hook), "__func__", None)
        is not getattr(keras.callbacks.Callback, hook)
        for hook in _BATCH_HOOKS
    )


def _keras_fit_needed(
    model: keras.Model, y: Any, callbacks: list, fit_kwargs: dict[str, Any]
) -> str | None:
    """Why ``fit_stateful`` must train through Keras's ``fit``, or None."""
    if not getattr(model, "compiled", False) or model.optimizer is None:
        return "the model is not compiled (Keras's fit says so)"
    if y is None:
        return "y=None"
    if model.run_eagerly:
        return "run_eagerly=True"
    extra = sorted(set(fit_kwargs) - _COMPILED_KEYWORDS)
    if extra:
        return f"keywords {extra}"
    hooked = [type(c).__name__ for c in callbacks if _per_batch(c)]
    if hooked:
        return f"callbacks with per-batch hooks {hooked}"
    return None


def _fit_compiled(
    model: keras.Model,
    layers: list[keras.layers.Layer],
    full: tuple[np.ndarray, np.ndarray],
    rest: tuple[np.ndarray, np.ndarray] | None,
    epochs: int,
    user_callbacks: list,
    fit_kwargs: dict[str, Any],
) -> keras.callbacks.History:
    """``fit``'s epoch loop around compiled epochs (``_carry.train_epochs``)."""
    verbose = fit_kwargs.get("verbose", "auto")
    validation = fit_kwargs.get("validation_data")
    freq = fit_kwargs.get("validation_freq", 1)
    batch_size = full[0].shape[2]
    steps = full[0].shape[0] * (full[0].shape[1] + (rest is not None))
    callbacks = keras.callbacks.CallbackList(
        user_callbacks,
        add_history=True,
        add_progbar=verbose != 0,
        verbose=verbose,
        epochs=epochs,
        steps=steps,
        model=model,
    )
    run = _carry.train_epochs(model, layers, full, rest)
    first = fit_kwargs.get("initial_epoch", 0)
    model.stop_training = False
    callbacks.on_train_begin()
    logs: dict[str, Any] = {}
    if not user_callbacks and validation is None and verbose == 0:
        # nothing to do between epochs: every epoch in one program
        for epoch, logs in zip(range(first, epochs), run(epochs - first) if epochs > first else []):
            callbacks.on_epoch_begin(epoch)
            callbacks.on_epoch_end(epoch, logs)
    else:
        for epoch in range(first, epochs):
            callbacks.on_epoch_begin(epoch)
            logs = dict(run(1)[0])
            due = (epoch + 1) % freq == 0 if isinstance(freq, int) else epoch + 1 in freq
            if validation is not None and due:
                vx, vy, vw = keras.utils.unpack_x_y_sample_weight(validation)
                with _carry.carried(model, layers):
                    val = model.evaluate(
                        vx,
                        vy,
                        sample_weight=vw,
                        batch_size=fit_kwargs.get("validation_batch_size") or batch_size,
                        steps=fit_kwargs.get("validation_steps"),
                        callbacks=callbacks,
                        return_dict=True,
                    )
                logs.update({f"val_{k}": v for k, v in val.items()})
            callbacks.on_epoch_end(epoch, logs)
            if model.stop_training:
                break
    if epochs > first and isinstance(model.optimizer, keras.optimizers.Optimizer):
        model.optimizer.finalize_variable_values(model.trainable_weights)
    callbacks.on_train_end(logs=logs)
    return model.history


def fit_stateful(
    model: keras.Model,
    x: Any,
    y: Any = None,
    *,
    epochs: int,
    batch_size: int,
    chunk: int | None = None,
    callbacks: Sequence[keras.callbacks.Callback] = (),
    compiled: bool = True,
    **fit_kwargs: Any,
) -> keras.callbacks.History:
    """``model.fit`` for a stateful model: reset each epoch, never shuffle, whole batches.

    Without ``chunk``, ``x`` holds samples in the order the state should flow (row i of
    batch k+1 continues row i of batch k); the state is reset at the start of every
    epoch. With ``chunk``, ``x`` (and ``y``) are whole sequences ``(N, T, features)``:
    each group of ``batch_size`` sequences is cut along time into ``chunk``-step
    batches (``windows.stateful_chunks``) that are fed in order, and the state is reset
    before every group and every epoch, so ``N`` may be larger than the batch.

    Training runs as compiled programs: an epoch's batches and the resets between
    them are one ``tf.function`` on TensorFlow and one ``jax.jit``-compiled scan on JAX;
    on PyTorch a loop of Keras's train step over tensors converted once (no per-batch
    data handling or callbacks). Each step is Keras's own ``train_step``, so the losses
    and compiled metrics equal ``model.fit``'s. Epoch-level callbacks (progress bar,
    ``EarlyStopping``, ``ModelCheckpoint`` saving per epoch, ...) and validation run
    between epochs; with no callbacks, no ``validation_data`` and ``verbose=0`` all the
    epochs are one program. It trains through Keras's ``model.fit`` instead (with a
    :class:`ResetStates` callback), exactly when: ``compiled=False``; ``y`` is None;
    the model is compiled with ``run_eagerly=True`` (or not compiled); a callback
    overrides a per-batch hook (``on_batch_*``/``on_train_batch_*``: for example
    ``ModelCheckpoint(save_freq=<int>)``, ``TensorBoard``, ``TerminateOnNaN``, a
    ``ResetStates``); or ``fit_kwargs`` holds anything besides ``verbose``,
    ``validation_data``, ``validation_batch_size``, ``validation_freq``,
    ``validation_steps`` and ``initial_epoch`` (for example ``sample_weight`` or
    ``class_weight``).

    Args:
        model: a compiled model with stateful layers and fixed batch size ``batch_size``.
        x, y: inputs and targets (``y`` may be None for models that need none).
        epochs: passes over the data.
        batch_size: must equal the model's fixed batch size and divide the sample count.
        chunk: steps per batch when ``x`` holds whole sequences.
        callbacks: more Keras callbacks.
        compiled: False trains through Keras's ``model.fit`` whatever the settings.
        **fit_kwargs: passed to ``model.fit`` (``shuffle=True`` is refused).

    Returns:
        The ``History``, as one ``model.fit`` call returns it.

    Raises:
        ValueError: ``shuffle=True``, a batch size the model was not built with, a sample
            count (of ``x`` or of ``validation_data``) that is not a multiple of
            ``batch_size``, NaN or inf in the data (named by position), a ``y`` that is
            not whole sequences with ``chunk``, a model with no stateful layer.
        TypeError: ``x``/``y`` that are not arrays of real numbers (``None``, strings).
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
    x = _real_array("x", x)
    if x.ndim < 2 or len(x) == 0:
        fail(
            "x",
            "samples `(samples, steps, ...)` with at least one sample",
            None,
            shown=f"x with shape {x.shape}",
        )
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
        y = _real_array("y", y)
        if y.ndim == 0 or len(y) != n:
            fail("y", f"as many samples as x ({n})", None, shown=f"y with shape {y.shape}")
    if chunk is not None:
        if x.ndim != 3:
            fail(
                "x",
                "whole sequences `(samples, steps, features)` with chunk=",
                None,
                shown=f"x with shape {x.shape}",
            )
        if y is not None and (y.ndim != 3 or y.shape[1] != x.shape[1]):
            fail(
                "y",
                f"whole sequences `(samples, steps={x.shape[1]}, outputs)` with chunk= (one "
                "target per step, cut into chunks as x is)",
                None,
                shown=f"y with shape {y.shape}",
            )
        check_int("chunk", chunk, high=x.shape[1], context=f" for {x.shape[1]} steps")
    _check_validation_data(fit_kwargs.get("validation_data"), batch_size)
    cbs = list(callbacks)
    chunks = None if chunk is None else _Chunks(x, y, batch_size, int(chunk))
    why = _keras_fit_needed(model, y, cbs, fit_kwargs) if compiled else "compiled=False"
    if why is None:
        if chunks is None:  # one group of N / batch_size batches per epoch
            full, rest = (a.reshape(1, n // batch_size, batch_size, *a.shape[1:]) for a in (x, y))
            return _fit_compiled(model, layers, (full, rest), None, epochs, cbs, fit_kwargs)
        return _fit_compiled(model, layers, *chunks.stacked(), epochs, cbs, fit_kwargs)
    if chunks is None:
        cbs.insert(0, ResetStates())
        data, fit_args = x, {"y": y, "batch_size": batch_size}
    else:
        cbs.insert(0, ResetStates(every=chunks.per_group))
        data, fit_args = chunks.as_input(), {}
    with _carry.carried(model, layers):
        return model.fit(
            data, epochs=epochs, shuffle=False, callbacks=cbs, **fit_args, **fit_kwargs
        )


# --- compiled feedback loops -------------------------------------------------------------

# The rollout keeps every output in memory: at most this many values (256 MiB of float32).
MAX_ROLLOUT_VALUES = 2**26


def _array_shape(value: Any) -> str:
    try:
        return str(np.shape(value))
    except (TypeError, ValueError):
        return f"of type {type(value).__name__}"


def _check_covariates(
    covariates: Any, batch: int, steps: int, outputs: int, k: int
) -> np.ndarray | None:
    """The known-future inputs as float32 ``(batch, steps - 1, K)``, or None when there is
    nothing to feed (no covariates, or one step)."""
    width = outputs + k
    if k == 0:
        if covariates is not None:
            fail(
                "covariates",
                f"None for a model whose input width equals its output width ({width}): it "
                "reads no known-future inputs",
                None,
                shown=f"covariates with shape {_array_shape(covariates)}",
            )
        return None
    layout = (
        f"`(batch={batch}, steps - 1={steps - 1}, K={k})`: the model reads {width} features, "
        f"its {outputs} fed-back outputs then {k} known-future inputs, and covariates[:, i] "
        "goes with output i to make output i + 1"
    )
    if covariates is None:
        if steps == 1:
            return None
        fail("covariates", f"an array {layout}", None, shown="covariates=None")
    arr = _real_array("covariates", covariates, dtype="float32")
    if arr.ndim != 3:
        fail("covariates", f"of shape {layout}", None, shown=f"shape {arr.shape}")
    if arr.shape[0] != batch:
        fail(
            "covariates",
            f"a batch of the model's fixed batch size {batch}, as {layout}",
            None,
            shown=f"batch size {arr.shape[0]}",
        )
    if arr.shape[1] != steps - 1:
        fail(
            "covariates",
            f"steps - 1 = {steps - 1} steps long for steps={steps}, as {layout}",
            None,
            shown=f"{arr.shape[1]} steps, shape {arr.shape}",
        )
    if arr.shape[2] != k:
        fail(
            "covariates",
            f"K={k} features wide, as {layout}",
            None,
            shown=f"{arr.shape[2]} features, shape {arr.shape}",
        )
    return arr if steps > 1 else None


def _check_feedback(
    model: keras.Model, name: str, data: Any, steps: int, covariates: Any
) -> tuple[np.ndarray, np.ndarray | None]:
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
    width, outputs = in_shape[-1], out_shape[-1]
    if outputs > width:
        fail(
            "model",
            "a model whose input width is its output width plus K >= 0 known-future inputs "
            "(covariates), so an output step can be fed back as the first columns of the "
            "next input",
            None,
            shown=f"input features={width}, output features={outputs}",
        )
    if in_shape[1] not in (None, 1):
        fail(
            "model",
            "a model with a free steps axis (keras.Input(batch_shape=(batch, None, "
            "features))), so one output step can be fed back as the next input",
            None,
            shown=f"model {model.name!r} with fixed steps: input shape {in_shape}",
        )
    arr = _real_array(name, data, dtype="float32")
    if arr.ndim != 3 or arr.shape[-1] != width:
        extra = f" = outputs {outputs} + covariates {width - outputs}" if width > outputs else ""
        fail(
            name,
            f"of shape `(batch={batch}, steps, features={width}{extra})`",
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
    if arr.shape[1] == 0:
        fail(name, "at least one step long", None, shown=f"shape {arr.shape}")
    if in_shape[1] is not None and arr.shape[1] != in_shape[1]:
        fail(
            name,
            f"{in_shape[1]} steps long (the model's fixed steps)",
            None,
            shown=f"shape {arr.shape}",
        )
    per_step = batch * width
    steps = check_int(
        "steps",
        steps,
        high=max(1, MAX_ROLLOUT_VALUES // per_step),
        context=f" (the outputs, batch x steps x features = {batch} x steps x {width}, "
        f"are held in memory: at most {MAX_ROLLOUT_VALUES} values)",
    )
    return arr, _check_covariates(covariates, batch, steps, outputs, width - outputs)


def generate(
    model: keras.Model, first_step: Any, steps: int, *, covariates: Any = None
) -> np.ndarray:
    """One-to-many by feedback: reset, feed ``first_step``, feed each output back.

    Args:
        model: a stateful model, ``(batch, 1, outputs + K) -> (batch, 1, outputs)``, e.g.
            from ``stateful_generator``; ``K`` is the number of known-future inputs
            (covariates), 0 for a model whose input width equals its output width.
        first_step: ``(batch, 1, outputs + K)`` with ``batch`` the model's batch size
            (its own covariates in the last ``K`` columns).
        steps: how many outputs to produce.
        covariates: ``(batch, steps - 1, K)``, the known-future inputs: the input that
            produces output ``i + 1`` is ``[output i, covariates[:, i]]`` (outputs first,
            then the covariates, along the feature axis). None when ``K`` is 0 (or
            ``steps`` is 1).

    Returns:
        ``(batch, steps, outputs)``: the outputs in order; output k was fed back as
        input k+1. Equal to the hand loop ``y = model.predict_on_batch(y)`` (with the
        covariates concatenated) but run as one compiled program. The state is left where
        the loop ended.

    Raises:
        ValueError: a model with fixed steps or whose output is wider than its input, a
            ``first_step`` of the wrong shape or with NaN/inf, ``steps`` below 1 or beyond
            :data:`MAX_ROLLOUT_VALUES` outputs, ``covariates`` missing for a model with
            covariates or given for one without, or of the wrong batch, length or width,
            or with NaN/inf.

    >>> import numpy as np
    >>> import keras
    >>> inp = keras.Input(batch_shape=(1, None, 3))  # 1 output fed back, 2 covariates
    >>> lstm = keras.layers.LSTM(4, stateful=True, return_sequences=True)(inp)
    >>> model = keras.Model(inp, keras.layers.Dense(1)(lstm))
    >>> generate(model, np.zeros((1, 1, 3)), 5, covariates=np.ones((1, 4, 2))).shape
    (1, 5, 1)
    """
    arr, cov = _check_feedback(model, "first_step", first_step, steps, covariates)
    if arr.shape[1] != 1:
        fail(
            "first_step", "one step long, `(batch, 1, features)`", None, shown=f"shape {arr.shape}"
        )
    return _run_rollout(model, arr, steps, cov)


def forecast(model: keras.Model, history: Any, steps: int, *, covariates: Any = None) -> np.ndarray:
    """Many-to-many forecasting: reset, run ``history`` to set the state, then roll out.

    The model's output at the last history step is the first new step; each new step is
    fed back (followed by that step's covariates, if the model reads any) to produce the
    next.

    Args:
        model: a stateful model trained to predict the next step,
            ``(batch, T, outputs + K) -> (batch, T, outputs)``, with ``K`` known-future
            inputs (0 when the input width equals the output width).
        history: the known steps, ``(batch, T, outputs + K)``: the series and, in the last
            ``K`` columns, its covariates.
        steps: how many new steps to produce.
        covariates: ``(batch, steps - 1, K)``: the covariates that go with new steps
            ``0 .. steps - 2`` when each is fed back (the input that produces new step
            ``i + 1`` is ``[new step i, covariates[:, i]]``). None when ``K`` is 0.

    Returns:
        ``(batch, steps, outputs)``, the new steps only.

    Raises:
        ValueError: as :func:`generate`, for ``history`` (empty, wrong shape, NaN/inf)
            and ``covariates``.
    """
    arr, cov = _check_feedback(model, "history", history, steps, covariates)
    return _run_rollout(model, arr, steps, cov)


def _run_rollout(
    model: keras.Model, prefix: np.ndarray, steps: int, covariates: np.ndarray | None
) -> np.ndarray:
    reset_states(model)
    return _carry.rollout(model, stateful_layers(model), prefix, steps, covariates)


_STEPPING: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def _check_stepping(model: Any) -> tuple[list[keras.layers.Layer], int, int]:
    """``(stateful layers, batch, features)`` of a model ``step`` can drive, cached."""
    if isinstance(model, keras.Model) and model in _STEPPING:
        return _STEPPING[model]
    layers = _require_stateful(model)
    _refuse_replicas(model, "step")
    batch = _fixed_batch(model)
    in_shape = model.input_shape
    if not isinstance(in_shape, tuple) or len(in_shape) != 3 or in_shape[1] not in (None, 1):
        fail(
            "model",
            "a model that reads `(batch, steps, features)` with a free steps axis (or 1 "
            "step), so it can take one observation at a time",
            None,
            shown=f"model {model.name!r} with input shape {in_shape}",
        )
    for layer in layers:
        _states_of(layer)
    _STEPPING[model] = (layers, batch, int(in_shape[-1]))
    return _STEPPING[model]


def step(model: keras.Model, observation: Any) -> np.ndarray:
    """Live stepping: feed one observation, return that step's output, keep the state.

    For data that arrives one time step at a time (a sensor, a market feed): each call
    continues from the state the previous call left, so after :func:`reset_states`,
    stepping through a sequence gives exactly the outputs of the whole sequence in one
    call. :func:`save_states` and :func:`load_states` carry the state across a restart.
    Each call runs one compiled program: a traced ``tf.function`` on TensorFlow, the
    jitted pure call on JAX, the recurrent cells' own ``call`` on PyTorch.

    Args:
        model: a stateful model with a fixed batch size and a free (or 1) steps axis,
            ``(batch, steps, features) -> (batch, steps, outputs)`` or
            ``(batch, outputs)``.
        observation: ``(batch, features)``, one time step for every row of the batch.

    Returns:
        ``(batch, outputs)``: the model's output at this step.

    Raises:
        ValueError: a model with no stateful layer, no fixed batch size or fixed steps
            (other than 1); an ``observation`` of the wrong shape, or with NaN/inf.
        TypeError: ``model`` is not a ``keras.Model``; ``observation`` is not real numbers.

    >>> import numpy as np
    >>> from keras_lstm_patterns import stateful_generator
    >>> model = stateful_generator(2, batch_size=1, units=4)
    >>> reset_states(model)
    1
    >>> step(model, np.zeros((1, 2))).shape
    (1, 2)
    """
    layers, batch, features = _check_stepping(model)
    arr = _real_array("observation", observation, dtype="float32")
    if arr.shape != (batch, features):
        fail(
            "observation",
            f"one time step of shape `(batch={batch}, features={features})`",
            None,
            shown=f"shape {arr.shape}",
        )
    return _carry.step(model, layers, np.ascontiguousarray(arr))


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
    arr = _real_array("sequences", sequences, dtype="float32")
    if arr.ndim != 3 or arr.shape[0] == 0 or arr.shape[0] % batch:
        fail(
            "sequences",
            f"of shape `(N, steps, features)` with N a multiple of {batch} (the model's "
            "fixed batch size)",
            None,
            shown=f"shape {arr.shape}",
        )
    chunk = check_int("chunk", chunk, high=arr.shape[1], context=f" for {arr.shape[1]} steps")
    fixed_steps = model.input_shape[1] if len(model.input_shape) >= 2 else None
    if fixed_steps is not None:
        if chunk != fixed_steps:
            fail(
                "chunk",
                f"the model's fixed steps {fixed_steps} (model {model.name!r} reads "
                f"{fixed_steps}-step batches; a free steps axis takes any chunk)",
                chunk,
            )
        if arr.shape[1] % chunk:
            fail(
                "sequences",
                f"a multiple of the model's fixed steps {fixed_steps} long, so that every "
                "chunk is whole",
                None,
                shown=f"shape {arr.shape}",
            )
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
