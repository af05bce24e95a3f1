from pathlib import Path

import keras
import numpy as np
import pytest

from keras_lstm_patterns import (
    PATTERNS,
    layers,
    many_to_many,
    many_to_one,
    next_token_model,
    one_to_many,
    seq2seq_autoencoder,
    stateful_generator,
    windows,
)

from .helpers import check_model, sample_input

CELLS = ["lstm", "gru", "simple"]
DATA = Path(__file__).resolve().parent / "data"


def lstm_params(features, units):
    return 4 * units * (features + units + 1)


CELL_GATES = {"lstm": 4, "gru": 3, "simple": 1}


def rnn_params(cell, features, units):
    gates = CELL_GATES[cell]
    extra = units * gates if cell == "gru" else 0  # GRU reset_after=True: second bias
    return gates * units * (features + units + 1) + extra


@pytest.mark.parametrize("cell", list(CELLS))
@pytest.mark.parametrize("units", [8, (8, 4)], ids=["one", "stack"])
@pytest.mark.parametrize("outputs", [None, 3], ids=["no-head", "head"])
@pytest.mark.parametrize("steps", [5, None], ids=["steps5", "any-steps"])
def test_many_to_one_shapes(tmp_path, cell, units, outputs, steps):
    m = many_to_one(steps, 2, units, outputs=outputs, cell=cell)
    u = (units,) if isinstance(units, int) else units
    width = outputs or u[-1]
    params = sum(rnn_params(cell, f, k) for f, k in zip((2, *u[:-1]), u))
    params += (u[-1] + 1) * outputs if outputs else 0
    check_model(m, tmp_path, output_shape=(None, width), params=params)
    assert m.name == "many_to_one"


@pytest.mark.parametrize("cell", list(CELLS))
@pytest.mark.parametrize("units", [8, (8, 4)], ids=["one", "stack"])
@pytest.mark.parametrize("outputs", [None, 1], ids=["no-head", "head"])
def test_many_to_many_shapes(tmp_path, cell, units, outputs):
    m = many_to_many(None, 3, units, outputs=outputs, cell=cell)
    u = (units,) if isinstance(units, int) else units
    check_model(m, tmp_path, output_shape=(None, None, outputs or u[-1]))
    if outputs:
        assert isinstance(m.get_layer("head"), keras.layers.TimeDistributed)


@pytest.mark.parametrize("cell", list(CELLS))
@pytest.mark.parametrize("outputs", [None, 2])
def test_one_to_many_shapes(tmp_path, cell, outputs):
    m = one_to_many(6, 3, (8, 4), outputs=outputs, cell=cell)  # (steps, features, units)
    check_model(m, tmp_path, output_shape=(None, 6, outputs or 4))
    assert m.input_shape == (None, 3)
    assert m.get_layer("repeat").n == 6


def test_one_to_many_takes_steps_first_like_many_to_one():
    assert one_to_many(24, 3, 32, outputs=1).input_shape == (None, 3)
    assert one_to_many(24, 3, 32, outputs=1).output_shape == (None, 24, 1)
    assert one_to_many(steps=24, features=3, units=32).output_shape == (None, 24, 32)


@pytest.mark.parametrize("how", ["call", "fit"])
def test_one_to_many_fed_the_other_way_round_says_the_order_changed(how):
    m = one_to_many(3, 6, 8, outputs=1)  # meant: 6 steps of 3 features, in the old order
    x, y = np.zeros((4, 3), "float32"), np.zeros((4, 6, 1), "float32")
    match = (
        r"Its steps and features look swapped: `one_to_many` takes `\(steps, features, "
        r"units\)`, the order of `many_to_one` \(version 0.1.0 took `\(features, steps, "
        r"units\)`\)\."
    )
    with pytest.raises(ValueError, match=match):
        if how == "call":
            m(x)
        else:
            m.compile(optimizer="adam", loss="mse")
            m.fit(x, y, epochs=1, verbose=0)


