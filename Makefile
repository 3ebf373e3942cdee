# Two commands on a fresh machine: `make run` (set up and start the app) and `make test`
# (set up, lint, type-check and run the whole suite). Both create .venv when it is missing.
VENV ?= .venv
PYTHON ?= python3
BIN := $(VENV)/bin
HASH := $(shell cksum pyproject.toml | cut -d' ' -f1)
APP_STAMP := $(VENV)/.app-$(HASH)
TEST_STAMP := $(VENV)/.test-$(HASH)
BUNDLE_STAMP := $(VENV)/.bundle-$(HASH)

.PHONY: run headless test lint system-deps bench bench-culling bundle clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip

# The app alone (what `make run` needs).
$(APP_STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install -q -e .
	rm -f $(VENV)/.app-*
	touch $@

# The app with its test tools (pytest, Playwright, ruff, mypy, scikit-image for fixtures,
# PyInstaller for the bundle test).
$(TEST_STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install -q -e '.[test]'
	rm -f $(VENV)/.test-* $(VENV)/.app-* $(VENV)/.bundle-*
	touch $@ $(APP_STAMP) $(BUNDLE_STAMP)

# The app with PyInstaller (what `make bundle` needs).
$(BUNDLE_STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install -q -e '.[bundle]'
	rm -f $(VENV)/.bundle-*
	touch $@ $(APP_STAMP)

run: $(APP_STAMP)
	$(BIN)/python main.py

headless: $(APP_STAMP)
	$(BIN)/python main.py --headless

lint: $(TEST_STAMP)
	$(BIN)/ruff check .
	$(BIN)/mypy

test: lint
	QT_QPA_PLATFORM=offscreen $(BIN)/python -m pytest -q --timeout 300

# A self-contained folder, dist/autodev-bridge/ (Python, Qt, OpenCV, rawpy, resources):
# run dist/autodev-bridge/autodev-bridge. Recipe: packaging/autodev-bridge.spec.
bundle: $(BUNDLE_STAMP)
	$(BIN)/pyinstaller --noconfirm --log-level WARN --distpath dist --workpath build/pyinstaller \
		packaging/autodev-bridge.spec

# Debian packages the browser, XMP, screen and launcher tests use (CI runs this as root).
system-deps:
	scripts/install-system-deps

# The benchmarks of issue 13 and the store's cost per session (behind the library's pages),
# within 10 minutes on 2 idle cores (the generated photos and the 100,000-photo library are
# cached in the temp folder after the first run).
bench: $(TEST_STAMP)
	$(BIN)/python bench/fanout.py --scenario all
	$(BIN)/python bench/pipeline.py --stages 2
	$(BIN)/python bench/library.py
	$(BIN)/python bench/store_trips.py

# The culling workspace's figures (issue 10): keys to painted previews, 100 % zoom, grid scroll.
bench-culling: $(TEST_STAMP)
	$(BIN)/python bench/culling.py

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache build dist
