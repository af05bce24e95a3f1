"""Data-parallel training on two logical CPU devices, in a process of its own."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import keras
import numpy as np
import pytest

pytestmark = pytest.mark.skipif(
    keras.backend.backend() != "tensorflow", reason="tf.distribute is TensorFlow's"
)


@pytest.fixture(scope="module")
def result() -> dict:
    script = Path(__file__).with_name("strategy_run.py")
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3", KERAS_BACKEND="tensorflow")
    done = subprocess.run(
        [sys.executable, str(script)], capture_output=True, text=True, env=env, timeout=600
    )
    lines = [line for line in done.stdout.splitlines() if line.startswith("RESULT ")]
    assert done.returncode == 0 and lines, done.stderr[-3000:]
    return json.loads(lines[-1][len("RESULT ") :])


def test_two_replicas(result):
    assert result["replicas"] == 2


@pytest.mark.parametrize("kind", ["many_to_one", "many_to_many", "window_dataset"])
def test_mirrored_training_follows_single_device_losses(result, kind):
    single, mirrored = result[kind]["single"], result[kind]["mirrored"]
    assert len(single) == len(mirrored) == 2
    assert single[-1] < single[0]  # it trained
    np.testing.assert_allclose(mirrored, single, rtol=1e-4)


@pytest.mark.parametrize("call", ["fit_stateful", "generate", "forecast", "predict_chunks"])
def test_stateful_under_a_strategy_is_refused_with_the_reason(result, call):
    message = result["stateful_refusals"][call]
    assert message is not None, f"{call} ran under MirroredStrategy instead of refusing"
    assert "MirroredStrategy with 2 replicas" in message
    assert "row i would not continue row i" in message
