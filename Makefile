# Two commands do all set-up: `make run` and `make test`. Both create .venv.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
INSTALLED := $(VENV)/.installed

.PHONY: run test clean

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

## clean: remove the virtual environment and local state
clean:
	rm -rf $(VENV) .irp
