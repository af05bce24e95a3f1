import keras
import numpy as np
import pytest

from keras_lstm_patterns import (
    many_to_many,
    many_to_one,
    stateful,
    stateful_generator,
    windows,
)
from keras_lstm_patterns.stateful._fit import _Chunks


def seeded_generator(features=2, batch_size=3, units=(6,), cell="lstm", seed=0):
    keras.utils.set_random_seed(seed)
    return stateful_generator(features, batch_size=batch_size, units=units, cell=cell)


def data(shape, seed=0):
    return np.random.default_rng(seed).normal(size=shape).astype("float32")


def call(model, x):
    """An eager call: it carries a stateful layer's state on every backend."""
    return keras.ops.convert_to_numpy(model(x))


@pytest.mark.parametrize("cell", ["lstm", "gru", "simple"])
@pytest.mark.parametrize("chunk", [1, 3, 7])
def test_chunks_equal_whole_sequence(cell, chunk):
    model = seeded_generator(cell=cell)
    seq = data((3, 10, 2))
    stateful.reset_states(model)
    whole = call(model, seq)
    np.testing.assert_allclose(stateful.predict_chunks(model, seq, chunk), whole, atol=1e-5)
    # the state is left where the last chunk ended
    stateful.reset_states(model)
    call(model, seq)
    after = call(model, seq[:, :2])
    stateful.predict_chunks(model, seq, chunk)
    np.testing.assert_allclose(call(model, seq[:, :2]), after, atol=1e-5)


@pytest.mark.skipif(keras.backend.backend() != "tensorflow", reason="Keras's own predict")
@pytest.mark.parametrize("chunk", [1, 4])
def test_keras_predict_on_batch_carries_state_on_tensorflow(chunk):
    model = seeded_generator()
    seq = data((3, 8, 2))
    stateful.reset_states(model)
    parts = [np.asarray(model.predict_on_batch(c)) for c in windows.stateful_chunks(seq, chunk)]
    np.testing.assert_allclose(
        np.concatenate(parts, axis=1), stateful.predict_chunks(model, seq, 8), atol=1e-5
    )


def test_predict_chunks_of_a_many_to_one_model_gives_the_last_output():
    keras.utils.set_random_seed(4)
    model = many_to_one(None, 2, 5, outputs=3, stateful=True, batch_size=2)
    seq = data((2, 9, 2), seed=4)
    stateful.reset_states(model)
    whole = call(model, seq)
    np.testing.assert_allclose(stateful.predict_chunks(model, seq, 4), whole, atol=1e-5)


def test_chunks_without_reset_differ():
    """The reference: without a reset the second pass starts from the old state."""
    model = seeded_generator()
    seq = data((3, 6, 2))
    stateful.reset_states(model)
    first = call(model, seq)
    second = call(model, seq)
    assert not np.allclose(first, second, atol=1e-4)
    assert stateful.reset_states(model) == 1
    np.testing.assert_allclose(call(model, seq), first, atol=1e-6)


def test_reset_reaches_nested_models():
    inner = seeded_generator(units=())
    inp = keras.Input(batch_shape=(3, None, 2))
    outer = keras.Model(inp, inner(inp))
    seq = data((3, 4, 2))
    first = call(outer, seq)
    assert stateful.reset_states(outer) == 1
    np.testing.assert_allclose(call(outer, seq), first, atol=1e-6)


def test_a_stateful_bidirectional_layer_is_reset_saved_and_trained():
    """Was: its forward and backward layers were not listed, so ``reset_states`` left
    their states and ``fit_stateful`` carried them across groups and epochs."""
    keras.utils.set_random_seed(0)
    inp = keras.Input(batch_shape=(2, 3, 1))
    both = keras.layers.Bidirectional(keras.layers.LSTM(4, stateful=True), name="bi")
    model = keras.Model(inp, keras.layers.Dense(1)(both(inp)))
    seq = data((2, 3, 1))
    first = call(model, seq)
    assert not np.allclose(call(model, seq), first, atol=1e-6)  # the states carried
    assert stateful.reset_states(model) == 2  # the forward and the backward layer
    np.testing.assert_allclose(call(model, seq), first, atol=1e-6)
    snap = stateful.get_states(model)
    assert len(snap) == 2 and [s.shape for s in snap[0]] == [(2, 4), (2, 4)]
    nxt = call(model, seq)
    stateful.set_states(model, snap)
    np.testing.assert_allclose(call(model, seq), nxt, atol=1e-6)
    # fit_stateful resets at every epoch: two one-epoch runs from the same weights and
    # zero states give the loss of one another
    model.compile(optimizer="sgd", loss="mse")
    x, y = data((4, 3, 1), seed=1), data((4, 1), seed=2)
    weights = model.get_weights()
    losses = []
    for _ in range(2):
        model.set_weights(weights)
        call(model, seq)  # leaves states behind
        losses.append(
            stateful.fit_stateful(model, x, y, batch_size=2, epochs=1, verbose=0).history["loss"]
        )
    np.testing.assert_allclose(losses[0], losses[1], rtol=1e-6)


