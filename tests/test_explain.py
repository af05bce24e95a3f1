import pytest

from keras_lstm_patterns import (
    explain,
    many_to_many,
    many_to_one,
    next_token_model,
    one_to_many,
    seq2seq_autoencoder,
    stateful_generator,
)
from keras_lstm_patterns.explaining import layer_rows, pattern_of


@pytest.mark.parametrize(
    ("name", "first", "last_row"),
    [
        (
            "many_to_one",
            "many-to-one: 5 steps in, one vector out (return_sequences=False)",
            "dense     head                       (batch, units=8)              "
            "(batch, outputs=1)                 9",
        ),
        (
            "many_to_many",
            "many-to-many: 5 steps in, 5 steps out (return_sequences=True)",
            "head      head                         (batch, steps=5, units=8)     "
            "(batch, steps=5, outputs=1)        9",
        ),
        (
            "one_to_many",
            "one-to-many: one vector in, repeated to 5 steps (RepeatVector), 5 steps out",
            "head       head                         (batch, steps=5, units=8)     "
            "(batch, steps=5, outputs=1)        9",
        ),
        (
            "generate",
            "generate: one step in, 5 new steps out, each but the last fed back as the next "
            "input (stateful one-to-many)",
            "lstm_out  recurrent, return_sequences, stateful  (batch=1, steps, features=2)  "
            "(batch=1, steps, features=2)      40",
        ),
        (
            "forecast",
            "forecast: 3 known steps warm the state up, then 3 new steps come out, each but "
            "the last fed back as the next input (stateful many-to-many)",
            "lstm_out  recurrent, return_sequences, stateful  (batch=1, steps, features=2)  "
            "(batch=1, steps, features=2)      40",
        ),
        (
            "seq2seq_autoencoder",
            "seq2seq-autoencoder: 5 steps in, squeezed into one latent vector, 5 steps rebuilt",
            "decoder_lstm_out  recurrent, return_sequences  (batch, steps=5, latent=4)    "
            "(batch, steps=5, features=2)      56",
        ),
        (
            "next_token",
            "next-token: 5 tokens in, a next-token distribution at every step "
            "(TimeDistributed softmax head)",
            "head       head                         (batch, steps=5, units=16)     "
            "(batch, steps=5, vocab_size=30)     510",
        ),
    ],
)
def test_every_pattern_explains_its_output_axis(name, first, last_row):
    lines = explain(name).splitlines()
    assert lines[0] == first
    assert last_row in lines


def test_the_table_is_laid_out_in_columns():
    text = explain("many_to_one", steps=5, features=2, units=8, outputs=1)
    assert text.splitlines()[:8] == [
        "many-to-one: 5 steps in, one vector out (return_sequences=False)",
        "",
        "layer     role                       input shape                   output shape"
        "                  params",
        "--------  -------------------------  ----------------------------  "
        "----------------------------  ------",
        "steps_in  input                                                    "
        "(batch, steps=5, features=2)       0",
        "lstm_1    recurrent, last step only  (batch, steps=5, features=2)  "
        "(batch, units=8)                 352",
        "dense     head                       (batch, units=8)              "
        "(batch, outputs=1)                 9",
        "total params: 361",
    ]


def test_rows_name_the_axes():
    rows = layer_rows(many_to_one(5, 2, 8, outputs=1))
    assert rows[1] == (
        "lstm_1",
        "recurrent, last step only",
        "(batch, steps=5, features=2)",
        "(batch, units=8)",
        352,  # 4 gates * 8 units * (2 features + 8 units + 1 bias)
    )
    text = explain(many_to_many(None, 3, (16, 8), outputs=2, stateful=True, batch_size=4))
    assert "(batch=4, steps, units=16)" in text and "stateful" in text
    assert "batch size fixed at 4" in text


def test_the_code_of_an_autoencoder_is_latent_and_its_output_features():
    ae = seq2seq_autoencoder(6, 3, encoder_units=4, latent=5, decoder_units=6)
    assert [row[3] for row in layer_rows(ae.autoencoder)] == [
        "(batch, steps=6, features=3)",
        "(batch, steps=6, units=4)",
        "(batch, latent=5)",
        "(batch, steps=6, latent=5)",
        "(batch, steps=6, units=6)",
        "(batch, steps=6, features=3)",
    ]


