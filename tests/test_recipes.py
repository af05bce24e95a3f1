"""Every recipe runs end to end in --quick mode and writes finite results and a plot.

The quick runs execute in the test's own process, as ``klp recipe`` executes a recipe in
its child (``runpy`` as ``__main__``, the recipes folder first on ``sys.path``): each
pytest worker imports TensorFlow once instead of once per recipe. ``test_cli.py`` runs
one recipe (``THROUGH_KLP``) through ``klp recipe`` in a child process, with the same
checks, and ``make test-wheel`` one from the unpacked sdist.
"""

import ast
import contextlib
import io
import json
import math
import re
import runpy
import sys
import types
from pathlib import Path

import keras
import numpy as np
import pytest

ROOT = Path(__file__).resolve().parent.parent
RECIPES = sorted(p.stem for p in (ROOT / "recipes").glob("[a-z]*.py"))
HEADLINE = {
    "airline_look_back": ["tutorial", "backtest", "chosen"],
    "airline_forecast": ["rmse", "coverage", "chosen"],
    "airline_one_to_many": ["validation", "h12", "h24"],
    "vowels_many_to_one": ["accuracy"],
    "motions_autoencoder": ["metrics", "auc_by_activity"],
    "text_next_token": ["bits_per_char", "baselines", "sample"],
    "sunspots_steps": ["validation", "test", "chosen_look_back"],
    "tanks_own_data": ["rmse", "lstm_beats_persistence"],
}


def numbers(value):
    if isinstance(value, bool):
        return
    if isinstance(value, (int, float)):
        yield value
    elif isinstance(value, dict):
        for v in value.values():
            yield from numbers(v)
    elif isinstance(value, list):
        for v in value:
            yield from numbers(v)


def test_every_recipe_is_listed():
    assert set(RECIPES) == set(HEADLINE)


def run_recipe(name: str, *args: str) -> str:
    """Run ``recipes/<name>.py`` with ``args`` as ``klp recipe`` does; what it printed.

    ``sys.argv``, ``sys.path`` and the recipes' shared ``_common`` module are restored
    after it, Keras's session is cleared and the figures closed, whatever happened.
    """
    import matplotlib.pyplot as plt

    script = ROOT / "recipes" / f"{name}.py"
    argv, path = sys.argv, list(sys.path)
    sys.argv = [str(script), *args]
    sys.path.insert(0, str(script.parent))
    printed = io.StringIO()
    try:
        with contextlib.redirect_stdout(printed):
            runpy.run_path(str(script), run_name="__main__")
    finally:
        sys.argv, sys.path[:] = argv, path
        sys.modules.pop("_common", None)
        keras.backend.clear_session()
        plt.close("all")
    return printed.getvalue()


def test_run_recipe_restores_what_it_changes(tmp_path):
    argv, path = list(sys.argv), list(sys.path)
    with pytest.raises(SystemExit):  # argparse refuses the option, after the imports
        run_recipe("text_next_token", "--no-such-option")
    assert sys.argv == argv and sys.path == path and "_common" not in sys.modules


# checked by test_cli.py through `klp recipe`, in the child process that command starts
THROUGH_KLP = "text_next_token"


@pytest.mark.parametrize("name", [r for r in RECIPES if r != THROUGH_KLP])
def test_recipe_quick(name, tmp_path):
    check_quick_run(name, run_recipe(name, "--quick", "--out", str(tmp_path)), tmp_path)


def check_quick_run(name: str, printed: str, tmp_path: Path) -> None:
    """What a recipe's quick run must print and write to ``tmp_path`` (its ``--out``)."""
    assert "QUICK" in printed or "(--quick: a smoke test" in printed
    assert "| " in printed  # the results table
    results = json.loads((tmp_path / "results.json").read_text())
    assert results["quick"] is True and results["recipe"] == name
    for key in HEADLINE[name]:
        assert key in results
    values = list(numbers({k: results[k] for k in HEADLINE[name]}))
    assert values and all(math.isfinite(v) for v in values)
    png = tmp_path / f"{name}.png"
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and png.stat().st_size > 5000
    if name == "tanks_own_data":
        check_tank_predictions(tmp_path / "predictions.csv")


def check_tank_predictions(path):
    """Each written prediction row names the (recording, step) whose readings it predicts."""
    import pandas as pd

    tanks = definitions("tanks_own_data")
    frame = tanks.long_frame()
    written = pd.read_csv(path)
    assert len(written) == 80 * len(tanks.ORIGINS) * tanks.EVERY
    assert written["step"].min() == tanks.ORIGINS[0] and written["step"].max() == 99
    joined = written.merge(frame, on=["recording", "step"], validate="one_to_one")
    for t in tanks.TARGETS:
        np.testing.assert_allclose(joined[f"{t}_actual"], joined[t], rtol=1e-6)
        assert np.isfinite(joined[f"{t}_predicted"]).all()


