"""Quiet TensorFlow before anything imports it (tests and doctests alike), and keep its
thread pools to one thread in each pytest-xdist worker when there is a worker per core."""

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("KERAS_BACKEND", "tensorflow")
# `make test` runs one worker per core (pytest-xdist sets these variables in each worker
# before it reads this file). TensorFlow's own pools, a thread per core in every worker,
# then only compete with the other workers: tests/test_stateful_fit.py on two cores with
# two workers took 111 s with them and 81 s without. One process keeps TensorFlow's pools.
if int(os.environ.get("PYTEST_XDIST_WORKER_COUNT", "1")) >= (os.cpu_count() or 1):
    os.environ.setdefault("TF_NUM_INTRAOP_THREADS", "1")
    os.environ.setdefault("TF_NUM_INTEROP_THREADS", "1")