def test_get_set_states_roundtrip(tmp_path):
    model = seeded_generator()
    seq = data((3, 5, 2))
    stateful.reset_states(model)
    model(seq)
    snap = stateful.get_states(model)
    assert len(snap) == 1 and [s.shape for s in snap[0]] == [(3, 6), (3, 6)]
    nxt = call(model, seq)
    stateful.set_states(model, snap)
    np.testing.assert_allclose(call(model, seq), nxt, atol=1e-6)
    path = stateful.save_states(model, tmp_path / "states")
    after = call(model, seq)
    model.save(tmp_path / "m.keras")
    loaded = keras.models.load_model(tmp_path / "m.keras")
    stateful.load_states(loaded, path)
    np.testing.assert_allclose(call(loaded, seq), after, atol=1e-6)


def test_with_batch_size_keeps_outputs():
    big = seeded_generator(batch_size=4)
    seq = data((4, 6, 2))
    stateful.reset_states(big)
    ref = call(big, seq)
    one = stateful.with_batch_size(big, 1)
    assert one.input_shape == (1, None, 2)
    for i in range(4):
        stateful.reset_states(one)
        np.testing.assert_allclose(call(one, seq[i : i + 1]), ref[i : i + 1], atol=1e-5)


def hand_generate(model, first, steps):
    stateful.reset_states(model)
    out, cur = [], first
    for _ in range(steps):
        cur = call(model, cur)[:, -1:]
        out.append(cur)
    return np.concatenate(out, axis=1)


def hand_forecast(model, history, steps):
    stateful.reset_states(model)
    cur = call(model, history)[:, -1:]
    out = [cur]
    for _ in range(steps - 1):
        cur = call(model, cur)[:, -1:]
        out.append(cur)
    return np.concatenate(out, axis=1)


@pytest.mark.parametrize("units", [(), (5, 4)], ids=["plain", "stack"])
def test_generate_equals_hand_loop(units):
    model = seeded_generator(units=units)
    first = data((3, 1, 2), seed=1)
    weights = [w.copy() for w in model.get_weights()]
    got = stateful.generate(model, first, 25)
    assert got.shape == (3, 25, 2)
    np.testing.assert_allclose(got, hand_generate(model, first, 25), atol=1e-5)
    for a, b in zip(weights, model.get_weights()):
        np.testing.assert_array_equal(a, b)


def test_forecast_equals_hand_loop():
    model = seeded_generator(units=(7,))
    history = data((3, 12, 2), seed=2)
    got = stateful.forecast(model, history, 15)
    assert got.shape == (3, 15, 2)
    np.testing.assert_allclose(got, hand_forecast(model, history, 15), atol=1e-5)
    # a second call resets first: same answer
    np.testing.assert_allclose(stateful.forecast(model, history, 15), got, atol=1e-6)


@pytest.mark.parametrize("function", ["generate", "forecast"])
def test_horizon_keyword_equals_positional_and_steps_is_refused(function):
    """``horizon`` counts the new steps (``steps`` is the input length everywhere): the
    keyword gives the positional call's result, the old ``steps=`` names the new one."""
    model = seeded_generator(units=(5,))
    given = data((3, 1, 2), seed=4) if function == "generate" else data((3, 6, 2), seed=4)
    run = getattr(stateful, function)
    positional = run(model, given, 7)
    np.testing.assert_array_equal(run(model, given, horizon=7), positional)
    assert positional.shape == (3, 7, 2)
    with pytest.raises(TypeError, match="renamed `horizon`") as err:
        run(model, given, steps=7)
    assert err.value.name == "steps" and err.value.value == 7
    assert str(err.value) == (
        "`steps` must be written `horizon`: it was renamed `horizon` in 0.3.0 (`horizon` "
        "counts the steps forecast, `steps` the time steps a sample reads). Received: steps=7"
    )
    with pytest.raises(TypeError, match="renamed `horizon`"):  # refused even beside horizon
        run(model, given, horizon=7, steps=7)


def test_help_shows_horizon_not_steps():
    import inspect

    for function in (stateful.generate, stateful.forecast):
        params = inspect.signature(function).parameters
        assert "horizon" in params and "steps" not in params, function.__name__
        assert "horizon:" in function.__doc__


