"""Known-future inputs (covariates) in ``generate`` and ``forecast``, on every backend."""

import keras
import numpy as np
import pytest

from keras_lstm_patterns import stateful
from keras_lstm_patterns.closed_loop import closed_loop_model

LAYERS = {"lstm": keras.layers.LSTM, "gru": keras.layers.GRU, "simple": keras.layers.SimpleRNN}


def covariate_model(outputs=1, k=2, batch=2, units=(5,), cell="lstm", head=(), seed=0):
    """Stateful recurrent layers on ``outputs + k`` features, then Dense layers to ``outputs``."""
    keras.utils.set_random_seed(seed)
    inp = keras.Input(batch_shape=(batch, None, outputs + k))
    x = inp
    for n in units:
        x = LAYERS[cell](n, stateful=True, return_sequences=True)(x)
    for make in head:  # fresh layers for every model
        x = make()(x)
    return keras.Model(inp, keras.layers.Dense(outputs)(x))


def data(shape, seed=0):
    return np.random.default_rng(seed).normal(size=shape).astype("float32")


def call(model, x):
    """An eager call: it carries a stateful layer's state on every backend."""
    return keras.ops.convert_to_numpy(model(x))


def hand_rollout(model, prefix, steps, covariates):
    """The plain reference: reset, run the prefix, then feed [output i, covariates[:, i]]."""
    stateful.reset_states(model)
    cur = call(model, prefix)[:, -1:]
    out = [cur]
    for i in range(steps - 1):
        cur = call(model, np.concatenate([cur, covariates[:, i : i + 1]], axis=-1))[:, -1:]
        out.append(cur)
    return np.concatenate(out, axis=1)


MODELS = {
    "lstm": {},
    "gru": {"cell": "gru"},
    "simple": {"cell": "simple"},
    "stack": {"units": (6, 4)},
    "two-outputs": {"outputs": 2, "k": 1},
    "dense-head": {"head": (lambda: keras.layers.Dense(3, activation="tanh"),)},
    # not a chain of recurrent and Dense layers: the general (pure call) path
    "other-head": {"head": (keras.layers.LayerNormalization,)},
}


@pytest.mark.parametrize("kind", list(MODELS), ids=list(MODELS))
def test_forecast_with_covariates_equals_hand_loop(kind):
    model = covariate_model(**MODELS[kind])
    outputs, width = model.output_shape[-1], model.input_shape[-1]
    history = data((2, 9, width), seed=1)
    cov = data((2, 11, width - outputs), seed=2)
    got = stateful.forecast(model, history, 12, covariates=cov)
    assert got.shape == (2, 12, outputs)
    end = stateful.get_states(model)
    expected = hand_rollout(model, history, 12, cov)
    np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-5)
    # the states are left where the loop ended, as the hand loop leaves them
    for a, b in zip(end, stateful.get_states(model)):
        for x, y in zip(a, b):
            np.testing.assert_allclose(x, y, rtol=1e-5, atol=1e-5)
    # the covariates matter: other values give other steps after the first
    other = stateful.forecast(model, history, 12, covariates=cov + 1.0)
    np.testing.assert_allclose(other[:, 0], got[:, 0], rtol=1e-5, atol=1e-6)
    assert np.abs(other[:, 1:] - got[:, 1:]).max() > 1e-3


@pytest.mark.parametrize("kind", ["lstm", "stack", "other-head"])
def test_generate_with_covariates_equals_hand_loop(kind):
    model = covariate_model(**MODELS[kind])
    first = data((2, 1, 3), seed=3)
    cov = data((2, 19, 2), seed=4)
    got = stateful.generate(model, first, 20, covariates=cov)
    assert got.shape == (2, 20, 1)
    np.testing.assert_allclose(got, hand_rollout(model, first, 20, cov), rtol=1e-5, atol=1e-5)
    # a second call resets first: the same answer
    np.testing.assert_allclose(stateful.generate(model, first, 20, covariates=cov), got, atol=1e-6)