def test_a_generator_returns_features_and_a_next_token_model_its_vocabulary():
    assert layer_rows(stateful_generator(2, units=8))[-1][3] == "(batch=1, steps, features=2)"
    assert layer_rows(next_token_model(20, units=8))[-1][3] == "(batch, steps, vocab_size=20)"


def test_units_are_not_steps():
    assert layer_rows(many_to_one(5, 2, 8))[1][4] == 352
    assert layer_rows(many_to_one(50, 2, 8))[1][4] == 352  # same weights for 50 steps


def _bidirectional():
    import keras

    inp = keras.Input((5, 2))
    return keras.Model(inp, keras.layers.Bidirectional(keras.layers.LSTM(4))(inp))


@pytest.mark.parametrize(
    ("build", "expected"),
    [
        (lambda: many_to_one(3, 1, 2), "many_to_one"),
        (lambda: many_to_one(3, 1, 2, outputs=1, stateful=True, batch_size=2), "many_to_one"),
        (lambda: many_to_many(3, 1, 2), "many_to_many"),
        (lambda: many_to_many(None, 2, 4, outputs=2), "many_to_many"),  # not stateful
        (lambda: many_to_many(None, 2, 4, outputs=3, stateful=True, batch_size=1), "many_to_many"),
        (lambda: one_to_many(4, 3, 2), "one_to_many"),
        (lambda: stateful_generator(2), "generate"),
        (lambda: stateful_generator(3, units=(4, 5), cell="gru"), "generate"),
        (lambda: seq2seq_autoencoder(4, 2, latent=3).autoencoder, "seq2seq_autoencoder"),
        (lambda: next_token_model(9, units=3, embedding_dim=2), "next_token"),
        (_bidirectional, None),
    ],
    ids=[
        "many_to_one",
        "many_to_one-stateful",
        "many_to_many",
        "many_to_many-same-width",
        "many_to_many-stateful-other-width",
        "one_to_many",
        "generate",
        "generate-stack",
        "seq2seq_autoencoder",
        "next_token",
        "bidirectional",
    ],
)
def test_pattern_of(build, expected):
    assert pattern_of(build()) == expected


def test_explain_errors():
    with pytest.raises(ValueError, match=r"`pattern` must be one of"):
        explain("nope")
    with pytest.raises(
        ValueError, match=r"`model_or_pattern` must be a keras.Model or a pattern name"
    ):
        explain(42)
    with pytest.raises(ValueError, match=r"`units` must be a positive integer"):
        explain("many_to_one", units=0)


@pytest.mark.parametrize(
    ("name", "size", "rule"),
    [
        ("generate", "horizon", "a positive integer"),  # their new steps
        ("forecast", "horizon", "a positive integer"),
        ("many_to_one", "steps", "None or a positive integer"),
    ],
)
@pytest.mark.parametrize("steps", [-3, 0, 2.5])
def test_explain_refuses_steps_below_one_for_every_pattern(name, size, rule, steps):
    with pytest.raises(ValueError, match=rf"`{size}` must be {rule}\. Received: {size}={steps}"):
        explain(name, **{size: steps})


RENAMED = (
    r"`steps` must be written `horizon`: it was renamed `horizon` in 0\.3\.0 \(`horizon` "
    r"counts the steps forecast, `steps` the time steps a sample reads\)\. Received: steps=3"
)


@pytest.mark.parametrize("name", ["generate", "forecast"])
def test_the_new_steps_of_generate_and_forecast_are_horizon_and_steps_is_refused(name):
    from keras_lstm_patterns._checks import STEPS_RENAMED
    from keras_lstm_patterns._errors import ArgumentTypeError
    from keras_lstm_patterns.explaining import build_pattern

    with pytest.raises(ArgumentTypeError, match=RENAMED) as caught:
        explain(name, steps=3)
    assert (caught.value.name, caught.value.rule, caught.value.value) == ("steps", STEPS_RENAMED, 3)
    assert isinstance(caught.value, TypeError)
    assert "3 new steps" in explain(name, horizon=3).splitlines()[0]
    with pytest.raises(ArgumentTypeError, match=RENAMED):
        build_pattern(name, steps=3, horizon=3)
    assert build_pattern(name, horizon=3)[2]["horizon"] == 3


