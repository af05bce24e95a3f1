import keras
import pytest

from keras_lstm_patterns import many_to_many, many_to_one, seq2seq_autoencoder, stateful_generator
from keras_lstm_patterns.diagram import diagram, diagram_batches


# (pattern, steps, drawn columns, boxes, arrows, marks) counted from the picture rules:
# one column per step (beyond 6: steps 1-4, an ellipsis, the last), one cell per column
# and recurrent row, a state arrow between neighbouring drawn cells, an "up" arrow into
# every box fed from below; forecast draws its 3 known steps, then the new steps but the
# last as inputs.
@pytest.mark.parametrize(
    ("name", "steps", "columns", "boxes", "arrows", "marks"),
    [
        (
            "many_to_one",
            3,
            [1, 2, 3],
            {"cell": 3, "head": 1, "input": 3, "output": 1},
            {"state": 2, "up": 5},
            {"shared": 1},
        ),
        (
            "many_to_many",
            3,
            [1, 2, 3],
            {"cell": 3, "head": 3, "input": 3, "output": 3},
            {"state": 2, "up": 9},
            {"shared": 1},
        ),
        (
            "one_to_many",
            3,
            [1, 2, 3],
            {"cell": 3, "head": 3, "input": 1, "output": 3, "repeat": 3},
            {"repeat": 3, "state": 2, "up": 9},
            {"shared": 1},
        ),
        (
            "generate",
            3,
            [1, 2, 3],
            {"cell": 3, "input": 3, "output": 3},
            {"feedback": 2, "state": 2, "stateful": 1, "up": 6},
            {"shared": 1},
        ),
        (
            "forecast",
            3,
            [1, 2, 3, 4, 5],
            {"cell": 5, "input": 5, "output": 3, "warmup": 2},
            {"feedback": 2, "state": 4, "stateful": 1, "up": 10},
            {"shared": 1},
        ),
        (
            "seq2seq_autoencoder",
            3,
            [1, 2, 3],
            {"cell": 6, "input": 3, "output": 3, "repeat": 3},
            {"repeat": 3, "state": 4, "up": 9},
            {"shared": 2},
        ),
        (
            "next_token",
            3,
            [1, 2, 3],
            {"cell": 3, "embedding": 3, "head": 3, "input": 3, "output": 3},
            {"state": 2, "up": 12},
            {"shared": 1},
        ),
        (
            "many_to_one",
            9,
            [1, 2, 3, 4, None, 9],
            {"cell": 5, "head": 1, "input": 5, "output": 1},
            {"state": 3, "up": 7},
            {"shared": 1},
        ),
        (
            "many_to_many",
            9,
            [1, 2, 3, 4, None, 9],
            {"cell": 5, "head": 5, "input": 5, "output": 5},
            {"state": 3, "up": 15},
            {"shared": 1},
        ),
        (
            "one_to_many",
            9,
            [1, 2, 3, 4, None, 9],
            {"cell": 5, "head": 5, "input": 1, "output": 5, "repeat": 5},
            {"repeat": 5, "state": 3, "up": 15},
            {"shared": 1},
        ),
        (
            "generate",
            9,
            [1, 2, 3, 4, None, 9],
            {"cell": 5, "input": 5, "output": 5},
            {"feedback": 3, "state": 3, "stateful": 1, "up": 10},
            {"shared": 1},
        ),
        (
            "forecast",
            9,
            [1, 2, 3, 4, None, 11],
            {"cell": 5, "input": 5, "output": 3, "warmup": 2},
            {"feedback": 1, "state": 3, "stateful": 1, "up": 10},
            {"shared": 1},
        ),
        (
            "seq2seq_autoencoder",
            9,
            [1, 2, 3, 4, None, 9],
            {"cell": 10, "input": 5, "output": 5, "repeat": 5},
            {"repeat": 5, "state": 6, "up": 15},
            {"shared": 2},
        ),
        (
            "next_token",
            9,
            [1, 2, 3, 4, None, 9],
            {"cell": 5, "embedding": 5, "head": 5, "input": 5, "output": 5},
            {"state": 3, "up": 20},
            {"shared": 1},
        ),
    ],
    ids=lambda v: v if isinstance(v, str) else None,
)
def test_every_pattern_structure(tmp_path, name, steps, columns, boxes, arrows, marks):
    size = "horizon" if name in ("generate", "forecast") else "steps"  # their new steps
    d = diagram(name, tmp_path / f"{name}.png", **{size: steps})
    assert d.path.read_bytes()[:4] == b"\x89PNG"
    assert d.columns == columns
    assert dict(d.boxes) == boxes
    assert dict(d.arrows) == arrows
    assert dict(d.marks) == marks


