# The two set-up commands of the README:
#   make demo   the main job: local stack + workers + sample producer, scored outputs shown live
#   make test   lint, type-check, unit and integration tests against the real Kafka, Triton, Prometheus
.PHONY: demo test bootstrap lint unit integration kafka39 bench

VENV := .venv/bin
# The Kafka 3.9 release the tests marked `kafka39` also run against (the default broker is 4.x).
KAFKA39 := 3.9.1
# mypy's incremental cache, beside the machine's other shared builds (Kafka jars, helm, ONNX exports):
# a fresh clone re-checks only what changed. Without it mypy parses ~2,000 transformers and ~1,500 torch
# modules first (~80% of a cold run, ~1-3 min here); a cached module is re-used only if its file's hash
# is the same, whatever its path (another clone, another venv).
MYPY_CACHE := $(or $(CHANNELPULSE_CACHE_DIR),$(HOME)/.cache/channelpulse)/mypy

bootstrap:
	@scripts/bootstrap.sh

demo: bootstrap
	$(VENV)/channelpulse demo

lint: bootstrap
	$(VENV)/ruff check channelpulse streams models schemas infra bench tests scripts
	$(VENV)/mypy --cache-dir $(MYPY_CACHE)

test: lint
	$(VENV)/pytest -q -p no:cacheprovider --junitxml=.channelpulse/junit.xml
	$(VENV)/python scripts/check_integration_ran.py .channelpulse/junit.xml
	$(MAKE) --no-print-directory kafka39

unit: bootstrap
	$(VENV)/pytest -q -m unit

integration: bootstrap
	$(VENV)/pytest -q -m integration

# The small `kafka39` subset against a Kafka 3.9 broker: one more stack start, a few minutes. It
# collects tests/integration only (the marker is refused elsewhere, tests/conftest.py): importing the
# unit test modules too took ~30 s more at load 11.
kafka39: bootstrap
	CHANNELPULSE_KAFKA_VERSION=$(KAFKA39) $(VENV)/pytest -q -p no:cacheprovider -m kafka39 tests/integration \
		--junitxml=.channelpulse/junit-kafka39.xml
	$(VENV)/python scripts/check_integration_ran.py .channelpulse/junit-kafka39.xml

bench: bootstrap
	$(VENV)/channelpulse bench
