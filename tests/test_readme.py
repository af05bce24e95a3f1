"""The README's code runs: every python block, in order, as a reader would paste it.

Each block defines the data it uses (or reads a file an earlier block wrote); nothing is
supplied from outside. Epoch counts are cut to 1 so the whole README runs in seconds.
"""

import doctest
import re
from pathlib import Path

import keras
import pytest

ROOT = Path(__file__).resolve().parent.parent
BLOCKS = re.findall(r"```python\n(.*?)```", (ROOT / "README.md").read_text(), re.S)


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
    namespace: dict = {}
    for block in code_blocks():
        if "tf.distribute" in block and keras.backend.backend() != "tensorflow":
            continue  # a TensorFlow-only block
        code = re.sub(r"epochs=\d+", "epochs=1", block)
        try:
            exec(compile(code, "README.md", "exec"), namespace)
        except Exception as err:  # name the block that failed
            pytest.fail(f"README block failed: {type(err).__name__}: {err}\n{block}")
        if 'rows["predicted"]' in block:  # the "Your own data" block's promises
            assert namespace["data"].shape == (3, 200, 2)
            assert namespace["x"].shape == (408, 24, 2) and namespace["y"].shape == (408, 1)
            rows = namespace["rows"]
            assert len(rows) == len(namespace["test_y"]) == 120
            assert rows["timestamp"].min() == namespace["index"].times[0][160]
    # what the other blocks' comments promise
    assert namespace["path"].shape == (1, 1000, 2)
    assert namespace["future"].shape == (1, 48, 2)
    assert namespace["codes"].shape == (8, 32)
    assert [c.shape for c in namespace["chunks"]] == [(16, 50, 1)] * 2
    assert namespace["out"].shape == (16, 100, 1)
    assert namespace["snapshot"] and namespace["one"].inputs[0].shape[0] == 1


def test_readme_doctests():
    parser = doctest.DocTestParser()
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    blocks = doctest_blocks()
    assert blocks
    for i, block in enumerate(blocks):
        block = block.replace("\n\n", "\n<BLANKLINE>\n")  # README shows blank lines plainly
        runner.run(parser.get_doctest(block, {}, f"README block {i}", "README.md", 0))
    assert runner.summarize(verbose=False).failed == 0
