import keras
import numpy as np
import pytest

from keras_lstm_patterns import forecast, stateful, stateful_generator
from keras_lstm_patterns.closed_loop import closed_loop_model, fit_closed_loop


def compiled_generator(features=1, units=2, optimizer="adam", loss="mse"):
    gen = stateful_generator(features, units=units)
    gen.compile(optimizer=optimizer, loss=loss)
    return gen


def two_waves(steps=300):
    t = np.arange(float(steps))
    return 0.8 * (np.sin(2 * np.pi * t / 25) + 0.5 * np.sin(2 * np.pi * t / 9))[None, :, None]


def test_horizon_one_is_the_generator_on_true_inputs():
    keras.utils.set_random_seed(0)
    gen = stateful_generator(2, batch_size=3, units=(6, 5))
    window = np.random.default_rng(0).normal(size=(3, 9, 2)).astype("float32")
    loop = closed_loop_model(gen, warmup=8, horizon=1)
    stateful.reset_states(gen)
    expected = keras.ops.convert_to_numpy(gen(window[:, :-1]))
    got = keras.ops.convert_to_numpy(loop(window[:, :-1]))
    np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("units", [(), 6, (6, 4)], ids=["no-hidden", "one", "stack"])
def test_the_rollout_part_is_forecast(units):
    keras.utils.set_random_seed(1)
    gen = stateful_generator(2, batch_size=2, units=units)
    window = np.random.default_rng(1).normal(size=(2, 12, 2)).astype("float32")
    loop = closed_loop_model(gen, warmup=7, horizon=5)  # reads 11 steps, feeds back 4
    got = keras.ops.convert_to_numpy(loop(window[:, :-1]))
    assert got.shape == (2, 11, 2)
    expected = forecast(gen, window[:, :7], 5)  # from the warm-up's last output on
    np.testing.assert_allclose(got[:, 6:], expected, rtol=1e-4, atol=1e-5)


def test_covariates_are_read_from_the_data_while_outputs_are_fed_back():
    """Input = [fed-back output (1), covariate (1)]: changing a later *output* column of
    the data changes nothing after the warm-up; changing a covariate does."""
    keras.utils.set_random_seed(2)
    inp = keras.Input(batch_shape=(1, None, 2))
    hidden = keras.layers.LSTM(4, stateful=True, return_sequences=True)(inp)
    gen = keras.Model(inp, keras.layers.Dense(1)(hidden))
    loop = closed_loop_model(gen, warmup=3, horizon=4)
    window = np.random.default_rng(2).normal(size=(1, 6, 2)).astype("float32")
    base = keras.ops.convert_to_numpy(loop(window))
    other_output = window.copy()
    other_output[:, 4, 0] += 5.0  # a true value the rollout must not read
    np.testing.assert_allclose(keras.ops.convert_to_numpy(loop(other_output)), base, atol=1e-6)
    other_cov = window.copy()
    other_cov[:, 4, 1] += 5.0  # a known-future input it must read
    changed = keras.ops.convert_to_numpy(loop(other_cov))
    np.testing.assert_allclose(changed[:, :4], base[:, :4], atol=1e-6)
    assert np.abs(changed[:, 4:] - base[:, 4:]).max() > 1e-3


def test_closed_loop_training_drifts_less_than_teacher_forcing():
    """Same model, same seed, same epochs: trained on its own 24-step rollouts, its
    100-step forecast of two waves is far closer than after one-step training."""
    series = two_waves(400)
    errors = {}
    for horizon in (1, 24):
        keras.utils.set_random_seed(0)
        gen = stateful_generator(1, units=16)
        gen.compile(optimizer=keras.optimizers.Adam(5e-3), loss="mse")
        fit_closed_loop(
            gen, series[:, :300], warmup=24, horizon=horizon, epochs=20, batch_size=16, verbose=0
        )
        future = forecast(stateful.with_batch_size(gen, 1), series[:, 276:300], 100)
        errors[horizon] = float(np.sqrt(np.mean((future - series[:, 300:]) ** 2)))
    assert errors[24] < 0.3 * errors[1], errors  # measured: 0.049 against 0.478


@pytest.mark.parametrize(
    ("call", "match"),
    [
        (lambda g, s: closed_loop_model("nope", 2, 2), r"`model` must be a keras.Model"),
        (
            lambda g, s: closed_loop_model(
                keras.Sequential([keras.Input((3, 1)), keras.layers.LSTM(2)]), 2, 2
            ),
            r"`model` must be a generator: recurrent layers with return_sequences=True",
        ),
        (lambda g, s: closed_loop_model(g, 0, 2), r"`warmup` must be a positive integer"),
        (
            lambda g, s: fit_closed_loop(g, s[0], warmup=2, horizon=2, epochs=1),
            r"`sequences` must be",
        ),
        (
            lambda g, s: fit_closed_loop(g, s, warmup=20, horizon=11, epochs=1),
            r"`horizon` must be between 1 and 10 for sequences of 30 steps and warmup=20",
        ),
        (
            lambda g, s: fit_closed_loop(
                g, np.where(s > 0.5, np.nan, s), warmup=2, horizon=2, epochs=1
            ),
            r"`sequences` must be finite",
        ),
        (lambda g, s: fit_closed_loop(g, s, warmup=2, horizon=2, epochs=0), r"`epochs` must be"),
    ],
    ids=["not-model", "not-generator", "warmup", "rank", "too-long", "nan", "epochs"],
)
def test_errors(call, match):
    gen = compiled_generator()
    with pytest.raises((ValueError, TypeError), match=match):
        call(gen, two_waves(30))


