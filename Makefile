PYTHON ?= python3
VENV   := .venv
PORT   ?= 5000
FLASK  := $(VENV)/bin/flask --app wsgi
PYTEST := $(VENV)/bin/python -m pytest

.PHONY: install run test test-sqlite test-postgres bench translations

install: $(VENV)/.installed

$(VENV)/.installed: requirements.txt
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --upgrade pip
	$(VENV)/bin/pip install --quiet -r requirements.txt
	touch $@

run: install
	$(FLASK) db upgrade
	$(FLASK) careplan load-protocols
	$(FLASK) careplan seed-demo --if-empty
	@echo ""
	@echo "careplan is serving at http://127.0.0.1:$(PORT)/  (API docs: http://127.0.0.1:$(PORT)/api/docs)"
	@echo ""
	CAREPLAN_ENV=development PORT=$(PORT) $(VENV)/bin/gunicorn -c config/gunicorn.conf.py --bind 127.0.0.1:$(PORT) \
		--workers 1 --threads 8 --access-logfile - wsgi:app

# The whole suite on SQLite, then again on PostgreSQL when TEST_DATABASE_URL is set.
test: install test-sqlite
	@if [ -n "$$TEST_DATABASE_URL" ]; then $(MAKE) --no-print-directory test-postgres; \
	else echo "TEST_DATABASE_URL is not set: PostgreSQL run left out."; fi

test-sqlite:
	$(PYTEST) tests

# The optimizer and the browser do not touch the database; they run once, above.
test-postgres:
	CAREPLAN_TEST_ON_POSTGRES=1 $(PYTEST) tests --ignore=tests/optimizer --ignore=tests/web

bench: install
	$(VENV)/bin/python -m bench

# The catalogue: extract every string patients read, merge it into each language's .po (then translate
# the new entries in careplan/translations/fr/LC_MESSAGES/messages.po), and compile the .mo files.
translations: install
	PYTHONPATH=. $(VENV)/bin/pybabel extract -F babel.cfg -k lazy_gettext -k _l --no-location --sort-output \
		--project careplan -o careplan/translations/messages.pot .
	$(VENV)/bin/pybabel update -i careplan/translations/messages.pot -d careplan/translations --no-fuzzy-matching
	$(VENV)/bin/pybabel compile -d careplan/translations --statistics
