# One command to run the app on corpus/, one to run the tests; each makes the
# virtual environment it needs (.venv) on first use.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
AXE := node_modules/axe-core/axe.min.js

.PHONY: run test index lint clean

$(BIN)/reportqa: pyproject.toml
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	# torch first and pinned: otherwise pip resolves a multi-GB CUDA build.
	$(BIN)/pip install -q torch==2.13.0
	$(BIN)/pip install -q -e '.[dev,fit]'
	touch $(BIN)/reportqa

## run: set up, build the index of corpus/ if needed, and open the app on http://localhost:8501
run: $(BIN)/reportqa
	$(BIN)/reportqa index build
	$(BIN)/reportqa serve

## test: set up and run the whole test suite
test: $(BIN)/reportqa
	# axe-core (package.json) for the browser test's accessibility check, when npm is
	# here; without it that check is skipped, unless REPORTQA_REQUIRE_BROWSER is set.
	if command -v npm >/dev/null 2>&1; then \
	  test -f $(AXE) || npm ci --no-audit --no-fund --loglevel=error; fi
	# Ray (the optional cluster extra) for the distributed-build tests, if it installs;
	# without it those tests are skipped, unless REPORTQA_REQUIRE_RAY is set.
	$(BIN)/python -c "import ray" 2>/dev/null || $(BIN)/pip install -q -e '.[cluster]' \
	  || echo "Ray did not install: the distributed-build tests will be skipped"
	$(BIN)/python -m pytest -q
	# The quality floors: grouped cross-validation on the bundled report (fitting/floors.py).
	$(BIN)/reportqa-fit floors --data tests/data --corpus corpus

index: $(BIN)/reportqa
	$(BIN)/reportqa index build

lint: $(BIN)/reportqa
	$(BIN)/ruff check .

clean:
	rm -rf $(VENV) index .pytest_cache node_modules
