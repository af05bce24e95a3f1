"""Keras's own methods carry a stateful PatternModel's states on every backend."""

import keras
import numpy as np
import pytest

from keras_lstm_patterns import many_to_one, stateful, stateful_generator, windows


def generator(batch_size=3, seed=0):
    keras.utils.set_random_seed(seed)
    return stateful_generator(2, batch_size=batch_size, units=(6,))


def data(shape, seed=0):
    return np.random.default_rng(seed).normal(size=shape).astype("float32")


def call(model, x):
    """An eager call: it carries a stateful layer's state on every backend."""
    return keras.ops.convert_to_numpy(model(x))


def whole(model, seq):
    stateful.reset_states(model)
    return call(model, seq)


METHODS = {
    "predict": lambda m, c: m.predict(c, batch_size=len(c), verbose=0),
    "predict_on_batch": lambda m, c: m.predict_on_batch(c),
}


@pytest.mark.parametrize("method", list(METHODS))
@pytest.mark.parametrize("chunk", [1, 3, 8])
def test_keras_predict_in_chunks_equals_the_whole_sequence(method, chunk):
    model = generator()
    seq = data((3, 8, 2))
    want = whole(model, seq)
    stateful.reset_states(model)
    parts = [np.asarray(METHODS[method](model, c)) for c in windows.stateful_chunks(seq, chunk)]
    np.testing.assert_allclose(np.concatenate(parts, axis=1), want, atol=1e-5)
    # and the states are those the whole sequence leaves (not zero)
    after = stateful.get_states(model)
    whole(model, seq)
    for got, ref in zip(after[0], stateful.get_states(model)[0]):
        assert np.abs(ref).sum() > 0
        np.testing.assert_allclose(got, ref, atol=1e-5)


def test_predict_carries_from_batch_to_batch():
    """``predict`` over 2 batches of one stream: batch 2 continues batch 1."""
    model = generator(batch_size=1)
    seq = data((1, 6, 2))
    want = whole(model, seq)
    stateful.reset_states(model)
    got = model.predict(np.concatenate([seq[:, :3], seq[:, 3:]]), batch_size=1, verbose=0)
    np.testing.assert_allclose(np.concatenate([got[:1], got[1:]], axis=1), want, atol=1e-5)


@pytest.mark.parametrize("method", ["evaluate", "test_on_batch"])
def test_keras_evaluate_in_chunks_gives_the_whole_sequence_losses(method):
    model = generator()
    model.compile(optimizer="sgd", loss="mse")
    x, y = windows.next_step(data((3, 9, 2), seed=1))
    pred = whole(model, x)
    stateful.reset_states(model)
    for xc, yc, pc in zip(
        windows.stateful_chunks(x, 3),
        windows.stateful_chunks(y, 3),
        windows.stateful_chunks(pred, 3),
    ):
        if method == "evaluate":
            loss = model.evaluate(xc, yc, batch_size=3, verbose=0)
        else:
            loss = model.test_on_batch(xc, yc)
        np.testing.assert_allclose(loss, np.mean((pc - yc) ** 2), rtol=1e-5)


def test_train_on_batch_in_chunks_trains_as_fit_stateful():
    """Chunk by chunk ``train_on_batch`` (with a reset before the group) gives the
    losses and weights of ``fit_stateful(chunk=)`` over one epoch."""
    x, y = windows.next_step(data((3, 10, 2), seed=2))
    ref = generator(seed=3)
    ref.compile(optimizer=keras.optimizers.Adam(0.01), loss="mse")
    hist = stateful.fit_stateful(ref, x, y, epochs=1, batch_size=3, chunk=4, verbose=0)
    model = generator(seed=3)
    model.compile(optimizer=keras.optimizers.Adam(0.01), loss="mse")
    stateful.reset_states(model)
    losses = [
        float(model.train_on_batch(xc, yc))
        for xc, yc in zip(windows.stateful_chunks(x, 4), windows.stateful_chunks(y, 4))
    ]
    np.testing.assert_allclose(np.mean(losses), hist.history["loss"][0], rtol=1e-5)
    for a, b in zip(model.get_weights(), ref.get_weights()):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)


def test_keras_fit_carries_from_batch_to_batch():
    """With a learning rate of 0, ``fit``'s loss is the mean loss of an eager pass that
    carries the states from sample to sample (on JAX Keras alone would reset them)."""
    keras.utils.set_random_seed(5)
    model = many_to_one(3, 1, 4, outputs=1, stateful=True, batch_size=1)
    model.compile(optimizer=keras.optimizers.SGD(0.0), loss="mse")
    x, y = windows.look_back(np.sin(np.arange(15.0) / 2), 3)
    stateful.reset_states(model)
    want = np.mean([(call(model, x[i : i + 1])[0, 0] - y[i, 0]) ** 2 for i in range(len(x))])
    stateful.reset_states(model)
    hist = model.fit(x, y, batch_size=1, epochs=1, shuffle=False, verbose=0)
    np.testing.assert_allclose(hist.history["loss"][0], want, rtol=1e-5)


def test_the_states_stay_out_of_the_weights():
    """Carrying is set up for one call only: the model's variables are unchanged after."""
    model = generator()
    model.compile(optimizer="sgd", loss="mse")
    before = [v.path for v in model.variables]
    x, y = windows.next_step(data((3, 5, 2)))
    model.fit(x, y, batch_size=3, epochs=1, verbose=0, validation_data=(x, y))
    model.predict_on_batch(x)
    model.train_on_batch(x, y)
    assert [v.path for v in model.variables] == before
    assert len(model.get_weights()) == len(generator().get_weights())