def test_forecast_with_many_to_many_model():
    keras.utils.set_random_seed(3)
    model = many_to_many(None, 2, 5, outputs=2, stateful=True, batch_size=2)
    history = data((2, 8, 2), seed=3)
    np.testing.assert_allclose(
        stateful.forecast(model, history, 6), hand_forecast(model, history, 6), atol=1e-5
    )


class StateProbe(keras.callbacks.Callback):
    def __init__(self):
        super().__init__()
        self.at_epoch_start = []
        self.at_batch_start = []

    def _norm(self):
        sync = getattr(self.model, "jax_state_sync", None)  # JAX: fetch in-flight values
        if sync is not None:
            sync()
        return sum(float(np.abs(s).sum()) for s in stateful.get_states(self.model)[0])

    def on_train_batch_begin(self, batch, logs=None):
        self.at_batch_start.append(self._norm())

    def on_epoch_end(self, epoch, logs=None):
        self.at_epoch_start.append(self.at_batch_start[-self.params["steps"]])


def test_fit_stateful_resets_every_epoch():
    keras.utils.set_random_seed(0)
    model = many_to_one(3, 1, 4, outputs=1, stateful=True, batch_size=2)
    model.compile(optimizer="adam", loss="mse")
    x, y = windows.look_back(np.sin(np.arange(21.0) / 3), 3)
    x, y = x[:18], y[:18]
    probe = StateProbe()
    hist = stateful.fit_stateful(model, x, y, epochs=3, batch_size=2, callbacks=[probe], verbose=0)
    assert len(hist.history["loss"]) == 3
    assert probe.at_epoch_start == [0.0, 0.0, 0.0]
    # within an epoch the state is carried: later batches start from non-zero state
    assert probe.at_batch_start[1] > 0 and probe.at_batch_start[10] > 0


def test_fit_stateful_chunks_resets_between_groups():
    model = seeded_generator(batch_size=2, units=(4,))
    model.compile(optimizer="adam", loss="mse", run_eagerly=True)
    seq = data((4, 9, 2))
    x, y = windows.next_step(seq)  # 8 steps each
    probe = StateProbe()
    stateful.fit_stateful(
        model, x, y, epochs=2, batch_size=2, chunk=3, callbacks=[probe], verbose=0
    )
    starts = probe.at_batch_start
    # 2 groups x 3 chunks per epoch; chunks 0 and 3 of each epoch start from zero
    assert len(starts) == 12
    for i, v in enumerate(starts):
        assert (v == 0.0) == (i % 3 == 0), (i, v)


@pytest.mark.parametrize("chunk", [None, 1, 4, 5])
def test_fit_stateful_loss_is_the_whole_sequence_loss(chunk):
    """With a learning rate of 0 the weights stay put, so the loss fit reports must be
    the loss of whole-sequence predictions: only true if every chunk starts from the
    state the previous one left (on JAX and PyTorch Keras's fit alone would not)."""
    model = seeded_generator(batch_size=3, units=(5,), seed=6)
    model.compile(optimizer=keras.optimizers.SGD(0.0), loss="mse")
    x, y = windows.next_step(data((6, 13, 2), seed=6))  # 2 groups of 3, 12 steps
    expected = []
    for g in (0, 3):
        stateful.reset_states(model)
        expected.append(np.mean((call(model, x[g : g + 3]) - y[g : g + 3]) ** 2))
    if chunk is None:  # one batch per group, the state reset by the epoch
        hist = stateful.fit_stateful(model, x[:3], y[:3], epochs=2, batch_size=3, verbose=0)
        want = [expected[0]] * 2
    else:
        hist = stateful.fit_stateful(model, x, y, epochs=2, batch_size=3, chunk=chunk, verbose=0)
        sizes = [len(c[0]) for c in windows.stateful_chunks(x[:3], chunk)]
        # Keras reports the mean over batches of each batch's mean loss
        per_batch = []
        for g in (0, 3):
            stateful.reset_states(model)
            for xc, yc in zip(
                windows.stateful_chunks(x[g : g + 3], chunk),
                windows.stateful_chunks(y[g : g + 3], chunk),
            ):
                per_batch.append(np.mean((call(model, xc) - yc) ** 2))
        want = [np.mean(per_batch)] * 2
        if len(set(sizes)) == 1:
            np.testing.assert_allclose(np.mean(per_batch), np.mean(expected), rtol=1e-5)
    np.testing.assert_allclose(hist.history["loss"], want, rtol=1e-5)


