"""Without a Keras backend, the package and ``klp`` say in one line which extra to install.

Each test runs a fresh interpreter with ``KERAS_BACKEND`` naming a real Keras backend that
is not installed here (as a user who installed the package without an extra meets it).
"""

import importlib.util
import json
import os
import subprocess
import sys

import pytest

from keras_lstm_patterns import _quiet

NOT_INSTALLED = [b for b in ("jax", "torch", "openvino") if importlib.util.find_spec(b) is None]
needs_missing = pytest.mark.skipif(
    not NOT_INSTALLED, reason="every Keras backend is installed here"
)
EXTRAS = 'pip install "keras_lstm_patterns[tensorflow]" (or [jax], or [torch])'


def run(code_or_args, backend, **env):
    args = code_or_args if isinstance(code_or_args, list) else ["-c", code_or_args]
    environ = dict(os.environ, KERAS_BACKEND=backend, TF_CPP_MIN_LOG_LEVEL="3", **env)
    return subprocess.run(
        [sys.executable, *args], capture_output=True, text=True, env=environ, timeout=120
    )


def one_line(stderr, backend):
    lines = stderr.splitlines()
    assert len(lines) == 1, stderr
    assert lines[0].startswith(f'keras_lstm_patterns: Keras\'s backend "{backend}" ')
    assert "(KERAS_BACKEND) is not installed: " + EXTRAS in lines[0]
    return lines[0]


@needs_missing
def test_klp_command_that_needs_keras_prints_one_line():
    backend = NOT_INSTALLED[0]
    p = run(["-m", "keras_lstm_patterns", "explain", "many_to_one", "--steps", "5"], backend)
    assert p.returncode == 1 and p.stdout == ""
    line = one_line(p.stderr, backend)
    assert "Traceback" not in p.stderr
    if importlib.util.find_spec("tensorflow") is not None:
        assert line.endswith("; or set KERAS_BACKEND=tensorflow, which is installed")


@needs_missing
def test_klp_recipe_prints_one_line():
    backend = NOT_INSTALLED[0]
    p = run(["-m", "keras_lstm_patterns", "recipe", "tanks_own_data", "--quick"], backend)
    assert p.returncode == 1 and "Traceback" not in p.stderr
    one_line(p.stderr, backend)


@needs_missing
def test_klp_patterns_needs_no_backend():
    p = run(["-m", "keras_lstm_patterns", "patterns"], NOT_INSTALLED[0])
    assert p.returncode == 0, p.stderr
    assert "many_to_one" in p.stdout and "stateful_generator" in p.stdout
    assert len(p.stderr.splitlines()) <= 1 and "Traceback" not in p.stderr


@needs_missing
def test_require_backend_raises_an_import_error_naming_the_extras():
    backend = NOT_INSTALLED[0]
    code = (
        "from keras_lstm_patterns import _quiet\n"
        "try:\n    _quiet.require_backend()\n"
        "except ImportError as err:\n    print(type(err).__name__, err)\n"
    )
    p = run(code, backend)
    assert p.returncode == 0, p.stderr
    assert p.stdout.startswith(
        f'MissingBackendError keras_lstm_patterns: Keras\'s backend "{backend}"'
    )
    assert EXTRAS in p.stdout


@needs_missing
def test_notice_prints_once_and_the_cli_then_adds_nothing():
    backend = NOT_INSTALLED[0]
    code = (
        "from keras_lstm_patterns import _quiet\n"
        "print(_quiet.notice_missing_backend(), _quiet.notice_missing_backend())\n"
        "_quiet.import_keras_quietly()\n"
    )
    p = run(code, backend)
    assert p.returncode == 1 and p.stdout == "True True\n"
    one_line(p.stderr, backend)


def test_installed_backend_has_no_notice():
    # this interpreter's backend is installed (it imported Keras for the suite)
    p = run(
        "from keras_lstm_patterns import _quiet\n"
        "print(_quiet.missing_backend(), _quiet.notice_missing_backend())",
        os.environ.get("KERAS_BACKEND", "tensorflow"),
    )
    assert p.returncode == 0 and p.stdout == "None False\n" and p.stderr == ""


def test_backend_from_keras_json(tmp_path, monkeypatch):
    monkeypatch.delenv("KERAS_BACKEND", raising=False)
    monkeypatch.setenv("KERAS_HOME", str(tmp_path))
    assert _quiet.keras_backend() == "tensorflow"  # no keras.json: Keras's default
    (tmp_path / "keras.json").write_text(json.dumps({"backend": "torch", "floatx": "float32"}))
    assert _quiet.keras_backend() == "torch"
    (tmp_path / "keras.json").write_text("{not json")
    assert _quiet.keras_backend() == "tensorflow"
    monkeypatch.setenv("KERAS_BACKEND", "jax")
    assert _quiet.keras_backend() == "jax"


@needs_missing
def test_default_backend_named_as_the_default(tmp_path):
    backend = NOT_INSTALLED[0]
    (tmp_path / "keras.json").write_text(json.dumps({"backend": backend}))
    code = "from keras_lstm_patterns import _quiet; print(_quiet.missing_backend())"
    environ = {k: v for k, v in os.environ.items() if k != "KERAS_BACKEND"}
    environ["KERAS_HOME"] = str(tmp_path)
    p = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=environ, timeout=120
    )
    assert f"Keras's backend \"{backend}\" (Keras's default) is not installed: " in p.stdout


@needs_missing
def test_importing_the_package_prints_one_line():
    backend = NOT_INSTALLED[0]
    p = run("import keras_lstm_patterns", backend)
    assert p.returncode == 0 and p.stdout == ""
    one_line(p.stderr, backend)
