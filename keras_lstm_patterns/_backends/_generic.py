"""Any other Keras backend (numpy, openvino): no fast path, Keras's methods as they are.

Every fast path raises ``NotImplementedError``, so the generic pure call and rollout run
eagerly; compiled training epochs exist on TensorFlow, JAX and PyTorch only.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from typing import Any

import keras
import numpy as np

from ._common import EpochData, EpochRunner

__all__ = [
    "carrying",
    "epochs",
    "fit_dataset",
    "jit",
    "no_grad",
    "predict_on_batch",
    "process_count",
    "process_index",
    "rollout",
    "set_cpu_collectives",
    "shutdown_processes",
    "step",
    "sync_before_reset",
]


def jit(fn: Callable[..., Any], *, static_argnums: tuple[int, ...] | int = ()) -> Callable:
    """The generic pure functions run as they are."""
    return fn


def no_grad() -> contextlib.AbstractContextManager[None]:
    """Nothing records gradients here."""
    return contextlib.nullcontext()


@contextlib.contextmanager
def carrying(layers: list[keras.layers.Layer]) -> Iterator[None]:
    """Keras's methods run as they are."""
    yield


def sync_before_reset(model: keras.Model) -> None:
    """Nothing in flight."""


def predict_on_batch(model: keras.Model, layers: list, x: np.ndarray) -> np.ndarray:
    """No fast path."""
    raise NotImplementedError


def rollout(
    model: keras.Model, layers: list, prefix: np.ndarray, n: int, covariates: np.ndarray | None
) -> np.ndarray:
    """No fast path."""
    raise NotImplementedError


def step(model: keras.Model, layers: list, x: np.ndarray) -> np.ndarray:
    """No fast path."""
    raise NotImplementedError


def epochs(model: keras.Model, layers: list, svars: list[Any], data: EpochData) -> EpochRunner:
    """Compiled epochs need TensorFlow, JAX or PyTorch."""
    raise NotImplementedError(
        f"fit_stateful's compiled epochs run on the tensorflow, jax and torch backends; "
        f"Keras runs on {keras.backend.backend()!r} (pass compiled=False for Keras's fit)"
    )


def fit_dataset(source: keras.utils.PyDataset) -> Any:
    """Keras's ``fit`` reads the ``PyDataset`` itself."""
    return source


# --- several processes (keras_lstm_patterns.distributed) -----------------------------------


def set_cpu_collectives(name: str) -> None:
    """Multi-process training runs on JAX only."""
    raise NotImplementedError


def shutdown_processes() -> None:
    """Not in a multi-process job: nothing to leave."""


def process_index() -> int:
    """This process's number in the job: 0 outside a multi-process job."""
    return 0


def process_count() -> int:
    """How many processes the job has: 1 outside a multi-process job."""
    return 1
