"""Live stepping: ``stateful.step`` one observation at a time, on every backend."""

import json
import os
import subprocess
import sys
from pathlib import Path

import keras
import numpy as np
import pytest

from keras_lstm_patterns import many_to_many, many_to_one, stateful, stateful_generator

ROOT = Path(__file__).resolve().parents[1]


def data(shape, seed=0):
    return np.random.default_rng(seed).normal(size=shape).astype("float32")


def call(model, x):
    """An eager call: it carries a stateful layer's state on every backend."""
    return keras.ops.convert_to_numpy(model(x))


def stepped(model, sequence):
    """Every step's output, one ``stateful.step`` call per step: ``(batch, T, outputs)``."""
    return np.stack([stateful.step(model, sequence[:, t]) for t in range(sequence.shape[1])], 1)


def covariate_model():
    keras.utils.set_random_seed(4)
    inp = keras.Input(batch_shape=(2, None, 3))
    x = keras.layers.GRU(5, stateful=True, return_sequences=True)(inp)
    x = keras.layers.LayerNormalization()(x)  # not a chain of cells: the general path
    return keras.Model(inp, keras.layers.Dense(1)(x))


def build(kind):
    keras.utils.set_random_seed(0)
    if kind in ("lstm", "gru", "simple"):
        return stateful_generator(2, batch_size=3, units=(5,), cell=kind)
    if kind == "stack":
        return stateful_generator(2, batch_size=3, units=(6, 4))
    if kind == "many-to-many":
        return many_to_many(None, 2, 4, outputs=3, stateful=True, batch_size=3)
    return covariate_model()


KINDS = ["lstm", "gru", "simple", "stack", "many-to-many", "covariates"]


@pytest.mark.parametrize("kind", KINDS, ids=KINDS)
def test_stepping_through_a_sequence_equals_the_whole_sequence(kind):
    model = build(kind)
    batch, width = model.input_shape[0], model.input_shape[-1]
    sequence = data((batch, 11, width), seed=1)
    stateful.reset_states(model)
    whole = call(model, sequence)
    whole_states = stateful.get_states(model)
    stateful.reset_states(model)
    got = stepped(model, sequence)
    assert got.shape == whole.shape
    np.testing.assert_allclose(got, whole, rtol=1e-5, atol=1e-5)
    for a, b in zip(stateful.get_states(model), whole_states):
        for x, y in zip(a, b):
            np.testing.assert_allclose(x, y, rtol=1e-5, atol=1e-5)
    # without a reset, stepping continues from where the sequence ended
    more = data((batch, 3, width), seed=2)
    stateful.reset_states(model)
    expected = call(model, np.concatenate([sequence, more], axis=1))[:, 11:]
    stateful.reset_states(model)
    stepped(model, sequence)
    np.testing.assert_allclose(stepped(model, more), expected, rtol=1e-5, atol=1e-5)


def test_a_many_to_one_model_steps_to_its_output_at_each_step():
    keras.utils.set_random_seed(5)
    model = many_to_one(None, 2, 4, outputs=3, stateful=True, batch_size=2)
    sequence = data((2, 5, 2), seed=3)
    stateful.reset_states(model)
    got = stepped(model, sequence)
    assert got.shape == (2, 5, 3)
    for t in range(5):  # the whole prefix up to t gives the output at t
        stateful.reset_states(model)
        np.testing.assert_allclose(got[:, t], call(model, sequence[:, : t + 1]), atol=1e-5)


def test_step_reads_the_current_weights():
    """The compiled step is cached per model; it must read the weights, not copy them."""
    model = build("lstm")
    x = data((3, 2), seed=4)
    stateful.reset_states(model)
    stateful.step(model, x)
    model.set_weights([w * 0.5 for w in model.get_weights()])
    stateful.reset_states(model)
    got = stateful.step(model, x)
    stateful.reset_states(model)
    np.testing.assert_allclose(got, call(model, x[:, None, :])[:, 0], rtol=1e-5, atol=1e-6)


