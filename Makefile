# LeadCRM: `make run` serves the app with demo data; `make test` runs the whole check.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: run test lint format bench demo messages venv clean

$(BIN)/python: pyproject.toml
	$(PYTHON) -m venv $(VENV) || (scripts/system-deps.sh && rm -rf $(VENV) && $(PYTHON) -m venv $(VENV))
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e ".[dev]"
	touch $(BIN)/python

venv: $(BIN)/python

run: venv
	HOST=$(HOST) PORT=$(PORT) scripts/run.sh

test: venv
	scripts/test.sh

lint: venv
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: venv
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

messages: venv
	$(BIN)/python manage.py makemessages -l de --ignore=.venv --ignore=var --ignore=bench --ignore=tests
	$(BIN)/python manage.py compilemessages -l de --ignore=.venv

demo: venv
	DEBUG=1 $(BIN)/python manage.py migrate --no-input
	DEBUG=1 $(BIN)/python manage.py seed_demo

bench: venv
	scripts/bench.sh $(BENCHES)

clean:
	rm -rf $(VENV) var
