"""Compiled ``fit_stateful`` trains exactly as the path through Keras's ``fit``."""

import keras
import numpy as np
import pytest

from keras_lstm_patterns import _backends, many_to_one, stateful, stateful_generator, windows


def data(shape, seed=0):
    return np.random.default_rng(seed).normal(size=shape).astype("float32")


def plain_case(seed=0):
    keras.utils.set_random_seed(seed)
    model = many_to_one(3, 1, 4, outputs=1, stateful=True, batch_size=2)
    x, y = windows.look_back(np.sin(np.arange(23.0) / 3), 3)
    return model, x[:20], y[:20]


def chunked_case(cell="lstm", seed=0):
    keras.utils.set_random_seed(seed)
    model = stateful_generator(2, batch_size=2, units=(5,), cell=cell)
    x, y = windows.next_step(data((4, 11, 2), seed=seed))  # 2 groups of 2, 10 steps
    return model, x, y


def compile_(model, weights, **kwargs):
    model.set_weights(weights)
    model.compile(optimizer=keras.optimizers.Adam(0.01), loss="mse", metrics=["mae"], **kwargs)
    return model


def both(case, epochs=3, expect_compiled=True, **kwargs):
    """Train from the same weights through Keras's fit and compiled; histories, weights
    and states after. Checks which path the second run took."""
    model, x, y = case
    weights = model.get_weights()
    out = []
    programs = []
    real = _backends.train_epochs
    _backends.train_epochs = lambda *a: programs.append(a) or real(*a)
    try:
        for compiled in (False, True):
            compile_(model, weights)
            stateful.reset_states(model)
            hist = stateful.fit_stateful(
                model, x, y, epochs=epochs, verbose=0, compiled=compiled, **kwargs
            )
            out.append((hist.history, model.get_weights(), stateful.get_states(model)))
    finally:
        _backends.train_epochs = real
    assert len(programs) == int(expect_compiled)
    return out


def assert_same(old, new):
    (h_old, w_old, s_old), (h_new, w_new, s_new) = old, new
    assert sorted(h_old) == sorted(h_new)
    for key in h_old:
        assert len(h_new[key]) == len(h_old[key])
        np.testing.assert_allclose(h_new[key], h_old[key], rtol=1e-5, err_msg=key)
    for a, b in zip(w_new, w_old):
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-6)
    for a, b in zip(s_new[0], s_old[0]):
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-6)


def test_plain_losses_equal_epoch_by_epoch():
    old, new = both(plain_case(), epochs=4, batch_size=2)
    assert_same(old, new)
    assert old[0]["loss"][0] != old[0]["loss"][-1]  # it trained


@pytest.mark.parametrize("cell", ["lstm", "gru", "simple"])
@pytest.mark.parametrize("chunk", [1, 5, 4], ids=["chunk1", "divides", "shorter-last"])
def test_chunked_losses_equal_epoch_by_epoch(cell, chunk):
    old, new = both(chunked_case(cell), batch_size=2, chunk=chunk)
    assert_same(old, new)


def test_compiled_loss_is_the_whole_sequence_loss():
    """Against a plain reference, not only the old path: with a learning rate of 0 the
    reported loss is the mean loss of eager whole-group calls from zero state."""
    model, x, y = chunked_case(seed=4)
    model.compile(optimizer=keras.optimizers.SGD(0.0), loss="mse")
    want = []
    for g in (0, 2):
        stateful.reset_states(model)
        pred = keras.ops.convert_to_numpy(model(x[g : g + 2]))
        want.append(np.mean((pred - y[g : g + 2]) ** 2))
    hist = stateful.fit_stateful(model, x, y, epochs=2, batch_size=2, chunk=5, verbose=0)
    np.testing.assert_allclose(hist.history["loss"], [np.mean(want)] * 2, rtol=1e-5)


