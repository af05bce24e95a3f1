"""The README's code runs: every python block, in order, as a reader would paste it.

Each block defines the data it uses (or reads a file an earlier block wrote); nothing is
supplied from outside. Epoch counts are cut to 1 so the whole README runs in seconds:
``epochs=20`` and ``"epochs": 20`` alike (:data:`EPOCHS`).
"""

import doctest
import re
import shutil
from pathlib import Path

import keras
import pytest

ROOT = Path(__file__).resolve().parent.parent
BLOCKS = re.findall(r"```python\n(.*?)```", (ROOT / "README.md").read_text(), re.S)
EPOCHS = re.compile(r"""(\bepochs["']?\s*[=:]\s*)\d+""")  # a keyword or a dict key


def one_epoch(block: str) -> str:
    return EPOCHS.sub(r"\g<1>1", block)


def doctest_blocks() -> list[str]:
    return [b for b in BLOCKS if b.lstrip().startswith(">>>")]


def code_blocks() -> list[str]:
    return [b for b in BLOCKS if not b.lstrip().startswith(">>>")]


def test_the_readme_has_code():
    assert len(code_blocks()) >= 10
    assert doctest_blocks()


def test_every_readme_block_runs(tmp_path, monkeypatch):
    """Each block runs with what earlier blocks defined (a block may use the `model` or
    `train` of the block before it, as a reader would), and nothing else."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "data").mkdir()  # "Your own data" reads the export from the checkout
    shutil.copy(ROOT / "data" / "tank_export.csv", tmp_path / "data")
    namespace: dict = {}
    for block in code_blocks():
        if "tf.distribute" in block and keras.backend.backend() != "tensorflow":
            continue  # a TensorFlow-only block
        code = one_epoch(block)
        try:
            exec(compile(code, "README.md", "exec"), namespace)
        except Exception as err:  # name the block that failed
            pytest.fail(f"README block failed: {type(err).__name__}: {err}\n{block}")
        if "index.report()" in block:  # "Your own data": the export on one grid
            own_data_promises(namespace)
        if "index.window_rows" in block:
            join_back_promises(namespace)
    # what the other blocks' comments promise
    assert namespace["path"].shape == (1, 1000, 2)
    assert namespace["future"].shape == (1, 48, 2)
    assert namespace["codes"].shape == (8, 32)
    assert [c.shape for c in namespace["chunks"]] == [(16, 50, 1)] * 2
    assert namespace["out"].shape == (16, 100, 1)
    assert namespace["snapshot"] and namespace["one"].inputs[0].shape[0] == 1


def own_data_promises(ns: dict) -> None:
    """What "Your own data" says of the export, checked against pandas."""
    import pandas as pd

    ids = [f"T-0{k}" for k in range(1, 7)]
    assert ns["data"].shape == (6, 1009, 2)
    report = ns["report"]
    assert list(report.index) == ids
    assert report.loc["T-02", "longest_gap"] == pd.Timedelta(hours=11)  # 10 hours missing
    assert report.loc["T-03", "interval"] == pd.Timedelta(minutes=30)
    assert report.loc["T-06", "first"] == pd.Timestamp("2024-11-03 04:00", tz="UTC")
    results, scores = ns["results"], ns["scores"]
    assert set(results["model"]) == {"lstm", "persistence", "ar(24)"}
    assert sorted(set(results["entity"])) == ids
    assert results["time"].dt.tz is not None and not results["actual"].isna().any()
    # never a step that was not measured: every scored actual is a real reading
    index, data = ns["index"], ns["data"]
    position = results["entity"].map({i: k for k, i in enumerate(index.ids)})
    step = index.grid.get_indexer(results["time"])
    assert (step >= 0).all() and index.observed[position, step].all()
    pressure = scores.xs("pressure", level="feature")
    assert set(pressure.index.get_level_values("entity")) == set(ids)
    assert set(pressure.index.get_level_values("model")) == {"lstm", "persistence", "ar(24)"}
    assert data.dtype == "float64"


def join_back_promises(ns: dict) -> None:
    rows, joined, y = ns["rows"], ns["joined"], ns["y"]
    assert len(rows) == len(y) == len(joined) == len(ns["x"])
    hourly = joined[joined["tank_id"] != "T-03"]
    assert len(hourly) > 0 and (hourly["target"] == hourly["pressure"]).all()


def test_epoch_counts_are_cut_in_every_form():
    assert one_epoch('fit(x, epochs=50)\nfit_kwargs={"epochs": 20, "batch_size": 64}') == (
        'fit(x, epochs=1)\nfit_kwargs={"epochs": 1, "batch_size": 64}'
    )
    assert one_epoch("dict(epochs = 7, max_epochs=3)") == "dict(epochs = 1, max_epochs=3)"
    trained = [b for b in code_blocks() if re.search(r"\bepochs\b", b)]
    assert trained and all(
        not re.search(r"""epochs["']?\s*[=:]\s*(?!1\b)\d""", one_epoch(b)) for b in trained
    )


def test_readme_doctests():
    parser = doctest.DocTestParser()
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    blocks = doctest_blocks()
    assert blocks
    for i, block in enumerate(blocks):
        block = block.replace("\n\n", "\n<BLANKLINE>\n")  # README shows blank lines plainly
        runner.run(parser.get_doctest(block, {}, f"README block {i}", "README.md", 0))
    assert runner.summarize(verbose=False).failed == 0