def test_diagram_of_a_model_reads_its_flags(tmp_path):
    m = many_to_one(4, 3, (6, 5, 4), outputs=2)
    d = diagram(m, tmp_path / "m.svg")
    assert d.path.read_text().startswith("<?xml")
    assert d.boxes["cell"] == 12 and d.boxes["output"] == 1 and d.boxes["head"] == 1
    m2 = many_to_many(None, 3, 5, outputs=3, stateful=True, batch_size=2)
    # stateful, as many outputs as features: a generator, its new steps counted in horizon
    d2 = diagram(m2, tmp_path / "m2.png", horizon=4)
    assert d2.boxes["output"] == 4 and d2.arrows["stateful"] == 1 and d2.boxes["head"] == 4
    assert d2.arrows["feedback"] == 3 and d2.title.startswith("generate: ")
    d3 = diagram(stateful_generator(2), tmp_path / "g.png", horizon=4, drive="generate")
    assert d3.arrows["feedback"] == 3
    ae = seq2seq_autoencoder(4, 2, latent=3)
    d4 = diagram(ae.autoencoder, tmp_path / "ae.png")
    assert d4.boxes["repeat"] == 4 and d4.boxes["cell"] == 8


def test_diagram_batches(tmp_path):
    d = diagram_batches((3, 7, 2), 3, tmp_path / "b.png")
    # batches of 3, 3, 1 steps; 3 rows; each row continues across 2 batch boundaries
    assert d.boxes["input"] == 3 * 7
    assert d.arrows["stateful"] == 3 * 2
    big = diagram_batches((10, 4, 1), 2, tmp_path / "b2.png")
    assert big.boxes["input"] == 4 * 4 and "first 4 rows" in big.title


def test_same_bytes_twice(tmp_path):
    for suffix in ("png", "svg"):
        a = diagram("many_to_many", tmp_path / f"a.{suffix}").path.read_bytes()
        b = diagram("many_to_many", tmp_path / f"b.{suffix}").path.read_bytes()
        assert a == b


def test_diagram_errors(tmp_path):
    with pytest.raises(ValueError, match=r"`path` must be a file name ending in .png or .svg"):
        diagram("many_to_one", tmp_path / "x.jpg")
    with pytest.raises(ValueError, match=r"`pattern` must be one of 'many_to_one'"):
        diagram("many_to_two", tmp_path / "x.png")
    with pytest.raises(ValueError, match=r"`chunk` must be between 1 and 4 for 4 steps"):
        diagram_batches((2, 4, 1), 5, tmp_path / "x.png")


def test_suffix_in_any_case(tmp_path):
    svg = diagram("many_to_one", tmp_path / "x.SVG")
    png = diagram("many_to_one", tmp_path / "x.Png")
    assert svg.path.read_bytes() == diagram("many_to_one", tmp_path / "y.svg").path.read_bytes()
    assert svg.path.read_text().startswith("<?xml") and "<dc:date>" not in svg.path.read_text()
    assert png.path.read_bytes()[:4] == b"\x89PNG"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["x.Png", "x.SVG", "y.svg"]


