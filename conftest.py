"""Quiet TensorFlow before anything imports it (tests and doctests alike), keep its thread
pools to one thread in each pytest-xdist worker when there is a worker per core, and keep
compiled XLA programs between runs."""

import os
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("KERAS_BACKEND", "tensorflow")
# `make test` runs one worker per core (pytest-xdist sets these variables in each worker
# before it reads this file). TensorFlow's own pools, a thread per core in every worker,
# then only compete with the other workers: tests/test_stateful_fit.py on two cores with
# two workers took 111 s with them and 81 s without. One process keeps TensorFlow's pools.
if int(os.environ.get("PYTEST_XDIST_WORKER_COUNT", "1")) >= (os.cpu_count() or 1):
    os.environ.setdefault("TF_NUM_INTRAOP_THREADS", "1")
    os.environ.setdefault("TF_NUM_INTEROP_THREADS", "1")
# Compiled programs kept between runs, in .pytest_cache (rm -r .pytest_cache forgets them):
# fit_stateful compiles each model's epochs with XLA (2-3 s a program on CPU) and many
# tests compile the same program; JAX's cache serves the JAX child processes.
# tests/test_stateful_fit.py: 138 s of CPU with an empty cache, 94 s with a warm one.
CACHE = Path(__file__).resolve().parent / ".pytest_cache"
if "tf_xla_persistent_cache_directory" not in os.environ.get("TF_XLA_FLAGS", ""):
    flag = f"--tf_xla_persistent_cache_directory={CACHE / 'xla'}"
    os.environ["TF_XLA_FLAGS"] = f"{os.environ.get('TF_XLA_FLAGS', '')} {flag}".strip()
os.environ.setdefault("JAX_COMPILATION_CACHE_DIR", str(CACHE / "jax"))
os.environ.setdefault("JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS", "0")  # not only > 1 s

# The longest tests first. With a worker per core (`make test`), pytest-xdist gives each
# worker a contiguous half of the tests and an idle worker steals from the end of the
# other's queue: run first, the long ones overlap the short ones, and the run ends on
# short tests on both cores instead of one core finishing a long test alone.
LONG = (
    "tests/test_multiprocess.py",
    "tests/test_readme.py::test_every_readme_block_runs",
    "tests/test_recipes.py::test_recipe_quick",
    "tests/test_distributed.py",
    "tests/test_closed_loop.py::test_closed_loop_training_drifts_less_than_teacher_forcing",
    "tests/test_recipes.py::test_a_converted_notebook_runs_in_quick_mode",
    "tests/test_cli.py::test_docs_is_deterministic",
    "tests/test_cli.py::test_recipe_runs_quick",
)


def pytest_collection_modifyitems(items: list) -> None:
    items.sort(key=lambda item: not item.nodeid.startswith(LONG))  # stable: the rest in order
