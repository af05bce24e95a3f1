"""``fit_stateful`` on PyTorch with ``compile(jit_compile=True)``: the steps run through
``torch.compile`` and give the eager loop's losses (``benchmarks/torch_compile.py``)."""

from __future__ import annotations

import keras
import numpy as np
import pytest

torch = pytest.importorskip("torch")
pytestmark = pytest.mark.skipif(
    keras.backend.backend() != "torch", reason="torch.compile runs on the PyTorch backend"
)

from keras_lstm_patterns import stateful, stateful_generator  # noqa: E402


def _train(jit_compile: bool, weights: list, x: np.ndarray, y: np.ndarray) -> tuple:
    model = stateful_generator(1, batch_size=2, units=(3,))
    model.set_weights(weights)
    model.compile(optimizer="adam", loss="mse", jit_compile=jit_compile)
    hist = stateful.fit_stateful(model, x, y, epochs=3, batch_size=2, chunk=4, verbose=0)
    states = [keras.ops.convert_to_numpy(v.value) for v in model.layers[1].states]
    return hist.history["loss"], states


# TorchDynamo, while it traces, touches torch.jit.script_method, which PyTorch 2.13 deprecates
@pytest.mark.filterwarnings("ignore:`torch.jit.script_method` is deprecated:DeprecationWarning")
def test_jit_compile_runs_torch_compile_with_the_eager_losses():
    rng = np.random.default_rng(0)
    seq = rng.normal(size=(4, 13, 1)).astype("float32")
    x, y = seq[:, :-1], seq[:, 1:]  # 2 groups of 2 sequences, 3 chunks of 4 steps each
    keras.utils.set_random_seed(1)
    weights = stateful_generator(1, batch_size=2, units=(3,)).get_weights()
    eager_losses, eager_states = _train(False, weights, x, y)
    torch._dynamo.reset()
    torch._dynamo.utils.counters.clear()
    compiled_losses, compiled_states = _train(True, weights, x, y)
    assert torch._dynamo.utils.counters["stats"]["unique_graphs"] > 0  # it did compile
    np.testing.assert_allclose(compiled_losses, eager_losses, rtol=1e-5)
    for got, want in zip(compiled_states, eager_states):  # the last group's carried state
        np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-7)
    assert np.abs(eager_states[0]).sum() > 0