HALF = """
import json, sys
import numpy as np
import keras
from keras_lstm_patterns import stateful


def half(args):
    model = keras.models.load_model(args["model"])
    if args["load"]:
        stateful.load_states(model, args["states"])
    else:
        stateful.reset_states(model)
    seq = np.load(args["data"])
    out = np.stack([stateful.step(model, seq[:, t]) for t in range(seq.shape[1])], 1)
    np.save(args["out"], out)
    if not args["load"]:
        stateful.save_states(model, args["states"])
    return keras.backend.backend()
"""
CHILD = (
    HALF
    + """
print(half(json.loads(sys.argv[1])))
"""
)


def test_stepping_survives_a_process_restart(tmp_path):
    """This process loads the saved model, steps through the first half and saves the
    states; a fresh process loads the model and the states and steps through the rest:
    together they equal the whole sequence."""
    model = build("stack")
    sequence = data((3, 12, 2), seed=5)
    stateful.reset_states(model)
    whole = call(model, sequence)
    model.save(tmp_path / "model.keras")
    env = {**os.environ, "KERAS_BACKEND": keras.backend.backend(), "TF_CPP_MIN_LOG_LEVEL": "3"}
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT), env.get("PYTHONPATH", "")])
    parts = []
    for i, half in enumerate((sequence[:, :7], sequence[:, 7:])):
        np.save(tmp_path / f"data{i}.npy", half)
        args = {
            "model": str(tmp_path / "model.keras"),
            "states": str(tmp_path / "states.npz"),
            "data": str(tmp_path / f"data{i}.npy"),
            "out": str(tmp_path / f"out{i}.npy"),
            "load": i == 1,
        }
        if i == 0:  # the first process: this one, through the same code
            namespace: dict = {}
            exec(HALF, namespace)
            assert namespace["half"](args) == keras.backend.backend()
        else:
            run = subprocess.run(
                [sys.executable, "-c", CHILD, json.dumps(args)],
                env=env,
                capture_output=True,
                text=True,
                timeout=300,
            )
            assert run.returncode == 0, run.stderr[-2000:]
            assert run.stdout.split()[-1] == keras.backend.backend()
        parts.append(np.load(tmp_path / f"out{i}.npy"))
    np.testing.assert_allclose(np.concatenate(parts, axis=1), whole, rtol=1e-5, atol=1e-5)
    # the restart matters: the second half from zero states is something else
    stateful.reset_states(model)
    assert np.abs(call(model, sequence[:, 7:]) - whole[:, 7:]).max() > 1e-3


def test_step_refusals():
    model = build("lstm")  # batch 3, 2 features
    with pytest.raises(
        ValueError,
        match=r"`observation` must be one time step of shape `\(batch=3, features=2\)`\. "
        r"Received: shape \(3, 1, 2\)",
    ):
        stateful.step(model, data((3, 1, 2)))
    with pytest.raises(ValueError, match=r"Received: shape \(2, 2\)"):
        stateful.step(model, data((2, 2)))
    with pytest.raises(ValueError, match=r"Received: shape \(3, 3\)"):
        stateful.step(model, data((3, 3)))
    bad = data((3, 2))
    bad[2, 1] = np.inf
    with pytest.raises(
        ValueError, match=r"`observation` must be finite .*Received: observation\[2, 1\]=inf"
    ):
        stateful.step(model, bad)
    with pytest.raises(TypeError, match=r"`observation` must be an array of real numbers"):
        stateful.step(model, None)
    with pytest.raises(TypeError, match=r"`model` must be a keras.Model"):
        stateful.step("model", data((3, 2)))
    keras.utils.set_random_seed(0)
    free = many_to_many(None, 2, 3, outputs=2)
    with pytest.raises(ValueError, match=r"`model` must be a model with a stateful recurrent"):
        stateful.step(free, data((3, 2)))
    fixed = many_to_many(4, 2, 3, outputs=2, stateful=True, batch_size=3)
    with pytest.raises(
        ValueError, match=r"`model` must be a model that reads .*free steps axis.*\(3, 4, 2\)"
    ):
        stateful.step(fixed, data((3, 2)))
