# Two commands do all set-up on a fresh Debian/Ubuntu machine with Python 3.10+:
#   make demo   - create .venv, install, obtain the data, run the main job (quick profile)
#   make test   - same set-up, then the unit tests and `pytest --nbval notebooks`
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
PROFILE ?= quick
# pytest-xdist workers of the unit tests (one per core here; the tests are mostly single-threaded).
TEST_WORKERS ?= 2
# Extras installed into .venv: add jax,torch for the other Keras backends (.ci/run does).
EXTRAS ?= dev
# pip, or uv: the same pins from the same indexes, about 9x faster here (.ci/run uses it; uv
# reads no pip.conf, so it takes local wheel folders from UV_FIND_LINKS).
INSTALLER ?= pip
# Runs, reports and records of this checkout go to its root (fmnist.course.paths).
export FMNIST_HOME ?= $(CURDIR)
export TF_CPP_MIN_LOG_LEVEL ?= 3
export TF_ENABLE_ONEDNN_OPTS ?= 1

.PHONY: demo test unit nbval install data report benchmark clean

demo: data
	$(BIN)/fmnist report --profile $(PROFILE)

test: unit nbval

# --dist loadgroup: the tests of one xdist_group run on one worker and share its session fixtures.
# --durations (here and in nbval): every run (CI's too) lists its slowest tests, the ones to cut first.
unit: data
	$(BIN)/pytest -n $(TEST_WORKERS) --dist loadgroup --durations=15 tests

# One notebook per worker (--dist loadscope keeps a notebook's cells, and its kernel, together).
nbval: data
	FMNIST_PROFILE=quick $(BIN)/pytest --nbval notebooks --nbval-current-env \
		--nbval-sanitize-with notebooks/sanitize.cfg -p no:cacheprovider -n $(TEST_WORKERS) --dist loadscope \
		--durations=10

install: $(STAMP)

$(STAMP): setup.cfg pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
ifeq ($(INSTALLER),uv)
	$(BIN)/python -m pip install --quiet uv
	@# pip compiles .pyc files at install, uv only when asked: without them, and with
	@# PYTHONDONTWRITEBYTECODE set (as on these machines), every process compiles TensorFlow anew.
	$(BIN)/uv pip install --quiet --compile-bytecode --python $(BIN)/python -e ".[$(EXTRAS)]"
else
	$(BIN)/python -m pip install --quiet -e ".[$(EXTRAS)]"
endif
	touch $@

# Offline first: the Debian package when we may install it, else a verified download.
data: $(STAMP)
	@if ! $(BIN)/fmnist data info --quiet; then \
		if command -v apt-get >/dev/null && [ "$$(id -u)" = 0 ]; then \
			apt-get update -qq && apt-get install -y -qq dataset-fashion-mnist; \
		else \
			$(BIN)/fmnist data fetch; \
		fi; \
	fi

report: data
	$(BIN)/fmnist report --profile $(PROFILE)

benchmark: data
	$(BIN)/fmnist benchmark --presets cnn_medium mlp_medium cnn_small --out benchmarks/results/benchmark.json

# The full-profile records (reports/results/*__full.json) are tracked: clean keeps them.
clean:
	rm -rf $(VENV) runs reports/*.html reports/results/*__quick.json .pytest_cache
