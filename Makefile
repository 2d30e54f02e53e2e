# mixjax developer commands. Everything runs inside .venv, created on first use.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
# Tests and benchmarks fake 8 CPU devices for the pmap / shard_map paths.
TEST_ARGS ?= -n 2

.PHONY: install test test-slow train bench lint docs typecheck wheel-check clean

install: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[train,test]'
	touch $@

test: install
	$(PY) -m pytest $(TEST_ARGS)

# Tests marked slow: full 30-epoch digits runs (ERM, mixup, manifold mixup) checking >= 97%.
test-slow: install
	$(PY) -m pytest $(TEST_ARGS) -m slow

# The main job: MNIST-1D, ERM vs mixup, 3 seeds each, mean ± std beside the published table.
train: install
	$(PY) -m mixjax.training.compare --config configs/mnist1d.py --workdir runs/mnist1d --seeds=0,1,2

# NumPy/torch/XLA timings swing with glibc malloc here; bench_ops.py re-executes itself with
# fixed malloc tunables (--malloc no-faults, printed in its header).
bench: install
	$(PY) -m pip install -q -e '.[bench]'
	$(PY) benchmarks/bench_ops.py --malloc no-faults
	$(PY) benchmarks/bench_noise_fill.py --malloc no-faults
	$(PY) benchmarks/bench_words.py --malloc no-faults
	$(PY) benchmarks/bench_mask_rows.py --malloc no-faults --sizes cifar,imagenet
	$(PY) benchmarks/bench_train_step.py
	$(PY) benchmarks/bench_pipeline.py

lint: install
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .

# The docs and dev extras, installed once into .venv beside train and test.
$(VENV)/.installed-docs-dev: $(VENV)/.installed
	$(PY) -m pip install -q -e '.[train,test,docs,dev]'
	touch $@

# The Sphinx site in docs/_build/html, warnings as errors; then every public name of mixjax
# and mixjax.training must be in its inventory.
docs: $(VENV)/.installed-docs-dev
	rm -rf docs/_build
	$(PY) -m sphinx -b html -W --keep-going -q docs docs/_build/html
	$(PY) docs/_ext/mixjax_docs.py docs/_build/html/objects.inv

# mypy on the core (mixjax/ outside training, data and experiments; settings in pyproject).
typecheck: $(VENV)/.installed-docs-dev
	$(PY) -m mypy

# sdist + wheel, twine check, and the wheel alone in a fresh venv (needs the package index).
wheel-check: $(VENV)/.installed-docs-dev
	bash .ci/wheel_check $(PY)

clean:
	rm -rf $(VENV) runs .pytest_cache dist docs/_build
