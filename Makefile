# The two commands a newcomer needs: `make run` and `make test` (see README).
PYTHON ?= python3.11
VENV := .venv
PY := $(VENV)/bin/python
PORT ?= 8000

.PHONY: install run test bench demo-data

$(VENV)/.installed: requirements.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements.txt
	touch $@

install: $(VENV)/.installed

# Serves the app on :$(PORT) with its django-q2 worker, on the demo data in csv_data/.
run: install
	$(PY) manage.py migrate --noinput
	$(PY) manage.py load_data csv_data --if-empty
	$(PY) manage.py serve --port $(PORT)

test: install
	$(PY) -m pytest

# Regenerates the small demo set shipped in csv_data/ (deterministic).
demo-data: install
	$(PY) manage.py generate_data csv_data --stores 300 --days 7 --seed 2023

bench: install
	$(PY) bench/load.py
	$(PY) bench/report.py
