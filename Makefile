# Two commands do all set-up: `make run` and `make test`. Both create .venv.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
INSTALLED := $(VENV)/.installed

.PHONY: run test bench golden clean

$(INSTALLED): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check -e '.[dev]'
	touch $(INSTALLED)

## run: start the embedded Temporal dev server, the worker and the demo incidents
run: $(INSTALLED)
	$(BIN)/irp up

## test: run the test suite
test: $(INSTALLED)
	$(BIN)/pytest

## bench: run the intake benchmark, then the load benchmark when present (see bench/README.md)
bench: $(INSTALLED)
	$(BIN)/python bench/intake_bench.py
	if [ -f bench/load_bench.py ]; then $(BIN)/python bench/load_bench.py; fi

## golden: re-record tests/golden/*.json after a deliberate, incompatible change to the incident workflow
golden: $(INSTALLED)
	$(BIN)/python tests/record_golden.py

## clean: remove the virtual environment and local state
clean:
	rm -rf $(VENV) .irp