def test_a_generator_model_counts_its_new_steps_in_horizon():
    """A generator model (the generate pattern) counts its new steps in `horizon`, as
    `stateful.generate` and the pattern by name do; `steps` is refused naming it."""
    from keras_lstm_patterns._checks import STEPS_RENAMED
    from keras_lstm_patterns._errors import ArgumentTypeError

    first = explain(stateful_generator(2), horizon=3).splitlines()[0]
    assert first.startswith("generate: one step in, 3 new steps out")
    assert first == explain("generate", horizon=3, features=2).splitlines()[0]
    with pytest.raises(ArgumentTypeError, match=RENAMED) as caught:
        explain(stateful_generator(2), steps=3)
    assert (caught.value.name, caught.value.rule) == ("steps", STEPS_RENAMED)


def test_steps_keeps_meaning_input_length_for_the_other_patterns():
    assert explain("many_to_one", steps=7).startswith("many-to-one: 7 steps in")
    assert explain(many_to_one(None, 2, 3), steps=7).startswith("many-to-one: 7 steps in")
    with pytest.raises(
        ValueError,
        match=r"`horizon` must be a size pattern 'many_to_one' takes \(steps, features, units, "
        r"outputs, cell\)\. Received: horizon=3",
    ):
        explain("many_to_one", horizon=3)
    with pytest.raises(
        ValueError,
        match=r"`horizon` must be left out for a model that is not a generator: its free "
        r"steps axis is set with `steps` \(`horizon` counts the new steps of the patterns "
        r"generate and forecast\)\. Received: horizon=3",
    ):
        explain(many_to_one(None, 2, 3), horizon=3)


@pytest.mark.parametrize(("history", "horizon"), [(4, 2), (3, 3), (1, 5)])
def test_a_forecast_unrolls_its_known_steps_and_its_new_steps_but_the_last(history, horizon):
    """The rules count the steps the layers run, as the picture draws them: the known
    steps, then each new step but the last fed back."""
    text = explain("forecast", history=history, horizon=horizon)
    unrolled = history + horizon - 1  # x1..x_history known, then horizon - 1 fed back
    assert f"- steps ({unrolled}) is how far the layers unroll" in text
    assert f"then {horizon} new steps come out" in text.splitlines()[0]
    assert f"- steps ({horizon}) is how far" in explain("generate", horizon=horizon)


def test_explain_refuses_a_model_with_no_input_shape():
    import keras

    unbuilt = keras.Sequential([keras.layers.LSTM(3)])
    with pytest.raises(
        ValueError,
        match=r"`model` must be a functional or Sequential model with a defined input shape.*"
        r"Received: model 'sequential\w*' of type Sequential with no input shape",
    ):
        explain(unbuilt)
    for unbuilt_one in (unbuilt, keras.Sequential([keras.layers.Dense(3)])):
        with pytest.raises(ValueError, match=r"with no input shape") as err:
            layer_rows(unbuilt_one)  # was Keras's AttributeError or ValueError
        assert err.value.name == "model"
    unbuilt.build((None, 5, 2))  # the reference: once built it explains
    assert explain(unbuilt).startswith("many-to-one: 5 steps in")
    assert layer_rows(unbuilt)[-1][0] == unbuilt.layers[-1].name


def test_units_rule_uses_the_model_sizes():
    text = explain("many_to_one", steps=7, features=2, units=3)
    # an LSTM of 3 units on 2 features: 4 * 3 * (2 + 3 + 1) = 72 weights
    assert (
        "- units (3) is the width of each recurrent layer's state and output; it is "
        "independent of steps (lstm_1, 3 units, reads 7 or 700 steps with the same 72 "
        "weights)."
    ) in text
    assert "8 units" not in text


def test_a_size_the_pattern_does_not_take_is_named():
    with pytest.raises(
        ValueError,
        match=r"`units` must be a size pattern 'seq2seq_autoencoder' takes \(steps, features, "
        r"latent, encoder_units, decoder_units, cell\)\. Received: units=4",
    ):
        explain("seq2seq_autoencoder", units=4)
    text = explain("seq2seq_autoencoder", encoder_units=4, decoder_units=6)
    assert "(batch, steps=5, units=4)" in text and "(batch, steps=5, units=6)" in text


