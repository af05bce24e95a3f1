"""The README's code runs: every python block, in order, on small stand-in data.

The blocks are written for the reader's own data (`series`, `x_seq`, `tokens`, ...);
`standins` gives each name a small array of the shape the block's comments promise,
and epoch counts are cut to 1 so the whole README runs in seconds.
"""

import doctest
import re
from pathlib import Path

import keras
import numpy as np
import pytest

from keras_lstm_patterns import windows

ROOT = Path(__file__).resolve().parent.parent
BLOCKS = re.findall(r"```python\n(.*?)```", (ROOT / "README.md").read_text(), re.S)


def standins(folder: Path) -> dict:
    """Stand-ins for the reader's data, shaped as the blocks' comments say."""
    rng = np.random.default_rng(0)
    series = np.sin(np.arange(600) / 6.0).astype("float32")
    np.save(folder / "readings.npy", series)
    x, y = windows.look_back(series[:60], 3)  # the stateful block's (samples, 3, 1)
    x_seq = rng.normal(size=(16, 100, 1)).astype("float32")
    return {
        "series": series,
        "x": x,
        "y": y,
        "x_seq": x_seq,
        "y_seq": np.roll(x_seq, -1, axis=1),
        "first_step": np.zeros((1, 1, 2), "float32"),
        "sequences": rng.normal(size=(1, 30, 2)).astype("float32"),
        "history": rng.normal(size=(1, 30, 2)).astype("float32"),
        "vocab_size": 20,
        "tokens": rng.integers(0, 20, size=(8, 30)),
    }


def doctest_blocks() -> list[str]:
    return [b for b in BLOCKS if b.lstrip().startswith(">>>")]


def code_blocks() -> list[str]:
    return [b for b in BLOCKS if not b.lstrip().startswith(">>>")]


def test_the_readme_has_code():
    assert len(code_blocks()) >= 10
    assert doctest_blocks()


def test_every_readme_block_runs(tmp_path, monkeypatch):
    """Each block gets fresh stand-ins plus what earlier blocks defined (a block may use
    the `model` or `train` of the block before it, as a reader would)."""
    monkeypatch.chdir(tmp_path)
    data = standins(tmp_path)
    carried: dict = {}
    for block in code_blocks():
        if "tf.distribute" in block and keras.backend.backend() != "tensorflow":
            continue  # a TensorFlow-only block
        namespace = {**carried, **data}
        if "seq2seq_autoencoder(" in block:  # this block's x: (batch, 100, 6) recordings
            namespace["x"] = np.random.default_rng(1).normal(size=(8, 100, 6)).astype("float32")
        code = re.sub(r"epochs=\d+", "epochs=1", block)
        try:
            exec(compile(code, "README.md", "exec"), namespace)
        except Exception as err:  # name the block that failed
            pytest.fail(f"README block failed: {type(err).__name__}: {err}\n{block}")
        carried.update({k: v for k, v in namespace.items() if k not in data})
    # what the blocks' comments promise
    assert carried["path"].shape == (1, 1000, 2)
    assert carried["future"].shape == (1, 48, 2)
    assert carried["codes"].shape == (8, 32)
    assert [c.shape for c in carried["chunks"]] == [(16, 50, 1)] * 2
    assert carried["out"].shape == (16, 100, 1)
    assert carried["snapshot"] and carried["one"].inputs[0].shape[0] == 1


def test_readme_doctests():
    parser = doctest.DocTestParser()
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    blocks = doctest_blocks()
    assert blocks
    for i, block in enumerate(blocks):
        block = block.replace("\n\n", "\n<BLANKLINE>\n")  # README shows blank lines plainly
        runner.run(parser.get_doctest(block, {}, f"README block {i}", "README.md", 0))
    assert runner.summarize(verbose=False).failed == 0