def test_fit_stateful_chunks_train_on_the_right_batches():
    """The chunked data set yields group-major, time-ordered batches."""
    seq = np.arange(4 * 6 * 1, dtype="float32").reshape(4, 6, 1)
    ds = _Chunks(seq, None, 2, 4)
    got = [ds[i][0] for i in range(len(ds))]
    assert [g.shape for g in got] == [(2, 4, 1), (2, 2, 1)] * 2
    np.testing.assert_array_equal(got[1], seq[:2, 4:])
    np.testing.assert_array_equal(got[2], seq[2:, :4])


@pytest.mark.parametrize(
    ("call", "match"),
    [
        (
            lambda m, x, y: stateful.fit_stateful(m, x[:5], y[:5], epochs=1, batch_size=2),
            r"`batch_size` must be a divisor of the number of samples: 5 samples do not split into batches of 2.*batch_size=2",
        ),
        (
            lambda m, x, y: stateful.fit_stateful(m, x, y, epochs=1, batch_size=2, shuffle=True),
            r"`shuffle` must be False for a stateful model.*shuffle=True",
        ),
        (
            lambda m, x, y: stateful.fit_stateful(m, x, y, epochs=1, batch_size=4),
            r"`batch_size` must be the model's fixed batch size 2.*batch_size=4",
        ),
        (
            lambda m, x, y: stateful.fit_stateful(m, x, y, epochs=0, batch_size=2),
            r"`epochs` must be a positive integer",
        ),
        (
            lambda m, x, y: stateful.fit_stateful(
                many_to_one(3, 1, 2), x, y, epochs=1, batch_size=2
            ),
            r"`model` must be a model with a stateful recurrent layer",
        ),
    ],
    ids=["not-multiple", "shuffle", "wrong-batch", "epochs", "not-stateful"],
)
def test_fit_stateful_refusals(call, match):
    model = many_to_one(3, 1, 4, outputs=1, stateful=True, batch_size=2)
    model.compile(optimizer="adam", loss="mse")
    x, y = windows.look_back(np.arange(12.0), 3)
    with pytest.raises(ValueError, match=match):
        call(model, x, y)


def test_feedback_refusals():
    wide = many_to_many(None, 1, 3, outputs=2, stateful=True, batch_size=3)
    with pytest.raises(
        ValueError,
        match=r"input width is its output width plus K >= 0.*input features=1, output features=2",
    ):
        stateful.generate(wide, data((3, 1, 1)), 5)
    model = seeded_generator(batch_size=3)
    with pytest.raises(
        ValueError,
        match=r"`first_step` must be a batch of the model's fixed batch size 3.*batch size 2",
    ):
        stateful.generate(model, data((2, 1, 2)), 5)
    with pytest.raises(
        ValueError,
        match=r"`history` must be a batch of the model's fixed batch size 3.*batch size 1",
    ):
        stateful.forecast(model, data((1, 4, 2)), 5)
    with pytest.raises(ValueError, match=r"`first_step` must be one step long"):
        stateful.generate(model, data((3, 2, 2)), 5)
    with pytest.raises(ValueError, match=r"`horizon` must be between 1 and \d+"):
        stateful.forecast(model, data((3, 4, 2)), 0)
    with pytest.raises(
        ValueError, match=r"`history` must be of shape `\(batch=3, steps, features=2\)`"
    ):
        stateful.forecast(model, data((3, 4, 5)), 2)


def test_state_refusals(tmp_path):
    model = seeded_generator()
    with pytest.raises(ValueError, match=r"`states` must be one entry per stateful layer \(1\)"):
        stateful.set_states(model, [])
    with pytest.raises(ValueError, match=r"`states` must be arrays of shape \(3, 6\)"):
        stateful.set_states(model, [[np.zeros((2, 6)), np.zeros((2, 6))]])
    with pytest.raises(
        ValueError, match=r"`batch_size` must be a positive integer for a stateful model"
    ):
        stateful.with_batch_size(model, None)


@pytest.mark.parametrize("chunk", [2, 10])
def test_predict_chunks_takes_groups_of_the_batch_size(chunk):
    """N = 3 batches of 2: each group starts from zero state, as if predicted alone."""
    keras.utils.set_random_seed(6)
    model = stateful_generator(2, batch_size=2, units=4)
    seq = data((6, 10, 2), seed=6)
    alone = []
    for g in range(3):
        stateful.reset_states(model)
        alone.append(call(model, seq[2 * g : 2 * g + 2]))
    got = stateful.predict_chunks(model, seq, chunk)
    np.testing.assert_allclose(got, np.concatenate(alone), atol=1e-5)
    with pytest.raises(ValueError, match=r"N a multiple of 2 .*Received: shape \(5, 10, 2\)"):
        stateful.predict_chunks(model, seq[:5], chunk)