def test_one_step_needs_no_covariates():
    model = covariate_model()
    history = data((2, 5, 3), seed=5)
    one = stateful.forecast(model, history, 1)
    empty = stateful.forecast(model, history, 1, covariates=np.zeros((2, 0, 2)))
    stateful.reset_states(model)
    expected = call(model, history)[:, -1:]
    np.testing.assert_allclose(one, expected, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(empty, expected, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("kind", ["lstm", "gru", "stack", "dense-head"])
def test_the_closed_loop_rollout_part_is_forecast_with_covariates(kind):
    """``closed_loop_model`` reads the covariates from the window while it feeds its own
    outputs back: its predictions after the warm-up are ``forecast(..., covariates=)``."""
    gen = covariate_model(**MODELS[kind], seed=1)  # 1 output fed back, 2 covariates
    window = data((2, 12, 3), seed=1)
    loop = closed_loop_model(gen, warmup=7, horizon=5)  # reads 11 steps, feeds back 4
    got = keras.ops.convert_to_numpy(loop(window[:, :-1]))
    assert got.shape == (2, 11, 1)
    expected = stateful.forecast(gen, window[:, :7], 5, covariates=window[:, 7:11, 1:])
    np.testing.assert_allclose(got[:, 6:], expected, rtol=1e-4, atol=1e-5)


def test_covariate_refusals():
    model = covariate_model()  # batch 2, 1 output, K=2
    history = data((2, 4, 3))
    with pytest.raises(
        ValueError,
        match=r"`covariates` must be an array `\(batch=2, horizon - 1=4, K=2\)`.*"
        r"Received: covariates=None",
    ):
        stateful.forecast(model, history, 5)
    with pytest.raises(
        ValueError,
        match=r"`covariates` must be a batch of the model's fixed batch size 2.*batch size 3",
    ):
        stateful.forecast(model, history, 5, covariates=data((3, 4, 2)))
    with pytest.raises(
        ValueError,
        match=r"`covariates` must be horizon - 1 = 4 steps long for horizon=5.*Received: 5 steps",
    ):
        stateful.forecast(model, history, 5, covariates=data((2, 5, 2)))
    with pytest.raises(
        ValueError, match=r"`covariates` must be K=2 features wide.*Received: 3 features"
    ):
        stateful.generate(model, data((2, 1, 3)), 5, covariates=data((2, 4, 3)))
    bad = data((2, 4, 2))
    bad[1, 2, 0] = np.nan
    with pytest.raises(
        ValueError,
        match=r"`covariates` must be finite \(no NaN or inf\)\. Received: covariates\[1, 2, 0\]=nan",
    ):
        stateful.forecast(model, history, 5, covariates=bad)
    with pytest.raises(
        ValueError, match=r"`covariates` must be of shape .*Received: shape \(2, 4\)"
    ):
        stateful.forecast(model, history, 5, covariates=data((2, 4)))
    with pytest.raises(TypeError, match=r"`covariates` must be an array of real numbers"):
        stateful.forecast(model, history, 5, covariates="month")
    with pytest.raises(
        ValueError,
        match=r"`history` must be of shape `\(batch=2, steps, features=3 = outputs 1 \+ "
        r"covariates 2\)`",
    ):
        stateful.forecast(model, data((2, 4, 1)), 5, covariates=data((2, 4, 2)))
    plain = covariate_model(k=0)
    with pytest.raises(
        ValueError,
        match=r"`covariates` must be None for a model whose input width equals its output "
        r"width \(1\).*Received: covariates with shape \(2, 4, 1\)",
    ):
        stateful.forecast(plain, data((2, 4, 1)), 5, covariates=data((2, 4, 1)))


def test_which_models_run_as_a_chain_of_cells():
    """The PyTorch rollout and step call the cells directly only for a chain of stateful
    recurrent layers and Dense layers; any other model takes the general path."""
    from keras_lstm_patterns import stateful_generator
    from keras_lstm_patterns._backends._common import chain

    assert chain(stateful_generator(2, batch_size=1, units=(4, 3))) is not None
    assert chain(covariate_model(**MODELS["dense-head"])) is not None
    assert chain(covariate_model(**MODELS["other-head"])) is None
    keras.utils.set_random_seed(0)
    inp = keras.Input(batch_shape=(1, None, 2))
    lstm = keras.layers.LSTM(3, stateful=True, return_sequences=True)(inp)
    skip = keras.layers.Dense(2)(keras.layers.Concatenate()([lstm, inp]))  # not a chain
    assert chain(keras.Model(inp, skip)) is None
    free = keras.layers.LSTM(3, return_sequences=True)(inp)  # not stateful
    assert chain(keras.Model(inp, keras.layers.Dense(2)(free))) is None
