"""The wheel works outside the repository (``make test-wheel``; skipped in ``make test``).

``python -m build`` makes the sdist and, from it, the wheel; both pass ``twine check``.
The wheel goes into a fresh venv in a temporary folder, and every command runs there, far
from the checkout: first without a backend (Keras alone, ``klp patterns`` works, a command
that needs Keras says in one line which extra to install), then with the ``tensorflow``
extra (``klp patterns``, ``klp explain``, the packaged data, a recipe from the sdist in
quick mode). Recipes are lessons to read and change, so they ship in the sdist with the
tests and documents rather than inside the installed package; a wheel user runs one as a
script from the unpacked sdist, as below.
"""

import json
import os
import re
import shutil
import subprocess
import sys
import tarfile
import tomllib
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
VERSION = "0.2.0"

pytestmark = pytest.mark.skipif(
    not os.environ.get("KLP_TEST_WHEEL"),
    reason="builds the wheel and installs it in a fresh venv: make test-wheel",
)


def sh(args, *, cwd, env=None, timeout=1800):
    p = subprocess.run(
        [str(a) for a in args], cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout
    )
    assert p.returncode == 0, f"{args}\n{p.stdout[-3000:]}\n{p.stderr[-3000:]}"
    return p


@pytest.fixture(scope="module")
def dist(tmp_path_factory):
    out = tmp_path_factory.mktemp("dist")
    sh([sys.executable, "-m", "build", "--outdir", out, ROOT], cwd=out)
    wheels, sdists = list(out.glob("*.whl")), list(out.glob("*.tar.gz"))
    assert [w.name for w in wheels] == [f"keras_lstm_patterns-{VERSION}-py3-none-any.whl"]
    assert [s.name for s in sdists] == [f"keras_lstm_patterns-{VERSION}.tar.gz"]
    return wheels[0], sdists[0]


@pytest.fixture(scope="module")
def home(tmp_path_factory):
    """A folder far from the checkout, with the venv, the unpacked sdist and the runs."""
    where = tmp_path_factory.mktemp("user")
    assert ROOT not in where.parents
    return where


def user_env(home, **extra):
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "KERAS_BACKEND")}
    env.update(KERAS_HOME=str(home / "keras-home"), TF_CPP_MIN_LOG_LEVEL="3", **extra)
    return env


@pytest.fixture(scope="module")
def venv(home):
    sh([sys.executable, "-m", "venv", home / "venv"], cwd=home)
    return home / "venv" / "bin"


def test_twine_check(dist):
    p = sh([sys.executable, "-m", "twine", "check", "--strict", *dist], cwd=dist[0].parent)
    assert p.stdout.count("PASSED") == 2, p.stdout


def test_wheel_contents(dist):
    wheel, _ = dist
    with zipfile.ZipFile(wheel) as z:
        names = set(z.namelist())
        meta = z.read(f"keras_lstm_patterns-{VERSION}.dist-info/METADATA").decode()
    for path in (
        "keras_lstm_patterns/py.typed",
        "keras_lstm_patterns/cli.py",
        "keras_lstm_patterns/stateful/__init__.py",
        "keras_lstm_patterns/data/airline.csv",
        "keras_lstm_patterns/data/japanese_vowels_train.csv",
        "keras_lstm_patterns/data/SOURCES.md",
    ):
        assert path in names, path
    assert not any(n.startswith(("tests/", "recipes/", "data/")) for n in names)
    assert f"\nVersion: {VERSION}\n" in meta
    requires = re.findall(r"^Requires-Dist: (.*)$", meta, flags=re.M)
    core = [r for r in requires if "extra ==" not in r]
    assert sorted(r.split(">")[0].split("<")[0] for r in core) == [
        "keras",
        "matplotlib",
        "numpy",
        "pandas",
    ]
    assert not any("tensorflow-cpu" in r or "tensorflow_cpu" in r for r in requires)
    assert any(r.startswith("tensorflow") and "extra == 'tensorflow'" in r for r in requires)
    extras = set(re.findall(r"^Provides-Extra: (.*)$", meta, flags=re.M))
    assert {"tensorflow", "jax", "torch", "classical", "test", "all"} <= extras