@pytest.mark.parametrize("units", [(), 8, (8, 4)], ids=["plain", "hidden", "stack"])
@pytest.mark.parametrize("cell", list(CELLS))
def test_stateful_generator_shapes(tmp_path, units, cell):
    m = stateful_generator(2, batch_size=3, units=units, cell=cell)
    check_model(m, tmp_path, output_shape=(3, None, 2))
    assert all(la.stateful for la in m.layers if isinstance(la, keras.layers.RNN))
    assert m.input_shape == (3, None, 2)


@pytest.mark.parametrize("cell", list(CELLS))
@pytest.mark.parametrize(("enc", "dec"), [((), ()), ((8,), (8, 6))], ids=["plain", "stacked"])
def test_seq2seq(tmp_path, cell, enc, dec):
    ae = seq2seq_autoencoder(6, 3, encoder_units=enc, latent=5, decoder_units=dec, cell=cell)
    assert ae.encoder.output_shape == (None, 5)
    assert ae.decoder.input_shape == (None, 5)
    check_model(ae.autoencoder, tmp_path, output_shape=(None, 6, 3))
    x = sample_input(ae.autoencoder)
    np.testing.assert_allclose(
        keras.ops.convert_to_numpy(ae.autoencoder(x)),
        keras.ops.convert_to_numpy(ae.decoder(ae.encoder(x))),
        atol=1e-6,
    )


@pytest.mark.parametrize("cell", list(CELLS))
def test_next_token(tmp_path, cell):
    m = next_token_model(20, embedding_dim=4, units=(8, 6), cell=cell)
    check_model(m, tmp_path, output_shape=(None, None, 20), loss="sparse_categorical_crossentropy")
    probs = keras.ops.convert_to_numpy(m(sample_input(m)))
    np.testing.assert_allclose(probs.sum(-1), 1.0, atol=1e-5)
    tokens = np.random.default_rng(0).integers(0, 20, size=(4, 9))
    x, y = windows.next_step(tokens)
    m.compile(optimizer="adam", loss="sparse_categorical_crossentropy", run_eagerly=True)
    assert np.isfinite(m.train_on_batch(x, y))


def test_many_to_one_is_last_step_of_many_to_many():
    keras.utils.set_random_seed(0)
    a = many_to_many(7, 3, (6, 5), outputs=2)
    b = many_to_one(7, 3, (6, 5), outputs=2)
    b.set_weights(a.get_weights())
    x = sample_input(a, batch=4)
    np.testing.assert_allclose(
        keras.ops.convert_to_numpy(b(x)), keras.ops.convert_to_numpy(a(x))[:, -1], atol=1e-6
    )


def test_dense_equals_time_distributed_dense():
    keras.utils.set_random_seed(0)
    x = np.random.default_rng(0).normal(size=(4, 6, 5)).astype("float32")
    dense = keras.layers.Dense(3)
    td = keras.layers.TimeDistributed(keras.layers.Dense(3))
    dense.build((None, 6, 5))
    td.build((None, 6, 5))
    td.set_weights(dense.get_weights())
    np.testing.assert_allclose(
        keras.ops.convert_to_numpy(dense(x)), keras.ops.convert_to_numpy(td(x)), atol=1e-6
    )
    assert dense.count_params() == td.count_params()


@pytest.mark.parametrize("cell", list(CELLS))
def test_masked_padded_batch_equals_unpadded(cell):
    keras.utils.set_random_seed(1)
    rng = np.random.default_rng(3)
    lengths = [3, 7, 5]
    seqs = [rng.normal(size=(n, 2)).astype("float32") for n in lengths]
    padded = np.zeros((3, 7, 2), "float32")
    for i, s in enumerate(seqs):
        padded[i, : len(s)] = s
    masked = many_to_one(None, 2, (6, 4), outputs=1, cell=cell, mask_value=0.0)
    plain = many_to_one(None, 2, (6, 4), outputs=1, cell=cell)
    plain.set_weights(masked.get_weights())
    got = keras.ops.convert_to_numpy(masked(padded))
    for i, s in enumerate(seqs):
        np.testing.assert_allclose(got[i], keras.ops.convert_to_numpy(plain(s[None]))[0], atol=1e-5)