def backwards_generator():
    inp = keras.Input((None, 1))
    hidden = keras.layers.LSTM(2, return_sequences=True, go_backwards=True, name="back")(inp)
    return keras.Model(inp, keras.layers.Dense(1)(hidden))


@pytest.mark.parametrize(
    ("call", "match"),
    [
        (
            lambda g, s: fit_closed_loop(g, s[:0], warmup=2, horizon=2, epochs=1),
            r"`sequences` must be at least one sequence, `\(N >= 1, steps, features\)`. "
            r"Received: sequences with shape \(0, 30, 1\)",
        ),
        (
            lambda g, s: fit_closed_loop(g, s, warmup=40, horizon=1, epochs=1),
            r"`warmup` must be between 1 and 29 for sequences of 30 steps",
        ),
        (
            lambda g, s: fit_closed_loop(g, s, warmup=2, horizon=2, epochs=1, batch_size=-1),
            r"`batch_size` must be a positive integer. Received: batch_size=-1",
        ),
        (
            lambda g, s: fit_closed_loop(backwards_generator(), s, warmup=2, horizon=2, epochs=1),
            r"`model` must be a generator that runs forwards in time .* layer 'back'",
        ),
    ],
    ids=["no-sequences", "warmup-too-long", "batch-size", "go-backwards"],
)
def test_errors_of_issue_22(call, match):
    gen = compiled_generator()
    with pytest.raises(ValueError, match=match):
        call(gen, two_waves(30))


def test_an_uncompiled_generator_is_refused():
    with pytest.raises(
        ValueError,
        match=r"`model` must be a compiled generator: the rollout trains with its compile "
        r"settings; call model\.compile\(optimizer=\.\.\., loss=\.\.\.\) first\. "
        r"Received: model 'stateful_generator', not compiled",
    ):
        fit_closed_loop(
            stateful_generator(1, units=2), two_waves(30), warmup=2, horizon=2, epochs=1
        )


@pytest.mark.parametrize(
    "old", [{"optimizer": "adam"}, {"loss": "mse"}, {"optimizer": "sgd", "loss": "mae"}]
)
def test_optimizer_and_loss_keywords_are_refused_naming_compile(old):
    with pytest.raises(
        TypeError,
        match=r"must be left out: it was removed in 0\.3\.0 \(the rollout trains with the "
        r"generator's own compile settings; compile the generator: "
        r"model\.compile\(optimizer=\.\.\., loss=\.\.\.\)\)\. Received: (optimizer|loss)=",
    ) as err:
        fit_closed_loop(compiled_generator(), two_waves(30), warmup=2, horizon=2, epochs=1, **old)
    assert err.value.name in old


def test_a_learning_rate_of_zero_leaves_the_weights_unchanged():
    keras.utils.set_random_seed(4)
    gen = compiled_generator(units=4, optimizer=keras.optimizers.SGD(0.0))
    before = [w.copy() for w in gen.get_weights()]
    fit_closed_loop(gen, two_waves(40), warmup=4, horizon=3, epochs=2, verbose=0)
    for a, b in zip(before, gen.get_weights()):
        np.testing.assert_array_equal(a, b)
    keras.utils.set_random_seed(4)
    moved = compiled_generator(units=4, optimizer=keras.optimizers.SGD(0.1))
    fit_closed_loop(moved, two_waves(40), warmup=4, horizon=3, epochs=2, verbose=0)
    assert any(not np.array_equal(a, b) for a, b in zip(before, moved.get_weights()))


def test_trains_as_the_rollout_model_compiled_by_hand_with_the_generators_settings():
    """``gen.compile(SGD(lr), "mae")`` then ``fit_closed_loop`` is the rollout model
    compiled by hand with ``SGD(lr)`` and ``"mae"`` (the old ``optimizer=``/``loss=``):
    the same losses, epoch by epoch, and the same weights after."""
    series = two_waves(50)
    warmup, horizon = 5, 4
    keras.utils.set_random_seed(5)
    gen = compiled_generator(units=3, optimizer=keras.optimizers.SGD(0.05), loss="mae")
    start = [w.copy() for w in gen.get_weights()]
    got = fit_closed_loop(
        gen,
        series,
        warmup=warmup,
        horizon=horizon,
        epochs=2,
        batch_size=8,
        shuffle=False,
        verbose=0,
    )
    keras.utils.set_random_seed(5)
    other = stateful_generator(1, units=3)
    other.set_weights(start)
    loop = closed_loop_model(other, warmup, horizon)
    loop.compile(optimizer=keras.optimizers.SGD(0.05), loss="mae")
    cut = np.stack([series[0, i : i + warmup + horizon] for i in range(50 - warmup - horizon + 1)])
    by_hand = loop.fit(cut[:, :-1], cut[:, 1:], epochs=2, batch_size=8, shuffle=False, verbose=0)
    np.testing.assert_allclose(got.history["loss"], by_hand.history["loss"], rtol=1e-5)
    for a, b in zip(gen.get_weights(), other.get_weights()):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)
    assert got.history["loss"][1] < got.history["loss"][0]  # it did train
    # a fresh optimizer of the same settings trained the rollout, not the generator's own
    assert int(keras.ops.convert_to_numpy(gen.optimizer.iterations)) == 0