def test_sdist_has_what_a_checkout_runs(dist):
    _, sdist = dist
    with tarfile.open(sdist) as t:
        names = {n.split("/", 1)[1] for n in t.getnames() if "/" in n}
    for path in (
        "pyproject.toml",
        "CHANGELOG.md",
        "README.md",
        "Makefile",
        "recipes/_common.py",
        "recipes/vowels_many_to_one.py",
        "data/airline.csv",
        "keras_lstm_patterns/py.typed",
        "tests/test_wheel.py",
    ):
        assert path in names, path
    assert not any(n.startswith((".venv", "results/", "dist/")) for n in names)


def test_version_is_declared_once():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())
    assert project["project"]["dynamic"] == ["version"]
    assert project["tool"]["hatch"]["version"]["path"] == "keras_lstm_patterns/_version.py"
    text = (ROOT / "keras_lstm_patterns" / "_version.py").read_text()
    assert re.search(rf'^__version__ = "{re.escape(VERSION)}"$', text, flags=re.M)


def test_without_a_backend(dist, venv, home):
    """Keras alone: no TensorFlow pulled in, ``klp patterns`` works, the rest says one line."""
    wheel, _ = dist
    sh([venv / "pip", "install", "-q", wheel], cwd=home)
    listed = sh([venv / "pip", "list", "--format=json"], cwd=home).stdout
    installed = {p["name"].lower().replace("_", "-") for p in json.loads(listed)}
    assert "keras" in installed and not installed & {"tensorflow", "tensorflow-cpu", "jax"}
    env = user_env(home)
    p = sh([venv / "klp", "patterns"], cwd=home, env=env)
    assert "many_to_one" in p.stdout
    p = subprocess.run(
        [venv / "klp", "explain", "many_to_one", "--steps", "5"],
        cwd=home,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert p.returncode == 1 and "Traceback" not in p.stderr, p.stderr
    assert p.stderr.splitlines() == [
        "keras_lstm_patterns: Keras's backend \"tensorflow\" (Keras's default) is not "
        'installed: pip install "keras_lstm_patterns[tensorflow]" (or [jax], or [torch])'
    ]


@pytest.fixture(scope="module")
def with_tensorflow(dist, venv, home):
    wheel, _ = dist
    sh([venv / "pip", "install", "-q", f"{wheel}[tensorflow]"], cwd=home)
    return venv


def test_klp_patterns_and_explain(with_tensorflow, home):
    env = user_env(home)
    p = sh([with_tensorflow / "klp", "patterns"], cwd=home, env=env)
    assert "many_to_one" in p.stdout and "seq2seq_autoencoder" in p.stdout
    p = sh(
        [with_tensorflow / "klp", "explain", "many_to_one", "--steps", "5", "--features", "2"],
        cwd=home,
        env=env,
    )
    assert p.stdout.startswith("many-to-one: 5 steps in")
    assert "(batch, steps=5, features=2)" in p.stdout and p.stderr == ""


def test_package_data_and_version(with_tensorflow, home):
    code = (
        "import importlib.metadata as m, keras_lstm_patterns as k\n"
        "from keras_lstm_patterns import datasets\n"
        "s = datasets.load_airline()\n"
        "print(s.shape[0], s.iloc[0], s.iloc[-1])\n"
        "print(datasets.data_dir())\n"
        "print(m.version('keras_lstm_patterns'), k.__version__)\n"
    )
    p = sh([with_tensorflow / "python", "-c", code], cwd=home, env=user_env(home))
    first, folder, versions = p.stdout.splitlines()
    assert first == "144 112.0 432.0"
    assert Path(folder).is_relative_to(home / "venv") and folder.endswith(
        "keras_lstm_patterns/data"
    )
    assert versions == f"{VERSION} {VERSION}"


def test_recipe_from_the_sdist_in_quick_mode(dist, with_tensorflow, home):
    _, sdist = dist
    with tarfile.open(sdist) as t:
        t.extractall(home / "src", filter="data")
    src = home / "src" / f"keras_lstm_patterns-{VERSION}"
    shutil.rmtree(src / "keras_lstm_patterns")  # the installed package runs, not a copy
    out = home / "vowels"
    recipe = src / "recipes" / "vowels_many_to_one.py"
    p = sh(
        [with_tensorflow / "python", recipe, "--quick", "--out", out],
        cwd=home,
        env=user_env(home),
    )
    assert "| " in p.stdout  # the results table
    results = json.loads((out / "results.json").read_text())
    assert results["quick"] is True and results["recipe"] == "vowels_many_to_one"
    assert (out / "vowels_many_to_one.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