# --- reliability: refusals name the argument, and a refused call changes nothing ---------


def two_layer_generator():
    model = seeded_generator(features=3, batch_size=2, units=(4,), seed=11)
    if len(stateful.stateful_layers(model)) < 2:  # units=(4,) adds one layer before the out one
        model = seeded_generator(features=3, batch_size=2, units=(4, 5), seed=11)
    model(data((2, 3, 3), seed=11))  # non-zero states to compare against
    return model


def assert_states_equal(a, b):
    assert len(a) == len(b)
    for la, lb in zip(a, b):
        assert len(la) == len(lb)
        for sa, sb in zip(la, lb):
            np.testing.assert_array_equal(sa, sb)


def bad_entries(snap, layer, index, value):
    out = [[s.copy() for s in layer_states] for layer_states in snap]
    out[layer][index] = value
    return out


def test_set_states_writes_nothing_when_any_value_is_refused():
    model = two_layer_generator()
    before = stateful.get_states(model)
    assert len(before) >= 2 and np.abs(before[0][0]).sum() > 0
    n_layers = len(before)
    shape_last = before[-1][1].shape
    good_first = [np.full_like(s, 42.0) for s in before[0]]
    cases = [
        # layer 1 fine (42s), the last layer's second state of the wrong shape
        (
            [good_first, *before[1:-1], [before[-1][0], np.zeros((5, shape_last[1]))]],
            ValueError,
            r"`states` must be arrays of shape .*Received: shape \(5, \d+\) at states\[\d\]\[1\]",
        ),
        (
            [good_first, *before[1:-1], [before[-1][0], np.full(shape_last, np.nan)]],
            ValueError,
            r"`states\[\d\]\[1\]` must be finite \(no NaN or inf\)\. Received: states\[\d\]\[1\]\[0, 0\]=nan",
        ),
        (
            [good_first, *before[1:-1], [before[-1][0]]],
            ValueError,
            r"`states` must be 2 arrays for layer",
        ),
        (
            [good_first, *before[1:-1], [before[-1][0], np.full(shape_last, "a")]],
            TypeError,
            r"`states\[\d\]\[1\]` must be real numbers \(integer or float\)\. Received: .*dtype <U1",
        ),
        ([good_first, *before[1:-1], "ab"], TypeError, r"`states\[\d\]` must be a list of arrays"),
        (
            [good_first] * (n_layers + 1),
            ValueError,
            rf"`states` must be one entry per stateful layer \({n_layers}\)",
        ),
    ]
    for states, error, match in cases:
        with pytest.raises(error, match=match):
            stateful.set_states(model, states)
        assert_states_equal(stateful.get_states(model), before)
    # the reference: the same first entry in a valid call is written
    stateful.set_states(model, [good_first, *before[1:]])
    assert stateful.get_states(model)[0][0].max() == 42.0


@pytest.mark.parametrize(
    "states", [None, "states", {"0": []}, 3.0], ids=["none", "str", "dict", "float"]
)
def test_set_states_refuses_a_non_list(states):
    model = two_layer_generator()
    before = stateful.get_states(model)
    with pytest.raises(
        TypeError,
        match=r"`states` must be a list with one list of `\(batch, units\)` arrays per stateful layer.*Received: states of type",
    ):
        stateful.set_states(model, states)
    assert_states_equal(stateful.get_states(model), before)


@pytest.mark.parametrize("model", [None, "model", {}], ids=["none", "str", "dict"])
def test_reset_states_refuses_a_non_model(model):
    with pytest.raises(TypeError, match=r"`model` must be a keras.Model\. Received: model of type"):
        stateful.reset_states(model)


def test_save_states_overwrite_and_atomic(tmp_path):
    model = two_layer_generator()
    snap = stateful.get_states(model)
    path = stateful.save_states(model, tmp_path / "s")
    assert path == tmp_path / "s.npz"
    assert stateful.save_states(model, tmp_path / "upper.NPZ") == tmp_path / "upper.NPZ"
    old = path.read_bytes()
    stateful.reset_states(model)
    with pytest.raises(ValueError, match=r"`path` must be a new file with overwrite=False.*s\.npz"):
        stateful.save_states(model, path, overwrite=False)
    assert path.read_bytes() == old
    with pytest.raises(TypeError, match=r"`overwrite` must be True or False"):
        stateful.save_states(model, path, overwrite="no")
    stateful.save_states(model, path)  # overwrite=True by default, as model.save
    assert path.read_bytes() != old
    # a failure while writing leaves the old file and no temporary one
    stateful.save_states(model, tmp_path / "keep.npz")
    kept = (tmp_path / "keep.npz").read_bytes()
    stateful.set_states(model, snap)

    def broken(*args, **kwargs):
        raise OSError("disk full")

    real = np.savez
    np.savez = broken
    try:
        with pytest.raises(OSError, match="disk full"):
            stateful.save_states(model, tmp_path / "keep.npz")
    finally:
        np.savez = real
    assert (tmp_path / "keep.npz").read_bytes() == kept
    assert sorted(p.name for p in tmp_path.iterdir()) == ["keep.npz", "s.npz", "upper.NPZ"]
    stateful.load_states(model, tmp_path / "keep.npz")
    assert all(np.abs(s).sum() == 0 for layer in stateful.get_states(model) for s in layer)