def definitions(name):
    """A recipe's imports, UPPER_CASE constants, functions and classes, without its lesson.

    A recipe runs its lesson at the top level (the keras.io form, see recipes/_common.py),
    so importing it would run it; this loads only the statements that define things.
    """
    path = ROOT / "recipes" / f"{name}.py"
    tree = ast.parse(path.read_text(), filename=str(path))

    def constant(target):
        names = target.elts if isinstance(target, ast.Tuple) else [target]
        return all(isinstance(n, ast.Name) and n.id.isupper() for n in names)

    keep = [
        node
        for node in tree.body
        if isinstance(node, (ast.Import, ast.ImportFrom, ast.FunctionDef, ast.ClassDef))
        or (isinstance(node, ast.Assign) and all(constant(t) for t in node.targets))
        or (
            isinstance(node, ast.Expr)  # os.environ.setdefault(...) before the imports
            and isinstance(node.value, ast.Call)
            and ast.unparse(node.value.func) == "os.environ.setdefault"
        )
    ]
    module = types.ModuleType(name)
    module.__file__ = str(path)
    sys.path.insert(0, str(path.parent))
    try:
        code = compile(ast.Module(body=keep, type_ignores=[]), str(path), "exec")
        exec(code, module.__dict__)
    finally:
        sys.path.remove(str(path.parent))
    return module


def test_definitions_leave_the_lesson_out():
    vowels = definitions("vowels_many_to_one")
    assert callable(vowels.lstm_fcn) and vowels.NAME == "vowels_many_to_one"
    assert not hasattr(vowels, "run")  # the lesson (argument parsing, training) did not run


def test_lstm_fcn_prediction_does_not_depend_on_padding():
    vowels = definitions("vowels_many_to_one")
    model = vowels.lstm_fcn(None, 4, 3, dict(vowels.MODEL, filters=(8, 8, 8)))
    x = np.random.default_rng(0).normal(size=(3, 12, 4)).astype("float32")
    x[0, 5:] = 0.0  # a shorter sequence, padded
    longer = np.concatenate([x, np.zeros((3, 9, 4), "float32")], axis=1)
    short_out, long_out = (
        keras.ops.convert_to_numpy(model(x)),
        keras.ops.convert_to_numpy(model(longer)),
    )
    np.testing.assert_allclose(short_out, long_out, rtol=1e-6, atol=1e-7)
    # the short sequence with no padding at all
    alone = keras.ops.convert_to_numpy(model(x[:1, :5]))
    np.testing.assert_allclose(alone, short_out[:1], rtol=1e-6, atol=1e-7)


def test_highway_lstm_adds_a_linear_term_to_the_lstm():
    airline = definitions("airline_look_back")
    x = np.random.default_rng(1).normal(size=(5, 6, 1)).astype("float32")
    coef = np.arange(1.0, 7.0, dtype="float32")[:, None]
    linear = airline.highway_lstm(6, 0)
    linear.get_layer("linear").set_weights([coef])
    np.testing.assert_allclose(keras.ops.convert_to_numpy(linear(x)), x[:, :, 0] @ coef, rtol=1e-5)
    both = airline.highway_lstm(6, 3)
    both.get_layer("linear").set_weights([coef])
    lstm = both.get_layer("many_to_one")
    np.testing.assert_allclose(
        keras.ops.convert_to_numpy(both(x)),
        keras.ops.convert_to_numpy(lstm(x)) + x[:, :, 0] @ coef,
        rtol=1e-5,
        atol=1e-6,
    )


def test_airline_bag_averages_independent_members_of_the_double_difference():
    airline = definitions("airline_look_back")
    y = airline.load()
    logy = np.log(y)
    w = airline.double_difference(logy)
    hand = [logy[t] - logy[t - 1] - logy[t - 12] + logy[t - 13] for t in range(13, len(y))]
    np.testing.assert_allclose(w, hand, rtol=1e-12)
    keras.utils.set_random_seed(0)
    bag = airline.bag(7, 2, 3)
    x = np.random.default_rng(2).normal(size=(4, 7, 1)).astype("float32")
    out = keras.ops.convert_to_numpy(bag(x))
    assert out.shape == (4, 3)
    for m in range(3):
        member = keras.ops.convert_to_numpy(bag.get_layer(f"member_{m}")(x))[:, 0]
        np.testing.assert_allclose(out[:, m], member, rtol=1e-6)
    assert not np.allclose(out[:, 0], out[:, 1])  # members start from their own weights
    shared = {id(v) for v in bag.get_layer("member_0").weights}
    assert shared.isdisjoint(id(v) for v in bag.get_layer("member_1").weights)