def test_a_model_outside_the_patterns_gets_its_layer_table():
    import keras

    inp = keras.Input((5, 2), name="steps_in")
    x = keras.layers.Bidirectional(keras.layers.LSTM(4), name="bi")(inp)
    model = keras.Model(inp, keras.layers.Dense(1, name="dense")(x), name="bidi")
    assert pattern_of(model) is None
    lines = explain(model).splitlines()
    assert (
        lines[0]
        == "bidi: a recurrent model that is not one of the patterns (its layers as they are)"
    )
    assert layer_rows(model)[1] == (
        "bi",
        "recurrent, bidirectional, last step only",
        "(batch, steps=5, features=2)",
        "(batch, units=8)",
        2 * 4 * 4 * (2 + 4 + 1),
    )
    assert "- units (4 per direction) is the width" in explain(model)


def test_a_model_with_no_recurrent_layer_is_refused():
    import keras

    dense = keras.Sequential([keras.Input((5, 2)), keras.layers.Dense(3)], name="dense_only")
    with pytest.raises(
        ValueError,
        match=r"`model` must be a model with a recurrent layer \(LSTM, GRU, SimpleRNN, "
        r"Bidirectional or another keras.layers.RNN\)\. Received: model 'dense_only' with "
        r"layers Dense",
    ):
        explain(dense)


@pytest.mark.parametrize(
    ("features", "shape", "hint"),
    [
        (1, (4, 5), "reshape a single feature with `x[..., None]`"),
        (
            2,
            (4, 5),
            "needs a features axis of 2: stack one `(samples, steps)` array per feature, "
            "`np.stack([f1, f2], axis=-1)`. (`x[..., None]` would make 1 feature, not 2.)",
        ),
        (2, (4, 10), "Each row holds 10 = 5 steps x 2 features: `x.reshape(len(x), 5, 2)`"),
        (3, (4, 5), "`np.stack([f1, ..., f3], axis=-1)`"),
    ],
    ids=["1-feature", "2-features", "2-features-flat", "3-features"],
)
def test_shape_hint_fits_the_model(features, shape, hint):
    import numpy as np

    model = many_to_one(5, features, 4)
    with pytest.raises(ValueError) as err:
        model(np.zeros(shape, "float32"))
    assert hint in str(err.value)
    if features != 1:
        assert "reshape a single feature" not in str(err.value)


def test_the_package_imports_without_keras_and_keeps_its_names():
    import os
    import subprocess
    import sys

    from .helpers import light_backend

    code = (
        "import sys, keras_lstm_patterns.diagram\n"  # a submodule first ...
        "from keras_lstm_patterns import explain\n"  # ... leaves `explain` the function
        "import keras_lstm_patterns as k\n"
        "print(explain.__name__, all(hasattr(k, n) for n in k.__all__))\n"
    )
    env = dict(os.environ, KERAS_BACKEND=light_backend())  # lazy names are no backend's
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env)
    assert out.stdout == "explain True\n", out.stderr
    code = "import sys, keras_lstm_patterns\nprint('keras' in sys.modules, 'numpy' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.stdout == "False False\n", out.stderr


def test_the_function_does_not_hide_its_module():
    import keras_lstm_patterns
    from keras_lstm_patterns import explaining

    assert keras_lstm_patterns.explain is explaining.explain
    assert explaining.__name__ == "keras_lstm_patterns.explaining"


def test_steps_given_for_a_free_steps_axis_are_used():
    """A model whose steps axis is free reads `steps=` when given; a fixed axis wins."""
    free = many_to_one(None, 2, 8)
    assert explain(free).splitlines()[0].startswith("many-to-one: any number of steps in")
    text = explain(free, steps=7)
    assert text.splitlines()[0].startswith("many-to-one: 7 steps in")
    assert "- steps (7) is how far the layers unroll" in text
    assert explain(many_to_one(5, 2, 8), steps=7).splitlines()[0].startswith("many-to-one: 5 steps")