def test_save_states_refusals(tmp_path):
    model = two_layer_generator()
    (tmp_path / "folder.npz").mkdir()
    with pytest.raises(ValueError, match=r"`path` must be a file name, not a folder"):
        stateful.save_states(model, tmp_path)
    with pytest.raises(ValueError, match=r"`path` must be a file name, not a folder.*folder\.npz"):
        stateful.save_states(model, tmp_path / "folder")
    with pytest.raises(
        ValueError, match=r"`path` must be in an existing folder.*\(no folder .*missing'\)"
    ):
        stateful.save_states(model, tmp_path / "missing" / "s.npz")
    with pytest.raises(
        TypeError,
        match=r"`path` must be a file path \(str or pathlib.Path\)\. Received: path of type NoneType",
    ):
        stateful.save_states(model, None)
    with open(tmp_path / "f.npz", "wb") as f:
        with pytest.raises(TypeError, match=r"Received: path of type BufferedWriter"):
            stateful.save_states(model, f)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["f.npz", "folder.npz"]
    assert (tmp_path / "f.npz").read_bytes() == b""


def test_load_states_refuses_other_files(tmp_path):
    model = two_layer_generator()
    before = stateful.get_states(model)
    np.savez(tmp_path / "other.npz", weights=np.zeros(3))
    np.save(tmp_path / "one.npy", np.zeros(3))
    (tmp_path / "notes.txt").write_text("not an array\n")
    np.savez(
        tmp_path / "gap.npz", **{"0__0": before[0][0], "0__1": before[0][1], "2__0": before[0][0]}
    )
    np.savez(
        tmp_path / "shape.npz",
        **{f"{i}__{j}": s[:1] for i, la in enumerate(before) for j, s in enumerate(la)},
    )
    rule = r"`path` must be an \.npz file written by save_states"
    cases = [
        ("other.npz", rule + r".*with an array named 'weights'"),
        ("one.npy", rule + r".*a single array \(\.npy\)"),
        ("notes.txt", rule + r".*which numpy cannot read as \.npz"),
        ("gap.npz", rule + r".*numbered from 0 without gaps"),
        (
            "shape.npz",
            r"`path` must be states that fit the model.*`states` must be arrays of shape",
        ),
        ("missing.npz", r"`path` must be an existing \.npz file"),
    ]
    for name, match in cases:
        with pytest.raises(ValueError, match=match):
            stateful.load_states(model, tmp_path / name)
        assert_states_equal(stateful.get_states(model), before)
    with pytest.raises(TypeError, match=r"`path` must be a file path"):
        stateful.load_states(model, None)


@pytest.mark.parametrize("every", [-1, 0, 2.5, "2"])
def test_reset_states_callback_refuses_every(every):
    with pytest.raises(ValueError, match=r"`every` must be None or a positive integer"):
        stateful.ResetStates(every=every)


def fit_case():
    keras.utils.set_random_seed(0)
    model = many_to_one(3, 1, 4, outputs=1, stateful=True, batch_size=2)
    model.compile(optimizer="adam", loss="mse")
    x, y = windows.look_back(np.sin(np.arange(15.0)), 3)  # 12 windows
    return model, x.astype("float32"), y.astype("float32")