def test_validation_and_epoch_callbacks(tmp_path):
    model, x, y = plain_case(seed=1)
    vx, vy = x[:4], y[:4]
    weights = model.get_weights()
    runs = []
    for compiled in (False, True):
        compile_(model, weights)
        stop = keras.callbacks.EarlyStopping(monitor="loss", patience=0, min_delta=10.0)
        path = tmp_path / f"best-{compiled}.weights.h5"
        checkpoint = keras.callbacks.ModelCheckpoint(path, save_weights_only=True)
        hist = stateful.fit_stateful(
            model,
            x,
            y,
            epochs=5,
            batch_size=2,
            verbose=0,
            validation_data=(vx, vy),
            callbacks=[stop, checkpoint],
            compiled=compiled,
        )
        assert path.exists()
        runs.append((hist.history, model.get_weights(), stateful.get_states(model)))
    assert_same(*runs)
    # min_delta=10 stops after the second epoch; validation ran every epoch
    assert len(runs[1][0]["loss"]) == 2 and len(runs[1][0]["val_loss"]) == 2
    assert sorted(runs[1][0]) == ["loss", "mae", "val_loss", "val_mae"]


def test_validation_freq_and_initial_epoch():
    model, x, y = plain_case(seed=2)
    old, new = both(
        (model, x, y),
        epochs=4,
        batch_size=2,
        validation_data=(x[:4], y[:4]),
        validation_freq=2,
        initial_epoch=1,
    )
    assert_same(old, new)
    assert len(new[0]["loss"]) == 3 and len(new[0]["val_loss"]) == 2  # epochs 2 and 4


def test_progress_bar(capsys):
    model, x, y = plain_case()
    model.compile(optimizer="adam", loss="mse")
    hist = stateful.fit_stateful(model, x, y, epochs=2, batch_size=2, verbose=1)
    out = capsys.readouterr().out
    assert "Epoch 2/2" in out and "10/10" in out
    assert hist.epoch == [0, 1]


class BatchCounter(keras.callbacks.Callback):
    def __init__(self):
        super().__init__()
        self.batches = 0

    def on_train_batch_begin(self, batch, logs=None):
        self.batches += 1


def test_a_per_batch_callback_trains_through_keras_fit():
    """The callback sees every batch, and training is the same."""
    model, x, y = chunked_case()
    counter = BatchCounter()
    old, new = both(
        (model, x, y), batch_size=2, chunk=4, callbacks=[counter], expect_compiled=False
    )
    assert counter.batches == 2 * 3 * 2 * 3  # 2 runs x 3 epochs x 2 groups x 3 chunks
    assert_same(old, new)


def test_sample_weight_trains_through_keras_fit():
    model, x, y = plain_case()
    weights = np.linspace(0.5, 1.5, len(x)).astype("float32")
    old, new = both((model, x, y), batch_size=2, sample_weight=weights, expect_compiled=False)
    assert_same(old, new)


def test_states_reset_at_every_group_start():
    """Training a second group alone from the states the first left would differ: the
    compiled run must equal a run that trains the groups with a reset between them."""
    model, x, y = chunked_case(seed=5)
    weights = model.get_weights()
    compile_(model, weights)
    together = stateful.fit_stateful(model, x, y, epochs=1, batch_size=2, chunk=5, verbose=0)
    w_together = model.get_weights()
    compile_(model, weights)
    first = stateful.fit_stateful(model, x[:2], y[:2], epochs=1, batch_size=2, chunk=5, verbose=0)
    second = stateful.fit_stateful(model, x[2:], y[2:], epochs=1, batch_size=2, chunk=5, verbose=0)
    np.testing.assert_allclose(
        together.history["loss"][0],
        np.mean([first.history["loss"][0], second.history["loss"][0]]),
        rtol=1e-5,
    )
    for a, b in zip(model.get_weights(), w_together):
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-6)


def test_refusals_hold_on_the_compiled_path():
    model, x, y = plain_case()
    model.compile(optimizer="adam", loss="mse")
    with pytest.raises(ValueError, match=r"`shuffle` must be False"):
        stateful.fit_stateful(model, x, y, epochs=1, batch_size=2, shuffle=True)
    with pytest.raises(ValueError, match=r"`batch_size` must be a divisor"):
        stateful.fit_stateful(model, x[:5], y[:5], epochs=1, batch_size=2)
