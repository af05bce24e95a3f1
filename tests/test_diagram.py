import keras
import pytest

from keras_lstm_patterns import many_to_many, many_to_one, seq2seq_autoencoder, stateful_generator
from keras_lstm_patterns.diagram import MAX_COLUMNS, diagram, diagram_batches
from keras_lstm_patterns.explain import PATTERNS, build_pattern, recurrent_layers


def shown(steps):
    """How many step columns carry boxes: all, or 4 + the last beyond MAX_COLUMNS."""
    return steps if steps <= MAX_COLUMNS else 5


@pytest.mark.parametrize("name", list(PATTERNS))
@pytest.mark.parametrize("steps", [3, 9])
def test_every_pattern_structure(tmp_path, name, steps):
    _, model, _ = build_pattern(name, steps=steps)
    d = diagram(name, tmp_path / f"{name}.png", steps=steps)
    assert d.path.read_bytes()[:4] == b"\x89PNG"
    # forecast draws its 3 known steps, then the new steps but the last as inputs
    columns = steps + 2 if name == "forecast" else steps
    cols = shown(columns)
    rnns = recurrent_layers(model)
    assert d.boxes["cell"] == cols * len(rnns)
    assert d.marks["shared"] == len(rnns)  # each recurrent row framed as one cell
    # state arrows join neighbouring drawn cells; the ellipsis breaks the chain once
    links = cols - 1 if columns <= MAX_COLUMNS else cols - 2
    assert d.arrows["state"] == links * len(rnns)
    per_step_out = rnns[-1].return_sequences
    assert d.boxes["output"] + d.boxes["warmup"] == (cols if per_step_out else 1)
    assert d.arrows["stateful"] == sum(r.stateful for r in rnns)
    repeats = sum(isinstance(la, keras.layers.RepeatVector) for la in model.layers) + (
        1 if name == "seq2seq_autoencoder" else 0
    )
    assert d.boxes["repeat"] == cols * repeats
    if name == "generate":
        assert d.arrows["feedback"] == links
    if name == "forecast":
        assert 0 < d.arrows["feedback"] < links + 1
    if name in ("many_to_one", "many_to_many", "seq2seq_autoencoder"):
        assert d.boxes["input"] == cols
    if name == "one_to_many":
        assert d.boxes["input"] == 1


def test_diagram_of_a_model_reads_its_flags(tmp_path):
    m = many_to_one(4, 3, (6, 5, 4), outputs=2)
    d = diagram(m, tmp_path / "m.svg")
    assert d.path.read_text().startswith("<?xml")
    assert d.boxes["cell"] == 12 and d.boxes["output"] == 1 and d.boxes["head"] == 1
    m2 = many_to_many(None, 3, 5, outputs=3, stateful=True, batch_size=2)
    d2 = diagram(m2, tmp_path / "m2.png", steps=4)
    assert d2.boxes["output"] == 4 and d2.arrows["stateful"] == 1 and d2.boxes["head"] == 4
    d3 = diagram(stateful_generator(2), tmp_path / "g.png", steps=4, drive="generate")
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
    d = diagram("forecast", tmp_path / "f.png", history=3, steps=3, units=32)
    assert d.title == (
        "forecast: 3 known steps warm the state up, then 3 new steps come out, each but the "
        "last fed back as the next input (stateful many-to-many)"
    )
    assert d.columns == [1, 2, 3, 4, 5]  # x1..x3 known, x4 and x5 fed back
    assert d.boxes["input"] == 5 and d.boxes["warmup"] == 2 and d.boxes["output"] == 3
    assert d.arrows["feedback"] == 2 and d.boxes["head"] == 5


def test_generate_picture_has_the_readme_sizes_and_head(tmp_path):
    d = diagram("generate", tmp_path / "g.png", steps=5, features=2, units=32)
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
