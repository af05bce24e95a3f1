# Everything installs into .venv; nothing else on the machine is needed but python3.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
export TF_CPP_MIN_LOG_LEVEL := 3
export KERAS_BACKEND ?= tensorflow
# pytest-xdist workers for `make test`: one per core (override: make test JOBS=1)
JOBS ?= auto

# The extras `make test` installs into .venv, and those `make demo` needs. jax is in the
# test install for the multi-process tests (tests/test_multiprocess.py start JAX
# processes) and for child processes whose subject is no backend's (tests/helpers.py,
# light_backend); TensorFlow then imports it too, about 1.1 s more CPU per import.
TEST_EXTRAS := tensorflow,jax,classical,test
DEMO_EXTRAS := tensorflow,classical

# The JAX and PyTorch runs get a venv of their own: TensorFlow imports JAX when it is
# installed, which would change what `make test` and `make bench` measure. PyTorch's CPU
# build is installed first by its exact version (a bare `torch` may bring a CUDA build).
BVENV := .venv-backends
BPY := $(BVENV)/bin/python
BACKENDS_EXTRAS := tensorflow,jax,torch,classical,test
TORCH_CPU := torch==2.13.0

# `make test-min`: the lowest versions pyproject.toml allows, in a venv of its own.
MVENV := .venv-min
MPY := $(MVENV)/bin/python
MIN_EXTRAS := tensorflow,classical
# What `make test-min` runs: the whole suite unless narrowed, e.g.
#   make test-min MIN_TESTS="tests/test_patterns.py tests/test_windows.py"
MIN_TESTS ?=

# 0.1.0 installed tensorflow-cpu; the [tensorflow] extra installs tensorflow, which owns
# the same `tensorflow` module. Two owners of one module break each other on upgrade or
# uninstall, so a venv that has tensorflow-cpu loses it (and any tensorflow beside it,
# whose files it shares) before the install: $(call drop_tensorflow_cpu,PYTHON)
define drop_tensorflow_cpu
	@if $(1) -m pip show -q tensorflow-cpu >/dev/null 2>&1; then \
		echo "removing tensorflow-cpu: the [tensorflow] extra installs tensorflow"; \
		$(1) -m pip uninstall -y -q tensorflow-cpu tensorflow 2>/dev/null; \
	fi
endef

.PHONY: demo test test-backends test-min test-wheel lint format docs bench clean

$(PY):
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip

$(VENV)/.installed: pyproject.toml | $(PY)
	$(call drop_tensorflow_cpu,$(PY))
	$(PY) -m pip install -q -e ".[$(DEMO_EXTRAS)]"
	touch $@

$(VENV)/.installed-test: pyproject.toml | $(PY)
	$(call drop_tensorflow_cpu,$(PY))
	$(PY) -m pip install -q -e ".[$(TEST_EXTRAS)]"
	touch $(VENV)/.installed $@

# The airline cookbook model at the last 12 test months beside SARIMA and the naive
# baselines (about a minute). TensorFlow's import notices ignore TF_CPP_MIN_LOG_LEVEL,
# so stderr is kept in a file and shown only if the run fails.
demo: $(VENV)/.installed
	@mkdir -p results
	@$(PY) recipes/airline_look_back.py --demo 2>results/demo-stderr.txt \
		|| { cat results/demo-stderr.txt; exit 1; }

test: $(VENV)/.installed-test
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .
	$(PY) -m pytest -n $(JOBS) --dist worksteal --durations=25

$(BVENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(BVENV)
	$(BPY) -m pip install -q --upgrade pip
	$(call drop_tensorflow_cpu,$(BPY))
	$(BPY) -m pip install -q "$(TORCH_CPU)"
	$(BPY) -m pip install -q -e ".[$(BACKENDS_EXTRAS)]"
	touch $@

# The whole suite on each backend, one after the other (make test-backends BACKENDS=jax for one).
BACKENDS ?= tensorflow jax torch
test-backends: $(BVENV)/.installed
	for backend in $(BACKENDS); do \
		echo "== KERAS_BACKEND=$$backend"; \
		KERAS_BACKEND=$$backend $(BPY) -m pytest -n $(JOBS) --dist worksteal || exit 1; \
	done

$(MVENV)/.installed: pyproject.toml tests/min_versions.py
	$(PYTHON) -m venv $(MVENV)
	$(MPY) -m pip install -q --upgrade pip
	$(MPY) tests/min_versions.py $(MIN_EXTRAS) > $(MVENV)/constraints.txt
	$(MPY) -m pip install -q -c $(MVENV)/constraints.txt -e ".[$(MIN_EXTRAS),test]"
	touch $@

# The suite (or MIN_TESTS) on the lowest versions pyproject.toml allows: each `>=` bound
# of the package and of MIN_EXTRAS installed exactly (tests/min_versions.py).
test-min: $(MVENV)/.installed
	@cat $(MVENV)/constraints.txt
	@$(MPY) -m pip list --format=freeze | grep -iE '^(keras|tensorflow|numpy|pandas|matplotlib|statsmodels)=='
	$(MPY) -m pytest -n $(JOBS) $(MIN_TESTS)

# Builds the sdist and wheel, checks them with twine, installs the wheel in a fresh venv
# in a temporary folder and runs klp, the packaged data and a recipe there (several
# minutes: it downloads TensorFlow unless pip's cache has it). Not part of `make test`.
test-wheel: $(VENV)/.installed-test
	KLP_TEST_WHEEL=1 $(PY) -m pytest -p no:randomly tests/test_wheel.py

# The checks `make test` starts with, alone.
lint: $(VENV)/.installed-test
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .

format: $(VENV)/.installed-test
	$(PY) -m ruff format .
	$(PY) -m ruff check --fix .

docs: $(VENV)/.installed
	$(PY) -m keras_lstm_patterns docs docs/img

bench: $(VENV)/.installed
	$(PY) benchmarks/windows.py
	$(PY) benchmarks/rollout.py
	$(PY) benchmarks/step.py
	$(PY) benchmarks/stateful_fit.py
	$(PY) benchmarks/streaming.py

clean:
	rm -rf $(VENV) $(BVENV) $(MVENV) results dist

# ---- The documentation site (mkdocs.yml; docs/about.md says how it is built and checked) ----
# Its tools are the `docs` extra of pyproject.toml.

.PHONY: docs-site docs-capture test-docs

$(VENV)/.installed-docs: pyproject.toml | $(VENV)/.installed
	$(PY) -m pip install -q -e ".[$(DEMO_EXTRAS),docs]"
	touch $@

# build/site/index.html in strict mode (any warning fails); the pages are written from
# README.md, the recipes, RESULTS.md, the benchmarks and the docstrings at each build.
docs-site: $(VENV)/.installed-docs
	$(PY) docs/build_pages.py
	NO_MKDOCS_2_WARNING=1 $(PY) -m mkdocs build --strict -q -f build/mkdocs.yml
	@echo "site: build/site/index.html"

# Every recipe once more with --quick, as a notebook; its outputs go to docs/runs/ (minutes).
docs-capture: $(VENV)/.installed-docs $(VENV)/.installed-test
	$(PY) docs/capture_runs.py

# Every page of the built site in headless Chromium (apt-get install chromium chromium-driver),
# and one recipe executed as a notebook.
test-docs: docs-site $(VENV)/.installed-test
	KLP_DOCS_SITE=required $(PY) -m pytest -p no:randomly tests/test_docs_site.py \
		tests/test_recipes.py::test_a_converted_notebook_runs_in_quick_mode \
		tests/test_recipes.py::test_recipe_converts_to_a_notebook_with_its_sections_as_cells
