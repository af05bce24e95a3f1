"""Saved models load whatever the order of `import keras` and `import keras_lstm_patterns`."""

import os
import subprocess
import sys

import pytest

from keras_lstm_patterns import many_to_many, many_to_one

from .helpers import light_backend

# Registration is Keras's and the package's, not a backend's: the loading process runs on
# JAX when it is installed (a model saved here, loaded by another backend, as a user who
# moves backends does), at about half the CPU (tests/helpers.light_backend).
LOADER = light_backend()


@pytest.mark.parametrize(
    "imports",
    [
        "import keras_lstm_patterns\nimport keras",
        "import keras\nimport keras_lstm_patterns",
        # a look-up of Keras before its import (the missing-backend check makes one)
        "import importlib.util, keras_lstm_patterns\n"
        "assert importlib.util.find_spec('keras')\nimport keras",
    ],
    ids=["package-first", "keras-first", "looked-up-first"],
)
def test_load_model_finds_the_package_classes(tmp_path, imports):
    paths = [tmp_path / "m2m.keras", tmp_path / "m2o.keras"]
    many_to_many(None, 2, 3, outputs=2).save(paths[0])  # PatternModel and TimeDistributed
    many_to_one(5, 2, 3).save(paths[1])  # a fixed steps axis, no head
    code = f"{imports}\nfor p in {[str(p) for p in paths]!r}:\n"
    code += "    print(type(keras.models.load_model(p)).__name__)\n"
    code += "print(keras.backend.backend())"
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3", KERAS_BACKEND=LOADER)
    p = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env)
    assert p.returncode == 0, p.stderr[-2000:]
    assert p.stdout.split() == ["PatternModel", "PatternModel", LOADER]