def with_value(a, index, value):
    a = a.copy()
    a[index] = value
    return a


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        (
            {"x": "nan"},
            ValueError,
            r"`x` must be finite \(no NaN or inf\)\. Received: x\[5, 1, 0\]=nan",
        ),
        (
            {"y": "inf"},
            ValueError,
            r"`y` must be finite \(no NaN or inf\)\. Received: y\[7, 0\]=inf",
        ),
        (
            {"x": None},
            TypeError,
            r"`x` must be an array of real numbers\. Received: x of type NoneType",
        ),
        (
            {"x": "empty"},
            ValueError,
            r"`x` must be samples .*with at least one sample.*\(0, 3, 1\)",
        ),
        (
            {"validation_data": "short"},
            ValueError,
            r"`validation_data` must be whole batches: .*multiple of batch_size 2.*Received: validation_data with 1 samples",
        ),
        (
            {"validation_data": "nan"},
            ValueError,
            r"`validation_data\[0\]` must be finite .*validation_data\[0\]\[1, 0, 0\]=nan",
        ),
        (
            {"validation_data": "one"},
            ValueError,
            r"`validation_data` must be a tuple \(x_val, y_val\)",
        ),
    ],
    ids=["nan-x", "inf-y", "none-x", "empty-x", "short-validation", "nan-validation", "one-item"],
)
def test_fit_stateful_refuses_bad_data_before_training(kwargs, error, match):
    model, x, y = fit_case()
    args = {"x": x, "y": y}
    fit_kwargs = {}
    for key, what in kwargs.items():
        if key == "validation_data":
            fit_kwargs["validation_data"] = {
                "short": (x[:1], y[:1]),
                "nan": (with_value(x[:4], (1, 0, 0), np.nan), y[:4]),
                "one": (x[:4],),
            }[what]
        else:
            args[key] = {
                "nan": with_value(x, (5, 1, 0), np.nan),
                "inf": with_value(y, (7, 0), np.inf),
                None: None,
                "empty": x[:0],
            }[what]
    weights = [w.copy() for w in model.get_weights()]
    with pytest.raises(error, match=match):
        stateful.fit_stateful(
            model, args["x"], args["y"], epochs=1, batch_size=2, verbose=0, **fit_kwargs
        )
    for a, b in zip(weights, model.get_weights()):
        np.testing.assert_array_equal(a, b)


def test_fit_stateful_chunk_names_y():
    model = seeded_generator(batch_size=2, units=(4,))
    model.compile(optimizer="adam", loss="mse")
    x = data((2, 6, 2))
    with pytest.raises(
        ValueError,
        match=r"`y` must be whole sequences `\(samples, steps=6, outputs\)` with chunk=.*y with shape \(2, 2\)",
    ):
        stateful.fit_stateful(model, x, x[:, -1], epochs=1, batch_size=2, chunk=2, verbose=0)
    with pytest.raises(ValueError, match=r"`chunk` must be between 1 and 6 for 6 steps"):
        stateful.fit_stateful(model, x, x, epochs=1, batch_size=2, chunk=7, verbose=0)


def test_feedback_and_chunk_refusals_name_the_argument():
    model = seeded_generator(batch_size=3)
    with pytest.raises(
        ValueError,
        match=r"`horizon` must be between 1 and \d+ \(the outputs.*Received: horizon=2147483648",
    ):
        stateful.generate(model, data((3, 1, 2)), 2**31)
    with pytest.raises(
        ValueError, match=r"`history` must be at least one step long\. Received: shape \(3, 0, 2\)"
    ):
        stateful.forecast(model, data((3, 0, 2)), 2)
    with pytest.raises(
        ValueError,
        match=r"`history` must be finite \(no NaN or inf\)\. Received: history\[1, 2, 0\]=nan",
    ):
        stateful.forecast(model, with_value(data((3, 4, 2)), (1, 2, 0), np.nan), 2)
    with pytest.raises(TypeError, match=r"`first_step` must be an array of real numbers"):
        stateful.generate(model, None, 2)
    with pytest.raises(ValueError, match=r"`sequences` must be finite .*sequences\[0, 3, 1\]=inf"):
        stateful.predict_chunks(model, with_value(data((3, 5, 2)), (0, 3, 1), np.inf), 2)
    with pytest.raises(TypeError, match=r"`sequences` must be real numbers .*complex"):
        stateful.predict_chunks(model, data((3, 5, 2)) * 1j, 2)
    fixed = many_to_many(4, 2, 3, outputs=2, stateful=True, batch_size=3)
    with pytest.raises(
        ValueError, match=r"`model` must be a model with a free steps axis.*fixed steps"
    ):
        stateful.forecast(fixed, data((3, 4, 2)), 2)
    with pytest.raises(
        ValueError, match=r"`chunk` must be the model's fixed steps 4.*Received: chunk=2"
    ):
        stateful.predict_chunks(fixed, data((3, 8, 2)), 2)
    with pytest.raises(
        ValueError, match=r"`sequences` must be a multiple of the model's fixed steps 4 long"
    ):
        stateful.predict_chunks(fixed, data((3, 6, 2)), 4)