def test_stateful_needs_fixed_batch_input():
    m = many_to_one(4, 2, 3, stateful=True, batch_size=5)
    assert m.input_shape == (5, 4, 2)
    assert m.get_layer("lstm_1").stateful


@pytest.mark.parametrize(
    ("call", "match"),
    [
        (
            lambda: many_to_one(5, 2, (4, -2)),
            r"`units` must be a positive integer or a sequence of them. Received: units=\(4, -2\)",
        ),
        (lambda: many_to_one(5, 2, []), r"`units` must be a positive integer"),
        (lambda: many_to_one(5, 2, "8"), r"`units` must be"),
        (
            lambda: many_to_one(5, 2, 8, stateful=True),
            r"`batch_size` must be a positive integer when stateful=True.*batch_size=None",
        ),
        (
            lambda: many_to_one(5, 2, 8, cell="rnn"),
            r"`cell` must be one of 'lstm', 'gru', 'simple'. Received: cell='rnn'",
        ),
        (
            lambda: many_to_one(0, 2, 8),
            r"`steps` must be None or a positive integer. Received: steps=0",
        ),
        (
            lambda: many_to_many(5, 0, 8),
            r"`features` must be a positive integer. Received: features=0",
        ),
        (lambda: many_to_many(5, 2, 8, dropout=1.0), r"`dropout` must be a number in \[0.0, 1.0\)"),
        (lambda: many_to_many(5, 2, 8, outputs=0), r"`outputs` must be None or a positive integer"),
        (
            lambda: many_to_one(5, 2, 8, output_activation="nope"),
            r"`output_activation` must be None or a Keras activation",
        ),
        (
            lambda: many_to_one(5, 2, 8, mask_value="x"),
            r"`mask_value` must be None or a finite number",
        ),
        (
            lambda: many_to_one(5, 2, 8, mask_value=float("nan")),
            r"`mask_value` must be None or a finite number. Received: mask_value=nan",
        ),
        (
            lambda: many_to_one(5, 2, 8, mask_value=float("inf")),
            r"`mask_value` must be None or a finite number",
        ),
        (
            lambda: many_to_one(5, 2, 8, mask_value=True),
            r"`mask_value` must be None or a finite number. Received: mask_value=True",
        ),
        (lambda: many_to_one(5, 2, 8, stateful="yes"), r"`stateful` must be True or False"),
        (lambda: one_to_many(-1, 2, 8), r"`steps` must be a positive integer. Received: steps=-1"),
        (
            lambda: one_to_many(5, 0, 8),
            r"`features` must be a positive integer. Received: features=0",
        ),
        (lambda: stateful_generator(2, batch_size=0), r"`batch_size` must be a positive integer"),
        (
            lambda: seq2seq_autoencoder(5, 2, latent=0),
            r"`latent` must be a positive integer. Received: latent=0",
        ),
        (lambda: seq2seq_autoencoder(5, 2, decoder_units=(0,)), r"`decoder_units` must be"),
        (
            lambda: next_token_model(1),
            r"`vocab_size` must be an integer >= 2. Received: vocab_size=1",
        ),
    ],
)
def test_factory_errors(call, match):
    with pytest.raises(ValueError, match=match):
        call()


@pytest.mark.parametrize(
    ("shape", "match"),
    [
        (
            (4, 5, 3),
            r"expected input of shape `\(batch, steps=5, features=2\)`, received `\((4|None), 5, 3\)`",
        ),
        ((4, 6, 2), r"received `\((4|None), 6, 2\)`"),
        ((4, 5), r"received `\((4|None), 5\)`.*needs a features axis of 2: .*np.stack"),
        ((4, 5, 2, 1), r"received `\((4|None), 5, 2, 1\)`"),
    ],
)
@pytest.mark.parametrize("how", ["call", "predict", "fit"])
def test_wrong_input_shape_is_explained(shape, match, how):
    m = many_to_one(5, 2, 4, outputs=1)
    x = np.zeros(shape, "float32")
    with pytest.raises(ValueError, match=match):
        if how == "call":
            m(x)
        elif how == "predict":
            m.predict(x, verbose=0)
        else:
            m.compile(optimizer="adam", loss="mse", run_eagerly=True)
            m.fit(x, np.zeros((4, 1)), verbose=0)


