"""Training a stateful model: ``fit_stateful``, the ``ResetStates`` callback, the chunked
batches and the epoch loop around the compiled epochs.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import keras
import numpy as np

from .. import _backends
from .._checks import check_int, check_optional_int, fail
from .._compile import is_compiled
from ..windows import stateful_chunks
from ._checks import _fixed_batch, _real_array, _refuse_replicas, _require_stateful
from ._states import reset_states

__all__ = ["ResetStates", "fit_stateful"]


class ResetStates(keras.callbacks.Callback):
    """Reset the stateful layers at the start of every epoch, and every ``every`` batches.

    ``fit_stateful`` adds it; use it directly in your own ``fit`` calls.

    Args:
        every: also reset before batches ``every``, ``2 * every``, ... of an epoch
            (counted from 0), so each group of ``every`` batches starts from zero
            states; None resets at the start of each epoch only.

    Raises:
        ValueError: ``every`` is not None or a positive integer.

    >>> ResetStates(every=4).every
    4
    """

    def __init__(self, every: int | None = None) -> None:
        super().__init__()
        self.every = check_optional_int("every", every)

    def on_epoch_begin(self, epoch: int, logs: Any = None) -> None:
        reset_states(self.model)

    def on_train_batch_begin(self, batch: int, logs: Any = None) -> None:
        if self.every and batch % self.every == 0 and batch > 0:
            _backends.sync_before_reset(self.model)
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
        """What Keras's ``fit`` should read on this backend (``_backends.fit_dataset``)."""
        return _backends.fit_dataset(self)

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
    if not is_compiled(model):
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
    """``fit``'s epoch loop around compiled epochs (``_backends.train_epochs``)."""
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
    run = _backends.train_epochs(model, layers, full, rest)
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
                with _backends.carried(model, layers):
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

    >>> import numpy as np
    >>> from keras_lstm_patterns import stateful_generator
    >>> model = stateful_generator(1, batch_size=2, units=4)
    >>> model.compile(optimizer="adam", loss="mse")
    >>> series = np.sin(np.arange(26.0)).reshape(2, 13, 1)
    >>> history = fit_stateful(
    ...     model, series[:, :-1], series[:, 1:], epochs=2, batch_size=2, chunk=4, verbose=0
    ... )
    >>> len(history.history["loss"])
    2
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
    with _backends.carried(model, layers):
        return model.fit(
            data, epochs=epochs, shuffle=False, callbacks=cbs, **fit_args, **fit_kwargs
        )