def test_sunspots_choose_takes_the_shortest_window_within_one_std_of_the_best():
    sunspots = definitions("sunspots_steps")
    stat = lambda mean, std: {"mean": mean, "std": std, "runs": [mean]}  # noqa: E731
    tied = {2: stat(0.80, 0.05), 4: stat(0.79, 0.01), 11: stat(0.85, 0.01)}
    assert sunspots.choose(tied) == 2  # 0.80 <= 0.79 + 0.01
    clear = {2: stat(0.90, 0.01), 4: stat(0.81, 0.01), 11: stat(0.70, 0.02)}
    assert sunspots.choose(clear) == 11


def test_airline_year_pairs_and_the_second_year_fed_back():
    airline = definitions("airline_one_to_many")
    logy = np.log(airline.load()[:40])
    x, y = airline.year_pairs(logy)
    for i in range(len(logy) - 23):
        level = logy[i : i + 12].mean()
        np.testing.assert_allclose(x[i], logy[i : i + 12] - level, rtol=1e-12)
        np.testing.assert_allclose(y[i, :, 0], logy[i + 12 : i + 24] - level, rtol=1e-12)

    class Shift:  # next year = this year relative to its mean, plus 0.1
        def predict_on_batch(self, z):
            return z[:, :, None] + 0.1

    last = logy[-12:]
    two = airline.next_years(Shift(), last, 2)
    np.testing.assert_allclose(two, np.r_[last + 0.1, last + 0.2], rtol=1e-6)


# The keras.io form: sections as notebook cells (recipes/_common.py says how a recipe is written)
OLD_FORM: set[str] = set()  # recipes whose prose is still inside main(run): none
FORM = [
    pytest.param(n, marks=pytest.mark.xfail(reason="not yet in the keras.io form"))
    if n in OLD_FORM
    else n
    for n in RECIPES
]
NOTEBOOK = "text_next_token"  # the quickest recipe executes as a notebook


@pytest.mark.parametrize("name", FORM)
def test_recipe_converts_to_a_notebook_with_its_sections_as_cells(name):
    jupytext = pytest.importorskip("jupytext")
    text = (ROOT / "recipes" / f"{name}.py").read_text()
    notebook = jupytext.reads(text, fmt="py:percent")
    cells = notebook.cells
    markdown = [c.source for c in cells if c.cell_type == "markdown"]
    code = [c.source for c in cells if c.cell_type == "code"]
    assert cells[0].cell_type == "markdown" and cells[0].source.startswith("# ")
    for field in ("**Pattern:**", "**Data:**", "**Command:**", "**Expected:**"):
        assert field in cells[0].source, field
    headings = re.findall(r'^"""\n(## .+)$', text, flags=re.M)
    assert len(headings) >= 3
    assert [m.splitlines()[0] for m in markdown if m.startswith("## ")] == headings
    assert len(markdown) == text.count("# %% [markdown]")
    assert len(code) >= len(headings)
    assert "def main(" not in text
    for source in code:  # no prose left inside a code cell
        assert '"""\n## ' not in source and not source.lstrip().startswith('"""')


def test_a_converted_notebook_runs_in_quick_mode(tmp_path, monkeypatch):
    jupytext = pytest.importorskip("jupytext")
    nbclient = pytest.importorskip("nbclient")
    pytest.importorskip("ipykernel")
    notebook = jupytext.read(ROOT / "recipes" / f"{NOTEBOOK}.py")
    monkeypatch.setenv("KLP_RECIPE_ARGS", f"--quick --out {tmp_path}")
    monkeypatch.setenv("TF_CPP_MIN_LOG_LEVEL", "3")
    monkeypatch.setenv("JUPYTER_PLATFORM_DIRS", "1")
    client = nbclient.NotebookClient(
        notebook,
        timeout=600,
        kernel_name="python3",
        resources={"metadata": {"path": str(ROOT / "recipes")}},
    )
    client.execute()
    printed = "".join(
        o.get("text", "") for c in notebook.cells if c.cell_type == "code" for o in c.outputs
    )
    assert "(--quick: a smoke test" in printed and "| " in printed
    shown = [o for c in notebook.cells for o in c.get("outputs", []) if "data" in o]
    assert any("image/png" in o["data"] for o in shown)  # run.save shows the plot
    results = json.loads((tmp_path / "results.json").read_text())
    assert results["quick"] is True and results["recipe"] == NOTEBOOK
    values = list(numbers({k: results[k] for k in HEADLINE[NOTEBOOK]}))
    assert values and all(math.isfinite(v) for v in values)
