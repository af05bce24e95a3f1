import pytest

from keras_lstm_patterns import explain, many_to_many, many_to_one
from keras_lstm_patterns.explain import PATTERNS, layer_rows, pattern_of


@pytest.mark.parametrize("name", list(PATTERNS))
def test_every_pattern_explains(name):
    text = explain(name)
    assert text.splitlines()[0].startswith(name.replace("_", "-") + ":")
    assert "total params" in text and "units (" in text


def test_rows_name_the_axes():
    rows = layer_rows(many_to_one(5, 2, 8, outputs=1))
    assert rows[1][2] == "(batch, steps=5, features=2)"
    assert rows[1][3] == "(batch, units=8)"
    assert rows[1][4] == 4 * 8 * (2 + 8 + 1)
    text = explain(many_to_many(None, 3, (16, 8), outputs=2, stateful=True, batch_size=4))
    assert "(batch=4, steps, units=16)" in text and "stateful" in text
    assert "batch size fixed at 4" in text


def test_units_are_not_steps():
    a, b = explain("many_to_one", steps=5, units=8), explain("many_to_one", steps=50, units=8)
    params = [line.split()[-1] for line in (a.splitlines()[5], b.splitlines()[5])]
    assert params[0] == params[1]  # same weights for 5 or 50 steps


def test_pattern_of():
    assert pattern_of(many_to_one(3, 1, 2)) == "many_to_one"
    assert pattern_of(many_to_many(3, 1, 2)) == "many_to_many"


def test_explain_errors():
    with pytest.raises(ValueError, match=r"`pattern` must be one of"):
        explain("nope")
    with pytest.raises(
        ValueError, match=r"`model_or_pattern` must be a keras.Model or a pattern name"
    ):
        explain(42)
    with pytest.raises(ValueError, match=r"`units` must be a positive integer"):
        explain("many_to_one", units=0)


@pytest.mark.parametrize("name", ["generate", "forecast", "many_to_one"])
@pytest.mark.parametrize("steps", [-3, 0, 2.5])
def test_explain_refuses_steps_below_one_for_every_pattern(name, steps):
    with pytest.raises(
        ValueError, match=rf"`steps` must be None or a positive integer\. Received: steps={steps}"
    ):
        explain(name, steps=steps)


def test_explain_refuses_a_model_with_no_input_shape():
    import keras

    unbuilt = keras.Sequential([keras.layers.LSTM(3)])
    with pytest.raises(
        ValueError,
        match=r"`model` must be a functional or Sequential model with a defined input shape.*"
        r"Received: model 'sequential\w*' of type Sequential with no input shape",
    ):
        explain(unbuilt)
    unbuilt.build((None, 5, 2))  # the reference: once built it explains
    assert explain(unbuilt).startswith("many-to-one: 5 steps in")
