"""Chunked prediction: whole sequences through a stateful model, a chunk per call."""

from __future__ import annotations

from typing import Any

import keras
import numpy as np

from .. import _backends
from .._checks import check_int, fail
from ..windows import stateful_chunks
from ._checks import _fixed_batch, _real_array, _refuse_replicas, _require_stateful
from ._states import reset_states

__all__ = ["predict_chunks"]


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

    Raises:
        TypeError: ``model`` is not a ``keras.Model``; ``sequences`` is not real numbers.
        ValueError: a model with no stateful layer or no fixed batch size; ``sequences``
            not ``(N, T, features)`` with ``N`` a multiple of the batch size, or with
            NaN/inf; ``chunk`` outside 1..T, or other than the model's fixed steps.

    >>> import numpy as np
    >>> from keras_lstm_patterns import stateful_generator
    >>> model = stateful_generator(2, batch_size=2, units=4)
    >>> predict_chunks(model, np.zeros((4, 10, 2)), 3).shape
    (4, 10, 2)
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
        outs = [_backends.predict_on_batch(model, layers, p) for p in parts]
        groups.append(np.concatenate(outs, axis=1) if outs[0].ndim == 3 else outs[-1])
    return np.concatenate(groups, axis=0)