def test_wrong_batch_of_stateful_model_is_explained():
    m = stateful_generator(2, batch_size=3)
    with pytest.raises(
        ValueError, match=r"`\(batch=3, steps, features=2\)`.*fixed batch size of 3"
    ):
        m(np.zeros((2, 1, 2), "float32"))


def test_head_keeps_step_count_for_fixed_batch_and_free_steps():
    """keras.layers.TimeDistributed (3.15) returns `batch` steps after a retrace here."""
    m = many_to_many(None, 2, 4, outputs=1, stateful=True, batch_size=3)
    for steps in (10, 20, 5, 1):
        assert m.predict_on_batch(np.zeros((3, steps, 2), "float32")).shape == (3, steps, 1)


def test_numpy_scalars_work_where_python_ones_do():
    a = many_to_one(5, 2, np.array([4, 2]), outputs=1, mask_value=np.float32(0))
    b = many_to_one(5, 2, (4, 2), outputs=1, mask_value=0.0)
    assert a.count_params() == b.count_params()
    assert a.get_layer("mask").mask_value == 0.0
    s = many_to_one(5, 2, 4, stateful=np.bool_(True), batch_size=np.int64(2))
    assert s.get_layer("lstm_1").stateful is True and s.input_shape == (2, 5, 2)


@pytest.mark.parametrize(
    ("build", "y_shape", "match"),
    [
        (
            lambda: many_to_one(12, 1, 32),
            (8, 1),
            r"`y` must be a target of shape `\(batch, 32\)`.*Received: y with shape \(8, 1\)\."
            r" The model returns 32 numbers per sample; .* outputs=1",
        ),
        (
            lambda: many_to_one(12, 2, 8, outputs=1),
            (8, 2),
            r"`y` must be a target of shape `\(batch, 1\)`.* outputs=2",
        ),
        (
            lambda: many_to_many(12, 2, 8, outputs=2),
            (8, 12, 1),
            r"`y` must be a target of shape `\(batch, 12, 2\)`.*2 numbers per step; .* outputs=1",
        ),
    ],
    ids=["no-head", "two-targets", "per-step"],
)
def test_fit_and_evaluate_refuse_a_target_that_would_broadcast(build, y_shape, match):
    model = build()
    model.compile(optimizer="adam", loss="mse")
    x = np.zeros((8, *model.input_shape[1:]), "float32")
    y = np.zeros(y_shape, "float32")
    before = [w.copy() for w in model.get_weights()]
    with pytest.raises(ValueError, match=match):
        model.fit(x, y, epochs=1, verbose=0)
    with pytest.raises(ValueError, match=match):
        model.evaluate(x, y, verbose=0)
    right = np.zeros((8, *model.output_shape[1:]), "float32")
    with pytest.raises(ValueError, match=r"`validation_data` must be a target of shape"):
        model.fit(x, right, validation_data=(x, y), epochs=1, verbose=0)
    assert all(np.array_equal(a, b) for a, b in zip(before, model.get_weights()))
    model.fit(x, right, epochs=1, verbose=0)  # the right shape trains


def test_target_check_allows_sparse_labels_and_a_dropped_unit_axis():
    m = many_to_one(4, 1, 3, outputs=1)
    m.compile(optimizer="adam", loss="mse")
    m.fit(np.zeros((4, 4, 1)), np.zeros((4,)), epochs=1, verbose=0)
    wide = many_to_one(4, 1, 3)  # (batch, 3): a float (batch,) target would broadcast
    wide.compile(optimizer="adam", loss="mse")
    with pytest.raises(ValueError, match=r"`y` must be a target of shape `\(batch, 3\)`"):
        wide.fit(np.zeros((4, 4, 1)), np.zeros((4,)), epochs=1, verbose=0)
    t = next_token_model(9, embedding_dim=2, units=3)
    t.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    t.fit(np.zeros((2, 5), "int32"), np.zeros((2, 5), "int32"), epochs=1, verbose=0)