def test_a_failed_write_leaves_the_old_file(tmp_path, monkeypatch):
    import matplotlib.figure

    target = tmp_path / "m.png"
    old = diagram("many_to_one", target).path.read_bytes()

    def half_write(self, fname, **kwargs):
        fname.write(b"\x89PNG partial")
        raise OSError("disk full")

    monkeypatch.setattr(matplotlib.figure.Figure, "savefig", half_write)
    with pytest.raises(OSError, match="disk full"):
        diagram("many_to_many", target)
    with pytest.raises(OSError, match="disk full"):
        diagram_batches((2, 4, 1), 2, tmp_path / "new.svg")
    assert target.read_bytes() == old
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m.png"]  # no partial, no temp


def test_diagram_refusals_name_the_argument(tmp_path):
    (tmp_path / "file").write_text("a file")
    (tmp_path / "folder.png").mkdir()
    with pytest.raises(
        ValueError, match=r"`drive` must be one of 'generate', 'forecast'\. Received: drive='nope'"
    ):
        diagram(stateful_generator(2), tmp_path / "g.png", drive="nope")
    with pytest.raises(
        TypeError,
        match=r"`path` must be a file path \(str or pathlib.Path\)\. Received: path of type NoneType",
    ):
        diagram("many_to_one", None)
    with pytest.raises(ValueError, match=r"`path` must be a file name, not a folder"):
        diagram("many_to_one", tmp_path / "folder.png")
    with pytest.raises(
        ValueError, match=r"`path` must be in a folder\. Received: .*'.*file' is a file"
    ):
        diagram("many_to_one", tmp_path / "file" / "x.png")
    with pytest.raises(
        ValueError, match=r"`sequences_shape` must be `\(samples, steps, features\)`"
    ):
        diagram_batches(None, 2, tmp_path / "b.png")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["file", "folder.png"]


def test_diagram_refuses_a_model_with_no_input_shape(tmp_path):
    unbuilt = keras.Sequential([keras.layers.LSTM(3)])
    with pytest.raises(ValueError, match=r"`model` must be a functional or Sequential model"):
        diagram(unbuilt, tmp_path / "x.png")
    assert list(tmp_path.iterdir()) == []


def test_forecast_picture_counts_history_and_new_steps(tmp_path):
    d = diagram("forecast", tmp_path / "f.png", history=3, horizon=3, units=32)
    assert d.title == (
        "forecast: 3 known steps warm the state up, then 3 new steps come out, each but the "
        "last fed back as the next input (stateful many-to-many)"
    )
    assert d.columns == [1, 2, 3, 4, 5]  # x1..x3 known, x4 and x5 fed back
    assert d.boxes["input"] == 5 and d.boxes["warmup"] == 2 and d.boxes["output"] == 3
    assert d.arrows["feedback"] == 2 and d.boxes["head"] == 5


def test_generate_picture_has_the_readme_sizes_and_head(tmp_path):
    d = diagram("generate", tmp_path / "g.png", horizon=5, features=2, units=32)
    assert d.title == (
        "generate: one step in, 5 new steps out, each but the last fed back as the next "
        "input (stateful one-to-many)"
    )
    assert d.boxes["cell"] == 5 and d.boxes["head"] == 5 and d.boxes["output"] == 5
    assert d.arrows["feedback"] == 4 and d.marks["shared"] == 1


def test_batches_picture_draws_the_resets(tmp_path):
    d = diagram_batches((3, 6, 2), 2, tmp_path / "b.png")
    assert d.marks["reset"] == 2 and d.arrows["stateful"] == 3 * 2
    assert d.title == (
        "stateful batches: 3 sequences of 6 steps (2 features), chunk=2:\n"
        "row i of each batch continues row i of the previous one; reset before the first "
        "batch and after the last"
    )


def test_a_model_outside_the_patterns_is_not_drawn(tmp_path):
    inp = keras.Input((5, 2))
    out = keras.layers.Dense(1)(keras.layers.Bidirectional(keras.layers.LSTM(4))(inp))
    with pytest.raises(
        ValueError,
        match=r"`model_or_pattern` must be one of the patterns to be drawn unrolled .*"
        r"Received: model 'bidi', which is not one of them",
    ):
        diagram(keras.Model(inp, out, name="bidi"), tmp_path / "x.png")
    assert list(tmp_path.iterdir()) == []


