"""Each row of docs/keras3-migration.md: the modern form runs; the old one fails as stated."""

import warnings

import keras
import numpy as np
import pytest

from keras_lstm_patterns import many_to_one, stateful


def small_model():
    inp = keras.Input(shape=(3, 1))
    return keras.Model(inp, keras.layers.Dense(1)(keras.layers.LSTM(2)(inp)))


X, Y = np.zeros((4, 3, 1), "float32"), np.zeros((4, 1), "float32")


def test_epochs_not_nb_epoch():
    m = small_model()
    m.compile(optimizer="adam", loss="mse", run_eagerly=True)
    with pytest.raises(TypeError):
        m.fit(X, Y, nb_epoch=1, verbose=0)
    assert len(m.fit(X, Y, epochs=2, verbose=0).history["loss"]) == 2


def test_batch_shape_not_batch_input_shape():
    with pytest.raises(ValueError):
        keras.layers.LSTM(4, batch_input_shape=(1, 3, 1), stateful=True)
    with pytest.raises(TypeError):
        keras.Input(batch_input_shape=(1, 3, 1))
    inp = keras.Input(batch_shape=(1, 3, 1))
    m = keras.Model(inp, keras.layers.LSTM(4, stateful=True)(inp))
    assert m.input_shape == (1, 3, 1)
    assert many_to_one(3, 1, 4, stateful=True, batch_size=1).input_shape == (1, 3, 1)


def test_model_inputs_outputs():
    inp = keras.Input(shape=(3, 1))
    out = keras.layers.LSTM(2)(inp)
    with pytest.raises((TypeError, ValueError)):
        keras.Model(input=inp, output=out)
    assert keras.Model(inp, out).output_shape == (None, 2)


def test_embedding_location():
    assert not hasattr(keras.layers, "embeddings")
    assert keras.layers.Embedding(10, 4)(np.zeros((1, 3), "int32")).shape == (1, 3, 4)


def test_learning_rate_and_decay():
    with pytest.raises(ValueError):
        keras.optimizers.Adam(lr=0.009)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        keras.optimizers.Adam(learning_rate=0.009, decay=0.01)
    assert caught  # accepted with a warning ...
    schedule = keras.optimizers.schedules.InverseTimeDecay(0.009, decay_steps=1, decay_rate=0.01)
    opt = keras.optimizers.Adam(learning_rate=schedule)
    # ... while the schedule reproduces the old lr / (1 + decay * iterations)
    assert float(schedule(100)) == pytest.approx(0.009 / (1 + 0.01 * 100))
    m = small_model()
    m.compile(optimizer=opt, loss="mse", run_eagerly=True)
    m.fit(X, Y, epochs=1, verbose=0)


def test_reset_states_moved():
    m = many_to_one(3, 1, 2, stateful=True, batch_size=4)
    assert not hasattr(m, "reset_states")
    m(X)
    assert stateful.reset_states(m) == 1
    assert all(np.all(keras.ops.convert_to_numpy(s) == 0) for s in m.get_layer("lstm_1").states)
