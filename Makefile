# Two commands on a fresh machine with Python 3.11+: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
export FLASK_APP := wsgi:app

.PHONY: run test bench translations extract-messages migrate demo clean

$(BIN)/activate:
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11) and "Python 3.11 or newer is needed (set PYTHON=python3.11)")'
	$(PYTHON) -m venv $(VENV)

$(VENV)/.installed: $(BIN)/activate pyproject.toml
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev,postgres,production]'
	touch $@

translations: $(VENV)/.installed
	$(BIN)/pybabel compile -d remiss/translations

# Refresh the catalogue after changing texts in code or templates; then translate the new English entries.
extract-messages: $(VENV)/.installed
	$(BIN)/pybabel extract -F babel.cfg -k _l -o remiss/translations/messages.pot --no-location --sort-output .
	$(BIN)/pybabel update -i remiss/translations/messages.pot -d remiss/translations --no-fuzzy-matching

migrate: $(VENV)/.installed
	mkdir -p instance
	FLASK_DEBUG=1 $(BIN)/flask db upgrade

demo: migrate
	FLASK_DEBUG=1 $(BIN)/flask remiss demo

# The app and the scheduler together; mail is written to instance/outbox (see /admin/outbox).
run: translations demo
	export FLASK_DEBUG=1 REMISS_MAIL_BACKEND=file; \
	$(BIN)/flask remiss scheduler & scheduler=$$!; trap "kill $$scheduler 2>/dev/null" EXIT INT TERM; \
	$(BIN)/flask run --host 127.0.0.1 --port 5000

test: translations
	$(BIN)/python -m pytest $(PYTEST_ARGS)

bench: translations
	$(BIN)/python -m bench

clean:
	rm -rf $(VENV) instance .pytest_cache
