"""Helpers the test files share: a check of any factory's model, after Keras's
``run_layer_test``, and the backend of child processes whose subject is not a backend."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import keras
import numpy as np


def light_backend() -> str:
    """The backend of a child process whose subject is no backend's (registration, lazy
    names): JAX when it is installed, whose process costs about half the CPU of
    TensorFlow's (5-6 s against 9-11 s, measured with these tests' own children); else
    the suite's own."""
    return "jax" if importlib.util.find_spec("jax") else keras.backend.backend()


def sample_input(model: keras.Model, batch: int = 3, steps: int = 4, seed: int = 0) -> np.ndarray:
    shape = list(model.input_shape)
    shape[0] = shape[0] or batch
    if len(shape) >= 2 and shape[1] is None:
        shape[1] = steps
    rng = np.random.default_rng(seed)
    if "int" in str(model.inputs[0].dtype):
        vocab = model.output_shape[-1]
        return rng.integers(0, vocab, size=shape).astype("int32")
    return rng.normal(size=shape).astype("float32")


def check_model(
    model: keras.Model,
    tmp_path: Path,
    *,
    output_shape: tuple,
    params: int | None = None,
    loss: str = "mse",
) -> None:
    """Output shape, parameter count, `.keras` round trip with equal outputs, one training step."""
    from keras_lstm_patterns import reset_states, stateful

    assert model.output_shape == output_shape, (model.output_shape, output_shape)
    if params is not None:
        assert model.count_params() == params
    x = sample_input(model)
    reset_states(model)
    y = keras.ops.convert_to_numpy(model(x))
    expected = tuple(x.shape[0] if d is None and i == 0 else d for i, d in enumerate(output_shape))
    assert y.shape[0] == expected[0] and y.shape[-1] == expected[-1]
    path = tmp_path / f"{model.name}.keras"
    model.save(path)
    loaded = keras.models.load_model(path)
    reset_states(model)
    reset_states(loaded)
    np.testing.assert_allclose(
        keras.ops.convert_to_numpy(loaded(x)), keras.ops.convert_to_numpy(model(x)), atol=1e-6
    )
    assert [la.name for la in loaded.layers] == [la.name for la in model.layers]
    # eager: tracing a train step costs seconds per model; the step itself is the same
    model.compile(optimizer="adam", loss=loss, run_eagerly=True)
    target = (
        np.random.default_rng(1).integers(0, y.shape[-1], size=y.shape[:-1])
        if loss.startswith("sparse")
        else np.zeros_like(y)
    )
    before = [w.copy() for w in model.get_weights()]
    reset_states(model)
    if stateful.stateful_layers(model):  # Keras's own step fails on PyTorch for these
        hist = stateful.fit_stateful(model, x, target, epochs=1, batch_size=len(x), verbose=0)
        loss_value = hist.history["loss"][-1]
    else:
        loss_value = model.train_on_batch(x, target, return_dict=True)["loss"]
    assert np.isfinite(loss_value)
    assert any(not np.array_equal(a, b) for a, b in zip(before, model.get_weights()))
