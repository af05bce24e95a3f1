"""The backend package: one interface, one module per backend, the private Keras APIs in
one place (each checked against the installed Keras), one cache."""

import ast
import gc
import re
import weakref
from pathlib import Path

import keras
import numpy as np
import pytest

import keras_lstm_patterns
from keras_lstm_patterns import _backends, stateful, stateful_generator
from keras_lstm_patterns._backends import _keras_private
from keras_lstm_patterns._backends._cache import ModelCache, cache

PACKAGE = Path(keras_lstm_patterns.__file__).parent
BACKENDS = PACKAGE / "_backends"
INTERFACE = [
    "carrying",
    "epochs",
    "fit_dataset",
    "jit",
    "no_grad",
    "predict_on_batch",
    "process_count",
    "process_index",
    "rollout",
    "set_cpu_collectives",
    "shutdown_processes",
    "step",
    "sync_before_reset",
]


@pytest.mark.parametrize("api", _keras_private.PRIVATE_APIS, ids=lambda api: api.name)
def test_private_keras_api_is_still_there(api):
    """Fails naming the private API when a Keras release removes or changes it."""
    if api.backend is not None and api.backend != keras.backend.backend():
        pytest.skip(f"{api.name} is used on the {api.backend} backend only")
    assert api.present(), (
        f"{api.name} is gone or changed in Keras {keras.__version__} (checked in "
        f"{_keras_private.KERAS_CHECKED}); used by {api.uses}; it stands in for: "
        f"{api.stands_in_for}"
    )


def _sources(exclude=()):
    for path in sorted(PACKAGE.rglob("*.py")):
        if path.name not in exclude:
            yield path, path.read_text()


# the private names wrapped in _keras_private, as attributes (or getattr strings)
PRIVATE_NAMES = {
    "_symbolic_build",
    "_non_trainable_variables",
    "_direct_assign",
    "_value",
    "jax_state_sync",
    "_compile_config",
}


def _private_uses(text):
    """The private Keras attributes and private TensorFlow imports a module's code uses
    (comments and docstrings aside)."""
    found = set()
    for node in ast.walk(ast.parse(text)):
        if isinstance(node, ast.Attribute) and node.attr in PRIVATE_NAMES:
            found.add(node.attr)
        elif isinstance(node, ast.Constant) and node.value in PRIVATE_NAMES:
            found.add(node.value)
        elif isinstance(node, ast.ImportFrom) and (node.module or "").startswith(
            "tensorflow.python"
        ):
            found.add(node.module)
    return found


def test_private_keras_apis_are_used_in_one_module_only():
    used = {
        str(path.relative_to(PACKAGE)): sorted(_private_uses(text))
        for path, text in _sources(exclude=("_keras_private.py",))
        if _private_uses(text)
    }
    assert used == {}, "private Keras APIs outside _backends/_keras_private.py"
    wrapped = _private_uses((BACKENDS / "_keras_private.py").read_text())
    listed = " ".join(api.name for api in _keras_private.PRIVATE_APIS)
    for name in wrapped:
        assert name in listed, f"{name} is used in _keras_private but not in PRIVATE_APIS"


def test_only_the_backend_package_asks_which_backend_runs():
    asks = re.compile(
        r"\bkeras\.backend\.backend\(\)|^\s*(import|from) (tensorflow|jax|torch)\b", re.M
    )
    found = [
        str(path.relative_to(PACKAGE))
        for path, text in _sources()
        if BACKENDS not in path.parents and asks.search(text)
    ]
    assert found == [], "outside _backends/: " + ", ".join(found)
    inside = [p.name for p in BACKENDS.glob("*.py") if "backend()" in p.read_text()]
    assert sorted(inside) == ["__init__.py", "_generic.py"]


@pytest.mark.parametrize("name", ["tensorflow", "jax", "torch", "_generic"])
def test_every_backend_module_has_the_same_functions(name):
    text = (BACKENDS / f"{name}.py").read_text()
    defined = set(re.findall(r"^def (\w+)\(", text, re.M))
    assert set(INTERFACE) <= defined, set(INTERFACE) - defined
    assert _backends._impl.__name__.endswith(
        keras.backend.backend()
        if keras.backend.backend() in ("tensorflow", "jax", "torch")
        else "_generic"
    )


def test_one_cache_holds_a_record_per_model_and_drops_it_with_the_model():
    model = stateful_generator(2, batch_size=1, units=3)
    stateful.reset_states(model)
    stateful.step(model, np.zeros((1, 2), "float32"))
    stateful.generate(model, np.zeros((1, 1, 2), "float32"), 3)
    assert {"stepping"} <= set(cache.record(model))
    # a model that went through step and Keras's methods is freed with its record
    # (TensorFlow's traced rollout can keep a model alive, as it did before the cache)
    other = stateful_generator(2, batch_size=1, units=3)
    stateful.reset_states(other)
    stateful.step(other, np.zeros((1, 2), "float32"))
    with _backends.carried(other):
        other.predict_on_batch(np.zeros((1, 1, 2), "float32"))
    assert {"stepping", "stateful_layers", "depth"} <= set(cache.record(other))
    gc.collect()  # records of models earlier tests left unreachable go first
    count, gone = len(cache._records), weakref.ref(other)
    del other
    gc.collect()
    assert gone() is None
    assert len(cache._records) == count - 1


def test_model_cache_makes_once():
    class Model:
        pass

    made = []
    one = ModelCache()
    model = Model()
    assert one.get(model, "k", lambda: made.append(1) or "v") == "v"
    assert one.get(model, "k", lambda: made.append(1) or "w") == "v"
    assert made == [1]


def test_carried_is_reentrant():
    model = stateful_generator(2, batch_size=1, units=3)
    with _backends.carried(model):
        with _backends.carried(model):
            assert cache.record(model)["depth"] == 2
        assert cache.record(model)["depth"] == 1
    assert cache.record(model)["depth"] == 0


def test_the_torch_workaround_is_still_needed_in_keras_source():
    """Keras 3.15.1 clones a stateful RNN's states only in the generic ``RNN.inner_loop``
    (keras-team/keras#20916); LSTM and GRU take ``backend.lstm``/``backend.gru`` first, and
    the torch ``Variable`` still writes the new state in place. While both hold, the
    rebinding assign in ``_backends/torch.py`` stays."""
    import inspect

    from keras.src.layers.rnn import lstm, rnn

    assert "ops.copy" in inspect.getsource(rnn.RNN.inner_loop)
    assert "ops.copy" not in inspect.getsource(lstm.LSTM.inner_loop)
    core = Path(keras.__file__).parent / "src" / "backend" / "torch" / "core.py"
    assert "self.value.copy_(value)" in core.read_text()
