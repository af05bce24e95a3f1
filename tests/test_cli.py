"""Each subcommand, in this process (``main``) or a new one (``klp``), its output and exit
code checked."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

from keras_lstm_patterns.cli import main

ROOT = Path(__file__).resolve().parent.parent


def klp(*args, cwd=ROOT):
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3")
    return subprocess.run(
        [sys.executable, "-m", "keras_lstm_patterns", *args],
        capture_output=True,
        text=True,
        env=env,
        cwd=cwd,
        timeout=240,
    )


def test_patterns():
    p = klp("patterns")
    assert p.returncode == 0
    rule = "-" * 19 + "  " + "-" * 71 + "  " + "-" * 48
    assert p.stdout.splitlines() == [
        "pattern              shapes" + " " * 67 + "built by",
        rule,
        "many_to_one          (batch, steps, features) -> (batch, units or outputs)"
        + " " * 20
        + "many_to_one(steps, features, units)",
        "many_to_many         (batch, steps, features) -> (batch, steps, units or outputs)"
        + " " * 13
        + "many_to_many(steps, features, units)",
        "one_to_many          (batch, features) -> (batch, steps, units or outputs)"
        + " " * 20
        + "one_to_many(steps, features, units)",
        "generate             (batch, 1, features) -> (batch, horizon, features)"
        + " " * 23
        + "stateful_generator(features) + stateful.generate",
        "forecast             (batch, history, features) -> (batch, horizon, features)"
        + " " * 17
        + "stateful_generator(features) + stateful.forecast",
        "seq2seq_autoencoder  (batch, steps, features) -> (batch, latent) -> (batch, steps, "
        "features)  seq2seq_autoencoder(steps, features, latent=...)",
        "next_token           (batch, steps) tokens -> (batch, steps, vocab_size)"
        + " " * 22
        + "next_token_model(vocab_size)",
    ]


def test_explain(capsys):
    # in this process: test_quiet_without_tf_cpp_min_log_level runs `explain` in a new one
    args = "explain many_to_one --steps 5 --features 2 --units 8 --outputs 1"
    code = main(args.split())
    out = capsys.readouterr()
    assert code == 0 and out.err == "", out.err
    assert out.out.startswith("many-to-one: 5 steps in")
    assert "(batch, steps=5, features=2)" in out.out and "(batch, units=8)" in out.out


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["explain", "many_to_two"], "unknown pattern 'many_to_two'; valid patterns: many_to_one"),
        (
            ["explain", "seq2seq_autoencoder", "--units", "4"],
            "pattern 'seq2seq_autoencoder' takes --steps, --features, --latent, --encoder-units, "
            "--decoder-units, --cell; not --units",
        ),
        (
            ["explain", "generate", "--outputs", "3"],
            "pattern 'generate' takes --horizon, --features, --units, --batch-size, --cell; "
            "not --outputs",
        ),
        (["explain", "missing.keras"], "no such file: missing.keras"),
        (
            ["explain", "many_to_one", "--units=4,-2"],
            "`units` must be a positive integer or a sequence of them. Received: units=(4, -2)",
        ),
        (
            ["explain", "many_to_one", "--steps", "0"],
            "`steps` must be None or a positive integer. Received: steps=0",
        ),
        (["recipe", "nope"], "unknown recipe 'nope'; valid recipes: airline_forecast"),
        (["windows", "missing.csv", "--look-back", "3"], "no such file: missing.csv"),
        (
            ["windows", "data/airline.csv", "--look-back", "300"],
            "`look_back` must be between 1 and 143",
        ),
        (
            ["windows", "data/airline.csv", "--look-back", "3", "--column", "x"],
            "no column 'x' in airline.csv; columns: Date, Passengers",
        ),
    ],
)
def test_usage_errors(args, message, capsys, monkeypatch):
    monkeypatch.chdir(ROOT)
    assert main(args) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err


def test_usage_error_in_a_subprocess():
    code = (  # a mistyped pattern answers before Keras (and TensorFlow) start
        "import sys\nfrom keras_lstm_patterns.cli import main\n"
        "code = main(['explain', 'many_to_two'])\n"
        "print(code, sorted(m for m in ('tensorflow', 'keras') if m in sys.modules))"
    )
    p = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT)
    assert p.stdout == "2 []\n", p.stderr
    assert "valid patterns" in p.stderr and "Traceback" not in p.stderr
    p = klp("windows", "data/airline.csv")
    assert p.returncode == 2 and "--look-back" in p.stderr


def test_diagram(tmp_path, capsys):
    out = tmp_path / "m2m.svg"
    assert main(["diagram", "many_to_many", "-o", str(out), "--steps", "4"]) == 0
    assert out.read_text().startswith("<?xml") and "wrote" in capsys.readouterr().out


def test_windows():
    p = klp("windows", "data/airline.csv", "--look-back", "3", "--column", "Passengers")
    assert p.returncode == 0, p.stderr
    assert "x: (141, 3, 1)" in p.stdout and "y: (141, 1)" in p.stdout
    assert "window 0: x=[112. 118. 132.] -> y=129.  (target at row=3)" in p.stdout


def test_recipes_list():
    p = klp("recipes")
    assert p.returncode == 0 and "airline_look_back" in p.stdout and "sunspots_steps" in p.stdout


@pytest.mark.parametrize(
    "sub", ["patterns", "explain", "diagram", "windows", "recipes", "recipe", "docs"]
)
def test_help_has_an_example(sub, capsys):
    with pytest.raises(SystemExit) as exit_:
        main([sub, "--help"])
    assert exit_.value.code == 0 and "Example: klp" in capsys.readouterr().out


def test_recipe_runs_quick(tmp_path):
    """The quickest recipe through `klp recipe`, checked as test_recipes.py checks the
    others' quick runs (which run in the test's own process)."""
    from .test_recipes import THROUGH_KLP, check_quick_run

    p = klp("recipe", THROUGH_KLP, "--quick", "--out", str(tmp_path))
    assert p.returncode == 0, p.stderr[-2000:]
    check_quick_run(THROUGH_KLP, p.stdout, tmp_path)


def test_docs_is_deterministic(tmp_path):
    a, b = tmp_path / "a", tmp_path / "b"
    assert klp("docs", str(a)).returncode == 0  # a fresh process ...
    assert main(["docs", str(b)]) == 0  # ... and this one draw the same bytes
    names = sorted(p.name for p in a.iterdir())
    assert names == [
        "forecast.png",
        "generate.png",
        "many_to_many.png",
        "many_to_one.png",
        "next_token.png",
        "one_to_many.png",
        "seq2seq_autoencoder.png",
        "stateful_batches.png",
    ]
    for n in names:
        assert (a / n).read_bytes() == (b / n).read_bytes(), n
    # the driven pictures keep their sizes, now spelled horizon: 5 and 3 new steps
    from keras_lstm_patterns import stateful_generator
    from keras_lstm_patterns.diagram import diagram

    generate = diagram("generate", tmp_path / "g.png", horizon=5, features=2, units=32)
    forecast = diagram(
        stateful_generator(2, units=32), tmp_path / "f.png", drive="forecast", horizon=3
    )
    assert (a / "generate.png").read_bytes() == generate.path.read_bytes()
    assert (a / "forecast.png").read_bytes() == forecast.path.read_bytes()


def one_line_error(capsys, args):
    assert main(args) == 2
    captured = capsys.readouterr()
    err = captured.err
    assert err.endswith("\n") and err.count("\n") == 1, err
    assert "Traceback" not in err and captured.out == ""
    return err


def test_usage_errors_are_one_line(tmp_path, capsys):
    (tmp_path / "file").write_text("a file")
    (tmp_path / "x.png").mkdir()
    err = one_line_error(capsys, ["explain", "forecast", "--horizon", "0"])
    assert err.startswith("klp explain: error: `horizon` must be a positive integer")
    err = one_line_error(capsys, ["diagram", "many_to_one", "-o", str(tmp_path / "file" / "m.png")])
    assert "klp diagram: error: `path` must be in a folder" in err and "is a file" in err
    err = one_line_error(capsys, ["diagram", "many_to_one", "-o", str(tmp_path / "x.png")])
    assert "klp diagram: error: `path` must be a file name, not a folder" in err
    err = one_line_error(capsys, ["diagram", "generate", "-o", str(tmp_path / "g.jpg")])
    assert "`path` must be a file name ending in .png or .svg" in err
    err = one_line_error(capsys, ["docs", str(tmp_path / "file")])
    assert (
        err == f"klp docs: error: {tmp_path / 'file'} is a file; give a folder for the pictures\n"
    )
    assert sorted(p.name for p in tmp_path.iterdir()) == ["file", "x.png"]
    assert (tmp_path / "file").read_text() == "a file" and not any((tmp_path / "x.png").iterdir())


@pytest.mark.parametrize(
    ("args", "what"),
    [
        (["explain", "forecast", "--steps", "3"], "forecast"),
        (["explain", "generate", "--steps", "3", "--features", "2"], "generate"),
        (["diagram", "generate", "-o", "PNG", "--steps", "3"], "generate"),
        (["diagram", "forecast", "-o", "PNG", "--history", "2", "--steps", "3"], "forecast"),
    ],
    ids=lambda v: " ".join(v[:2]) if isinstance(v, list) else None,
)
def test_steps_for_generate_or_forecast_names_horizon(args, what, tmp_path, capsys):
    png = tmp_path / "x.png"
    args = [str(png) if a == "PNG" else a for a in args]
    err = one_line_error(capsys, args)
    assert err == (
        f"klp {args[0]}: error: --steps must be written --horizon for {what}: --horizon counts "
        "the new steps, --steps the time steps a sample reads. Received: --steps 3\n"
    )
    assert not png.exists()
    horizon = [a if a != "--steps" else "--horizon" for a in args]  # the new spelling works
    assert main(horizon) == 0 and "3 new steps" in capsys.readouterr().out


def test_argparse_errors_are_one_line(capsys):
    with pytest.raises(SystemExit) as exit_:
        main(["explain", "many_to_one", "--steps", "abc"])
    err = capsys.readouterr().err
    assert exit_.value.code == 2 and err.count("\n") == 1
    assert "invalid int value: 'abc'" in err and "(see klp explain --help)" in err


def test_os_errors_are_one_line(tmp_path, capsys, monkeypatch):
    import keras_lstm_patterns.diagram as diagram_module

    def refuse(*args, **kwargs):
        raise PermissionError(13, "Permission denied", str(tmp_path / "m.png"))

    monkeypatch.setattr(diagram_module, "diagram", refuse)
    err = one_line_error(capsys, ["diagram", "many_to_one", "-o", str(tmp_path / "m.png")])
    assert err == f"klp diagram: error: Permission denied: {tmp_path / 'm.png'}\n"


def test_an_os_error_about_another_file_keeps_its_traceback(tmp_path, monkeypatch):
    """Only the files the command line named are usage errors; another is a bug."""
    import keras_lstm_patterns.explaining as explaining

    def lost(*args, **kwargs):
        raise FileNotFoundError(2, "No such file or directory", "/a/file/of/the/package")

    monkeypatch.setattr(explaining, "explain", lost)
    with pytest.raises(FileNotFoundError, match="of/the/package"):
        main(["explain", "many_to_one"])


def test_a_bug_in_the_package_while_loading_a_model_keeps_its_traceback(tmp_path, monkeypatch):
    """A file Keras cannot read is one line (below); a failure inside the package's own
    code while Keras rebuilds a model (a nested PatternModel is called) is a bug."""
    from keras_lstm_patterns import seq2seq_autoencoder
    from keras_lstm_patterns.layers import PatternModel

    path = saved(tmp_path, seq2seq_autoencoder(4, 2, encoder_units=3).autoencoder, "s.keras")

    def broken(self, *args, **kwargs):
        raise RuntimeError("a fault in the package's input check")

    monkeypatch.setattr(PatternModel, "_check_input", broken)
    with pytest.raises(RuntimeError, match="a fault in the package's input check"):
        main(["explain", path])


def test_diagram_suffix_in_any_case(tmp_path, capsys):
    out = tmp_path / "m.SVG"
    assert main(["diagram", "many_to_one", "-o", str(out), "--steps", "3"]) == 0
    assert out.read_text().startswith("<?xml") and "wrote" in capsys.readouterr().out


@pytest.mark.parametrize(
    "args",
    [
        "many_to_one --steps 4 --features 3 --units 6,5 --outputs 2 --cell gru",
        "many_to_many --steps 4 --features 3 --units 6 --outputs 2 --cell simple",
        "one_to_many --steps 4 --features 3 --units 6 --outputs 2 --cell lstm",
        "generate --horizon 4 --features 3 --units 6 --batch-size 2 --cell gru",
        "forecast --horizon 4 --history 2 --features 3 --units 6 --batch-size 2 --cell lstm",
        "seq2seq_autoencoder --steps 4 --features 3 --latent 2 --encoder-units 6 "
        "--decoder-units 5 --cell gru",
        "next_token --steps 4 --vocab-size 11 --units 6 --embedding-dim 3 --cell lstm",
    ],
    ids=lambda a: a.split()[0],
)
def test_every_size_listed_for_a_pattern_is_accepted(args, capsys):
    assert main(["explain", *args.split()]) == 0
    assert capsys.readouterr().err == ""


def test_help_lists_the_sizes_each_pattern_takes(capsys):
    with pytest.raises(SystemExit):
        main(["explain", "--help"])
    out = capsys.readouterr().out
    assert (
        "  seq2seq_autoencoder  --steps --features --latent --encoder-units --decoder-units --cell"
        in out
    )
    assert "  generate             --horizon --features --units --batch-size --cell" in out
    assert "  forecast             --horizon --history --features --units --batch-size" in out
    assert "--horizon HORIZON     generate/forecast: new steps" in out
    assert "--steps STEPS         steps per sequence (the unrolled length)\n" in out


def quiet_env():
    env = dict(os.environ)
    env.pop("TF_CPP_MIN_LOG_LEVEL", None)
    return env


def test_importing_the_cli_loads_neither_tensorflow_nor_keras():
    code = (
        "import sys, keras_lstm_patterns.cli\n"
        "print(sorted(m for m in ('tensorflow', 'keras', 'numpy', 'pandas') if m in sys.modules))"
    )
    p = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=quiet_env()
    )
    assert p.stdout == "[]\n" and p.stderr == ""


@pytest.mark.parametrize(
    "args",
    [
        ["--help"],
        ["explain", "many_to_one", "--steps", "3"],
        ["windows", "data/airline.csv", "--look-back", "3", "--column", "Passengers"],
    ],
    ids=["help", "explain", "windows"],
)
def test_quiet_without_tf_cpp_min_log_level(args):
    p = subprocess.run(
        [sys.executable, "-m", "keras_lstm_patterns", *args],
        capture_output=True,
        text=True,
        env=quiet_env(),
        cwd=ROOT,
        timeout=240,
    )
    assert p.returncode == 0 and p.stdout
    assert p.stderr == ""


def saved(tmp_path, model, name):
    path = tmp_path / name
    model.save(path)
    return str(path)


def test_explain_and_diagram_a_saved_pattern(tmp_path, capsys):
    from keras_lstm_patterns import many_to_one

    path = saved(tmp_path, many_to_one(5, 2, 3, outputs=1), "m.keras")
    assert main(["explain", path]) == 0
    out = capsys.readouterr().out
    assert out.startswith("many-to-one: 5 steps in, one vector out (return_sequences=False)\n")
    assert "(batch, steps=5, features=2)" in out and "(batch, units=3)" in out
    assert main(["diagram", path, "-o", str(tmp_path / "m.png")]) == 0
    assert (tmp_path / "m.png").read_bytes()[:4] == b"\x89PNG"
    assert "wrote" in capsys.readouterr().out
    err = one_line_error(capsys, ["explain", path, "--units", "4"])
    assert err == "klp explain: error: a saved model takes --steps, --horizon; not --units\n"
    err = one_line_error(capsys, ["explain", path, "--horizon", "3"])
    assert err == (
        "klp explain: error: `horizon` must be left out for a model that is not a generator: "
        "its free steps axis is set with `steps` (`horizon` counts the new steps of the "
        "patterns generate and forecast). Received: horizon=3\n"
    )


def test_a_saved_generator_counts_its_new_steps_in_horizon(tmp_path, capsys):
    from keras_lstm_patterns import stateful_generator

    path = saved(tmp_path, stateful_generator(2, units=4), "g.keras")
    assert main(["explain", path, "--horizon", "3"]) == 0
    assert capsys.readouterr().out.startswith("generate: one step in, 3 new steps out")
    err = one_line_error(capsys, ["explain", path, "--steps", "3"])
    assert err == (
        f"klp explain: error: --steps must be written --horizon for {path}: --horizon counts "
        "the new steps, --steps the time steps a sample reads. Received: --steps 3\n"
    )


def test_a_saved_model_outside_the_patterns(tmp_path, capsys):
    import keras

    inp = keras.Input((5, 2))
    x = keras.layers.Conv1D(4, 2, name="conv")(inp)
    out = keras.layers.Dense(1)(keras.layers.LSTM(3, name="lstm")(x))
    path = saved(tmp_path, keras.Model(inp, out, name="conv_lstm"), "c.keras")
    assert main(["explain", path]) == 0
    text = capsys.readouterr().out
    assert text.startswith("conv_lstm: a recurrent model that is not one of the patterns")
    assert "(batch, steps=4, filters=4)" in text
    assert main(["diagram", path, "-o", str(tmp_path / "c.png")]) == 1
    captured = capsys.readouterr()
    assert captured.out.startswith("conv_lstm: a recurrent model")
    assert captured.err == (
        f"klp diagram: no picture drawn: {path} is not one of the patterns (klp patterns "
        "lists them); its layers are above\n"
    )
    assert not (tmp_path / "c.png").exists()


def test_a_saved_model_with_no_recurrent_layer(tmp_path, capsys):
    import keras

    model = keras.Sequential([keras.Input((5, 2)), keras.layers.Dense(1)], name="flat")
    path = saved(tmp_path, model, "d.keras")
    err = one_line_error(capsys, ["explain", path])
    assert err.startswith("klp explain: error: `model` must be a model with a recurrent layer")
    assert err.endswith("Received: model 'flat' with layers Dense\n")
    (tmp_path / "junk.keras").write_text("not a model")
    err = one_line_error(capsys, ["explain", str(tmp_path / "junk.keras")])
    assert err == (
        "klp explain: error: junk.keras is not a Keras model file: a .keras file is a zip "
        "archive, this one (11 bytes) is not (cut short while copying, or another format)\n"
    )


def test_paths_that_are_not_files_say_what_they_are(tmp_path, capsys):
    (tmp_path / "dir.keras").mkdir()
    err = one_line_error(capsys, ["explain", str(tmp_path / "dir.keras")])
    assert err == f"klp explain: error: {tmp_path / 'dir.keras'} is a directory, not a file\n"
    err = one_line_error(capsys, ["windows", str(tmp_path), "--look-back", "2"])
    assert err == f"klp windows: error: {tmp_path} is a directory, not a file\n"
    err = one_line_error(capsys, ["windows", os.devnull, "--look-back", "2"])
    assert err == f"klp windows: error: {os.devnull} is a device, not a file\n"
    err = one_line_error(capsys, ["explain", os.devnull])
    assert err.startswith(f"klp explain: error: unknown pattern '{os.devnull}' ")
    assert f"({os.devnull} is a device, not a file)" in err
    err = one_line_error(capsys, ["explain", str(tmp_path / "no" / "m.keras")])
    assert err == f"klp explain: error: no such file: {tmp_path / 'no' / 'm.keras'}\n"


def test_model_files_keras_cannot_read_say_why(tmp_path, capsys):
    (tmp_path / "M.H5").write_bytes(b"\x89HDF\r\n\x1a\n" + bytes(100))
    err = one_line_error(capsys, ["explain", str(tmp_path / "M.H5")])
    assert err == (
        "klp explain: error: Keras reads saved models only from names ending in .keras, .h5, "
        ".hdf5 in lower case; rename M.H5 to M.h5\n"
    )
    (tmp_path / "m.h5").write_text("text, not HDF5")
    err = one_line_error(capsys, ["explain", str(tmp_path / "m.h5")])
    assert "m.h5 is not a Keras model file: a .h5 model is an HDF5 file, this one (14" in err
    import zipfile

    with zipfile.ZipFile(tmp_path / "other.keras", "w") as archive:
        archive.writestr("weights.bin", b"0")
    err = one_line_error(capsys, ["explain", str(tmp_path / "other.keras")])
    assert "other.keras is a zip archive but not a Keras model (no config.json in it)" in err
    with zipfile.ZipFile(tmp_path / "bad.keras", "w") as archive:
        archive.writestr("config.json", "{}")
    err = one_line_error(capsys, ["explain", str(tmp_path / "bad.keras")])
    assert err.startswith("klp explain: error: bad.keras could not be read as a Keras model (")


def test_a_truncated_or_fixed_steps_saved_model(tmp_path, capsys):
    from keras_lstm_patterns import many_to_one

    path = saved(tmp_path, many_to_one(5, 2, 3, outputs=1), "m.keras")
    data = (tmp_path / "m.keras").read_bytes()
    (tmp_path / "cut.keras").write_bytes(data[: len(data) // 2])
    err = one_line_error(capsys, ["explain", str(tmp_path / "cut.keras")])
    assert "cut.keras is not a Keras model file: a .keras file is a zip archive, this one" in err
    assert "(cut short while copying, or another format)" in err and "File not found" not in err
    err = one_line_error(capsys, ["explain", path, "--steps", "7"])
    assert err == (
        "klp explain: error: --steps 7: m.keras has a fixed steps axis of 5; --steps sets "
        "only a free one (an input shape (None, features))\n"
    )
    assert main(["explain", path, "--steps", "5"]) == 0  # the model's own steps: no conflict
    assert "many-to-one: 5 steps in" in capsys.readouterr().out