def test_a_model_saved_by_version_0_1_loads_with_the_public_classes():
    """Saved before the classes moved to `layers`: the registered names still find them."""
    m = keras.models.load_model(DATA / "many_to_many_0.1.0.keras")
    assert type(m) is layers.PatternModel
    assert type(m.get_layer("head")) is layers.TimeDistributed
    x = np.arange(16, dtype="float32").reshape(2, 4, 2) / 10
    expected = [  # its outputs when it was saved
        [[0.0071879, -0.0106644], [0.0240750, -0.0522649]],
        [[0.0533338, -0.1512281], [0.0968563, -0.2839786]],
    ]
    np.testing.assert_allclose(keras.ops.convert_to_numpy(m(x))[:, :2], expected, atol=1e-5)


def test_the_classes_keep_their_registered_names():
    get_name = keras.saving.get_registered_name
    assert get_name(layers.PatternModel) == "keras_lstm_patterns>PatternModel"
    assert get_name(layers.TimeDistributed) == "keras_lstm_patterns>TimeDistributed"


@pytest.mark.parametrize(
    ("name", "sizes", "output_shape"),
    [
        ("many_to_one", {"steps": 5, "features": 2, "units": 8, "outputs": 1}, (None, 1)),
        ("many_to_many", {"steps": 5, "features": 2, "units": 8, "outputs": 1}, (None, 5, 1)),
        ("one_to_many", {"steps": 5, "features": 3, "units": 8, "outputs": 1}, (None, 5, 1)),
        ("generate", {"horizon": 5, "features": 2, "units": 32, "batch_size": 1}, (1, None, 2)),
        (
            "forecast",
            {"horizon": 3, "history": 3, "features": 2, "units": 32, "batch_size": 1},
            (1, None, 2),
        ),
        (
            "seq2seq_autoencoder",
            {"steps": 5, "features": 2, "latent": 4, "decoder_units": 8},
            (None, 5, 2),
        ),
        (
            "next_token",
            {"steps": 5, "vocab_size": 30, "units": 16, "embedding_dim": 8},
            (None, 5, 30),
        ),
    ],
    ids=lambda v: v if isinstance(v, str) else "",
)
def test_each_pattern_declares_its_picture_and_builds_it(name, sizes, output_shape):
    pattern = PATTERNS[name]
    assert pattern.picture_sizes() == sizes
    assert pattern.build(**sizes).output_shape == output_shape


def test_the_driven_patterns_count_their_new_steps_in_horizon():
    """steps is the time steps a sample reads; generate and forecast take horizon."""
    for name in ("generate", "forecast"):
        pattern = PATTERNS[name]
        assert pattern.sizes[0] == "horizon" and "steps" not in pattern.sizes
        assert pattern.length == "horizon" and "{horizon} new steps" in pattern.summary
        assert pattern.shapes.endswith("-> (batch, horizon, features)")
        assert "steps" not in pattern.defaults
    others = [p for p in PATTERNS.values() if p.name not in ("generate", "forecast")]
    assert [p.length for p in others] == ["steps"] * 5
    assert all("horizon" not in p.sizes for p in others)


def test_the_registry_lists_every_pattern_in_order():
    assert list(PATTERNS) == [
        "many_to_one",
        "many_to_many",
        "one_to_many",
        "generate",
        "forecast",
        "seq2seq_autoencoder",
        "next_token",
    ]
    assert [p.factory for p in PATTERNS.values()] == [
        "many_to_one(steps, features, units)",
        "many_to_many(steps, features, units)",
        "one_to_many(steps, features, units)",
        "stateful_generator(features) + stateful.generate",
        "stateful_generator(features) + stateful.forecast",
        "seq2seq_autoencoder(steps, features, latent=...)",
        "next_token_model(vocab_size)",
    ]