RENAMED = (
    r"`steps` must be written `horizon`: it was renamed `horizon` in 0\.3\.0 \(`horizon` "
    r"counts the steps forecast, `steps` the time steps a sample reads\)\. Received: steps=4"
)


# (what is drawn, drive=, columns): generate draws its 4 new steps; a forecast its 3 known
# steps, then the 4 new ones but the last (fed back)
@pytest.mark.parametrize(
    ("target", "drive", "columns"),
    [
        (lambda: "generate", None, [1, 2, 3, 4]),
        (lambda: "forecast", None, [1, 2, 3, 4, 5, 6]),
        (lambda: stateful_generator(2), "forecast", [1, 2, 3, 4, 5, 6]),
        (lambda: many_to_many(None, 2, 2, stateful=True, batch_size=1), "generate", [1, 2, 3, 4]),
    ],
    ids=["generate", "forecast", "drive-forecast", "drive-generate"],
)
def test_the_new_steps_of_a_driven_picture_are_horizon_and_steps_is_refused(
    tmp_path, target, drive, columns
):
    from keras_lstm_patterns._errors import ArgumentTypeError

    model_or_pattern = target()
    driven = {} if drive is None else {"drive": drive}
    with pytest.raises(ArgumentTypeError, match=RENAMED) as caught:
        diagram(model_or_pattern, tmp_path / "x.png", steps=4, **driven)
    assert caught.value.name == "steps" and caught.value.value == 4
    assert list(tmp_path.iterdir()) == []  # nothing drawn
    d = diagram(model_or_pattern, tmp_path / "x.png", horizon=4, **driven)
    assert d.columns == columns and d.boxes["output"] == 4
    assert "4 new steps" in d.title


def test_horizon_is_refused_for_a_picture_that_is_not_driven(tmp_path):
    with pytest.raises(ValueError, match=r"`horizon` must be a size pattern 'many_to_one'"):
        diagram("many_to_one", tmp_path / "x.png", horizon=3)
    with pytest.raises(
        ValueError,
        match=r"`horizon` must be given only for a generator or with `drive='generate'` or "
        r"`'forecast'` \(the new steps of a model driven by feeding its outputs back\); a "
        r"model's free steps axis is set with `steps`\. Received: horizon=3",
    ):
        diagram(many_to_one(None, 2, 3), tmp_path / "x.png", horizon=3)
    assert list(tmp_path.iterdir()) == []
    assert diagram(many_to_one(None, 2, 3), tmp_path / "x.png", steps=3).columns == [1, 2, 3]


def test_a_generator_model_counts_its_new_steps_in_horizon(tmp_path):
    """Without drive=, a generator model draws the generate picture, its new steps set
    by `horizon` as for the pattern by name; `steps` is refused naming `horizon`."""
    gen = diagram(stateful_generator(2, units=32), tmp_path / "g.png", horizon=3)
    by_name = diagram("generate", tmp_path / "n.png", horizon=3, features=2, units=32)
    assert gen.columns == [1, 2, 3] and gen.title == by_name.title
    assert gen.path.read_bytes() == by_name.path.read_bytes()
    with pytest.raises(TypeError, match=RENAMED):
        diagram(stateful_generator(2), tmp_path / "s.png", steps=4)
    assert not (tmp_path / "s.png").exists()


def test_the_pictures_of_a_driven_pattern_and_of_its_model_are_the_same(tmp_path):
    """By name or as a model driven by drive=, the same sizes draw the same bytes."""
    by_name = diagram("forecast", tmp_path / "a.png", horizon=4, history=2, units=32)
    model = stateful_generator(2, units=32)
    by_model = diagram(model, tmp_path / "b.png", horizon=4, history=2, drive="forecast")
    assert by_name.path.read_bytes() == by_model.path.read_bytes()
    assert by_name.title == by_model.title