def test_predict_chunks_with_a_fixed_steps_model_equals_whole_sequence():
    keras.utils.set_random_seed(8)
    fixed = many_to_many(4, 2, 3, outputs=2, stateful=True, batch_size=3)
    seq = data((3, 8, 2), seed=8)
    got = stateful.predict_chunks(fixed, seq, 4)
    stateful.reset_states(fixed)
    ref = np.concatenate([call(fixed, seq[:, :4]), call(fixed, seq[:, 4:])], axis=1)
    np.testing.assert_allclose(got, ref, atol=1e-6)


def test_with_batch_size_keeps_compile_settings():
    model, _, _ = fit_case()
    model.compile(
        optimizer=keras.optimizers.SGD(0.05, momentum=0.5),
        loss="mae",
        metrics=["mse"],
        steps_per_execution=2,
    )
    clone = stateful.with_batch_size(model, 4)
    assert clone.compiled and clone.optimizer is not model.optimizer
    assert isinstance(clone.optimizer, keras.optimizers.SGD)
    assert float(clone.optimizer.learning_rate) == pytest.approx(0.05)
    assert clone.optimizer.momentum == 0.5 and clone.steps_per_execution == 2
    # an uncompiled model stays uncompiled
    assert not stateful.with_batch_size(seeded_generator(), 1).compiled


def test_compile_like_compiles_a_model_whose_class_has_its_own_compile():
    """Keras's ``compile_from_config`` only warns for such a class: the settings are
    passed to its own ``compile`` (a fresh optimizer of the same configuration)."""
    from keras_lstm_patterns._compile import compile_like

    calls = []

    class Own(keras.Model):
        def compile(self, *args, **kwargs):
            calls.append(sorted(kwargs))
            super().compile(*args, **kwargs)

    source = keras.Sequential([keras.Input((3,)), keras.layers.Dense(1)])
    source.compile(optimizer=keras.optimizers.SGD(0.02, momentum=0.4), loss="mae")
    inp = keras.Input((3,))
    target = Own(inp, keras.layers.Dense(1)(inp))
    assert compile_like(source, target) and calls
    assert isinstance(target.optimizer, keras.optimizers.SGD)
    assert target.optimizer is not source.optimizer
    assert float(target.optimizer.learning_rate) == pytest.approx(0.02)
    assert target.optimizer.momentum == pytest.approx(0.4)
    x = data((4, 3))
    y = data((4, 1), seed=1)
    pred = np.asarray(target.predict(x, verbose=0))
    loss = target.evaluate(x, y, verbose=0)
    assert loss == pytest.approx(float(np.mean(np.abs(pred - y))), rel=1e-5)
    # an uncompiled model compiles nothing
    other = Own(inp, keras.layers.Dense(1)(inp))
    assert not compile_like(keras.Sequential([keras.Input((3,)), keras.layers.Dense(1)]), other)
    assert not other.compiled


def test_with_batch_size_keeps_the_loss_and_metrics():
    model, x, y = fit_case()
    # (no steps_per_execution here: with one batch to evaluate, PyTorch's trainer warns
    # that the input ran out of data)
    model.compile(optimizer=keras.optimizers.SGD(0.05), loss="mae", metrics=["mse"])
    clone = stateful.with_batch_size(model, 4)
    # the loss and metric are the ones compiled: evaluate against a hand computation
    stateful.reset_states(clone)
    pred = call(clone, x[:4])
    stateful.reset_states(clone)
    result = clone.evaluate(x[:4], y[:4], batch_size=4, verbose=0, return_dict=True)
    assert result["loss"] == pytest.approx(float(np.mean(np.abs(pred - y[:4]))), rel=1e-5)
    assert result["mse"] == pytest.approx(float(np.mean((pred - y[:4]) ** 2)), rel=1e-5)


def test_with_batch_size_keeps_a_custom_loss_function():
    model, x, y = fit_case()

    def doubled(a, b):
        return 2.0 * keras.ops.mean(keras.ops.square(a - b), axis=-1)

    model.compile(optimizer="adam", loss=doubled)
    clone = stateful.with_batch_size(model, 4)
    stateful.reset_states(clone)
    pred = call(clone, x[:4])
    stateful.reset_states(clone)
    loss = clone.evaluate(x[:4], y[:4], batch_size=4, verbose=0)
    assert loss == pytest.approx(2 * float(np.mean((pred - y[:4]) ** 2)), rel=1e-5)


def test_values_beyond_float32_are_named():
    model = seeded_generator(batch_size=3)
    seq = with_value(data((3, 5, 2)).astype("float64"), (2, 1, 0), 1e300)
    with pytest.raises(
        ValueError,
        match=r"`sequences` must be values that float32 can hold .*sequences\[2, 1, 0\]=1e\+300",
    ):
        stateful.predict_chunks(model, seq, 2)
