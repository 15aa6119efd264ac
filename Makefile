# Two commands do all set-up on a fresh machine:  `make chat`  and  `make test`.
PYTHON ?= python3.11
VENV ?= .venv
STAMP := $(VENV)/.installed-$(shell cat pyproject.toml | sha1sum | cut -c1-12)

.PHONY: chat test lint setup

chat: $(STAMP)  ## set up if needed, then chat in the terminal on the bundled demo catalogue
	$(VENV)/bin/recbot chat

test: $(STAMP)  ## set up if needed, then run every test (unit and integration, real models)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/pytest -q

lint: $(STAMP)
	$(VENV)/bin/ruff check . && $(VENV)/bin/ruff format --check .

setup: $(STAMP)

$(STAMP): pyproject.toml
	scripts/install_system_deps.sh
	test -x $(VENV)/bin/python || $(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --upgrade pip
	$(VENV)/bin/pip install --quiet -e '.[dev]'
	rm -f $(VENV)/.installed-*
	touch $@
