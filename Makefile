# Two commands on a fresh machine: `make run` (set up and start the app) and `make test`
# (set up, lint, type-check and run the whole suite). Both create .venv when it is missing.
VENV ?= .venv
PYTHON ?= python3
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cksum pyproject.toml | cut -d' ' -f1)

.PHONY: run headless test lint system-deps bench clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[test]'
	rm -f $(VENV)/.installed-*
	touch $(STAMP)

run: $(STAMP)
	$(BIN)/python main.py

headless: $(STAMP)
	$(BIN)/python main.py --headless

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/mypy

test: lint
	QT_QPA_PLATFORM=offscreen $(BIN)/python -m pytest -q --timeout 300

# Debian packages the browser, XMP and screen tests use (CI runs this as root).
system-deps:
	scripts/install-system-deps

bench: $(STAMP)
	$(BIN)/python bench/fanout.py --scenario all
	$(BIN)/python bench/pipeline.py

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
