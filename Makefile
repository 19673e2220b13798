# The two commands a newcomer needs: `make run` and `make test` (see README).
PYTHON ?= python3.11
VENV := .venv
PY := $(VENV)/bin/python
# Where `make run` listens: `make run PORT=8001`, `make run HOST=0.0.0.0` (then add the
# machine's name to ALLOWED_HOSTS).
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: install run stop test bench demo-data

$(VENV)/.installed: requirements.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements.txt
	touch $@

install: $(VENV)/.installed

# Serves the app on $(HOST):$(PORT) with its django-q2 worker clusters (reports, alerts;
# each restarted by a supervisor when it exits or stops making progress), on the demo data
# in csv_data/. The port is checked first (a busy one stops here, before anything starts);
# Ctrl-C, `make stop` or the web server dying stops them all (monitoring/tools/processes.py).
# The project's bytecode is compiled first: its processes and commands start from it.
run: install
	@$(PY) -m monitoring.tools.processes check-port $(HOST) $(PORT)
	$(PY) -m compileall -q config monitoring graphql_schema
	$(PY) manage.py migrate --noinput
	$(PY) manage.py load_data csv_data --if-empty
	$(PY) manage.py serve --host $(HOST) --port $(PORT)

# Stops what `make run` started (recorded under .data/run/), and the embedded PostgreSQL
# unless DATABASE_URL is set. Without loading the settings: they would start that server.
stop:
	$(PY) -m monitoring.tools.processes stop

test: install
	$(PY) -m pytest

# Regenerates the small demo set shipped in csv_data/ (deterministic).
demo-data: install
	$(PY) manage.py generate_data csv_data --stores 300 --days 7 --seed 2023

# Each bench drops the databases it created when it exits (BENCH_KEEP=1 keeps them); the
# generated files they share (bench/out/, ~700 MB) are removed once both are done.
bench: install
	status=0; $(PY) bench/load.py || status=$$?; $(PY) bench/report.py || status=$$?; rm -rf bench/out; exit $$status
