import keras
import numpy as np
import pytest

from keras_lstm_patterns import many_to_many, many_to_one, next_token_model, stateful, windows
from keras_lstm_patterns.scaling import normalized


def raw_tanks(seed=0):
    """Pressures near 100 and temperatures near 20, three tanks."""
    rng = np.random.default_rng(seed)
    t = np.arange(120)
    pressure = 100 + 5 * np.sin(t / 6)[None] + rng.normal(0, 0.2, size=(3, 120))
    temperature = 20 + np.cos(t / 9)[None] + rng.normal(0, 0.1, size=(3, 120))
    return np.stack([pressure, temperature], axis=-1)


def test_normalized_is_the_model_between_hand_scaling():
    x, y = windows.look_back(raw_tanks(), 12, targets=0)
    keras.utils.set_random_seed(0)
    inner = many_to_one(12, 2, 8, outputs=1)
    model = normalized(inner, x, y)
    mx, sx = x.reshape(-1, 2).mean(0), x.reshape(-1, 2).std(0)
    my, sy = y.mean(0), y.std(0)
    by_hand = keras.ops.convert_to_numpy(inner(((x - mx) / sx).astype("float32"))) * sy + my
    np.testing.assert_allclose(model.predict(x, verbose=0), by_hand, rtol=1e-4, atol=1e-3)
    assert model.input_shape == (None, 12, 2) and model.output_shape == (None, 1)


def test_normalized_trains_in_raw_units_and_saves_as_one_file(tmp_path):
    data = raw_tanks()
    train, test = windows.split(data, 0.75, look_back=12)
    x, y = windows.look_back(train, 12, targets=0)
    tx, ty = windows.look_back(test, 12, targets=0)
    keras.utils.set_random_seed(1)
    model = normalized(many_to_one(12, 2, 16, outputs=1), x, y)
    model.compile(optimizer=keras.optimizers.Adam(0.01), loss="mse")
    model.fit(x, y, epochs=15, batch_size=32, verbose=0)
    pred = model.predict(tx, verbose=0)
    rmse = float(np.sqrt(np.mean((pred - ty) ** 2)))
    assert rmse < 1.5  # raw pressures near 100, swinging by 5: the raw model would sit near 0
    assert abs(float(pred.mean()) - 100.0) < 3.0
    path = tmp_path / "tanks.keras"
    model.save(path)
    loaded = keras.models.load_model(path)
    np.testing.assert_allclose(loaded.predict(tx, verbose=0), pred, rtol=1e-5, atol=1e-4)


def test_normalized_sequence_and_stateful_models():
    data = raw_tanks()[:2]
    x, y = windows.next_step(data)
    m = normalized(many_to_many(None, 2, 4, outputs=2), x, y)
    assert m.predict(x, verbose=0).shape == (2, 119, 2)
    gen = normalized(many_to_many(None, 2, 4, outputs=2, stateful=True, batch_size=2), x, y)
    assert gen.input_shape == (2, None, 2)
    assert len(stateful.stateful_layers(gen)) == 1


def test_normalized_without_y_leaves_outputs_alone():
    x = raw_tanks()[:, :12]
    inner = many_to_one(12, 2, 3)
    model = normalized(inner, x)
    assert [layer.name for layer in model.layers][-1] == inner.name


@pytest.mark.parametrize(
    ("args", "match"),
    [
        (lambda x, y: ("nope", x, y), r"`model` must be a keras.Model"),
        (lambda x, y: (next_token_model(5, units=2), x, y), r"`model` must be a model of real"),
        (lambda x, y: (many_to_one(12, 2, 4, outputs=1), x[..., :1], y), r"`x` must be an array"),
        (lambda x, y: (many_to_one(12, 2, 4, outputs=1), x, np.zeros((5, 2))), r"`y` must be"),
        (
            lambda x, y: (many_to_one(12, 2, 32), x, y),
            r"`y` must be an array shaped like the model's outputs, `\(samples, 32\)`.*"
            r"returns 32 numbers per sample; .* outputs=1",
        ),
        (lambda x, y: (many_to_one(12, 2, 4, outputs=1), x[:0], y), r"`x` must be an array"),
        (
            lambda x, y: (many_to_one(12, 2, 4, outputs=1), np.where(x > 104, np.nan, x), y),
            r"`x` must be finite",
        ),
        (lambda x, y: (many_to_one(12, 2, 4, outputs=1), x.astype(complex), y), r"`x` must be"),
    ],
    ids=["not-model", "tokens", "x-width", "y-width", "no-head", "empty", "nan", "complex"],
)
def test_normalized_errors(args, match):
    x, y = windows.look_back(raw_tanks(), 12, targets=0)
    with pytest.raises(ValueError, match=match):
        normalized(*args(np.array(x), np.array(y)))


def test_a_normalized_model_is_still_its_pattern(tmp_path):
    from keras_lstm_patterns import explain
    from keras_lstm_patterns.diagram import diagram
    from keras_lstm_patterns.explaining import pattern_of

    x, y = windows.look_back(raw_tanks(), 12, targets=0)
    model = normalized(many_to_one(12, 2, 8, outputs=1), x, y)
    assert pattern_of(model) == "many_to_one"
    text = explain(model)
    assert text.startswith("many-to-one: 12 steps in")
    assert "normalize_inputs     Normalization" in text
    assert diagram(model, tmp_path / "m.png").path.exists()


def test_normalized_masked_model_still_skips_pads():
    """3 real steps + 3 pads predict as the 3 real steps alone, and the statistics come
    from the real steps only (issue 22, item 1)."""
    rng = np.random.default_rng(3)
    real = rng.normal(100.0, 5.0, size=(8, 3, 2))
    x = np.concatenate([real, np.zeros((8, 3, 2))], axis=1)  # post-padded with 0.0
    y = real[:, -1, :1] + 1.0
    keras.utils.set_random_seed(0)
    inner = many_to_one(None, 2, 4, outputs=1, mask_value=0.0)
    np.testing.assert_allclose(
        inner.predict(x, verbose=0), inner.predict(x[:, :3], verbose=0), rtol=1e-5
    )
    model = normalized(inner, x, y)
    padded = model.predict(x, verbose=0)
    np.testing.assert_allclose(padded, model.predict(x[:, :3], verbose=0), rtol=1e-5)
    scale = model.get_layer("normalize_inputs")
    mean = keras.ops.convert_to_numpy(scale.mean).reshape(-1)
    var = keras.ops.convert_to_numpy(scale.variance).reshape(-1)
    np.testing.assert_allclose(mean, real.reshape(-1, 2).mean(0), rtol=1e-4)
    np.testing.assert_allclose(var, real.reshape(-1, 2).var(0), rtol=1e-3)
    by_hand = inner.predict((real - mean) / np.sqrt(var), verbose=0) * y.std() + y.mean()
    np.testing.assert_allclose(padded, by_hand, rtol=1e-4)


def test_normalized_refusals_of_issue_22():
    x, y = windows.look_back(raw_tanks(), 12, targets=0)
    unbuilt = keras.Sequential([keras.layers.LSTM(2)])
    with pytest.raises(ValueError, match=r"`model` must be a built model with a known input"):
        normalized(unbuilt, x, y)
    with pytest.raises(
        ValueError, match=r"`y` must be one target per sample of `x` \(\d+ samples\)"
    ):
        normalized(many_to_one(12, 2, 4, outputs=1), x, y[:-1])
