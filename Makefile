# The two set-up commands of the README:
#   make demo   the main job: local stack + workers + sample producer, scored outputs shown live
#   make test   lint, type-check, unit and integration tests against the real Kafka, Triton, Prometheus
.PHONY: demo test bootstrap lint unit integration kafka39 bench test-unit test-integration test-kafka39

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

# After lint, three pytest runs side by side, each with a report of its own and its output shown when it
# ends: the integration tests against the session's stack, the unit tests and the kafka39 subset against a
# stack of its own. In the 54e0575 fresh-clone CI (quiet 2-core machine) they took 1,511 s, 268 s and 102 s
# one after the other (31.7 of its 35.5 min); side by side the unit tests and the Kafka 3.9 stack use the
# CPU the integration tests leave idle while they wait on the workers, Kafka and Triton (how much that is
# on a quiet machine was not measured: docs/benchmarks.md, "CI time"). Any failure fails `make test`, once
# all three have finished.
test: lint
	$(MAKE) --no-print-directory -j3 --output-sync=target test-unit test-integration test-kafka39

test-unit:
	$(VENV)/pytest -q -p no:cacheprovider tests/unit --junitxml=.channelpulse/junit-unit.xml

test-integration:
	$(VENV)/pytest -q -p no:cacheprovider tests/integration --junitxml=.channelpulse/junit.xml
	$(VENV)/python scripts/check_integration_ran.py .channelpulse/junit.xml

unit: bootstrap
	$(VENV)/pytest -q -m unit

integration: bootstrap
	$(VENV)/pytest -q -m integration

# The small `kafka39` subset against a Kafka 3.9 broker: one more stack start, a few minutes. It
# collects tests/integration only (the marker is refused elsewhere, tests/conftest.py): importing the
# unit test modules too took ~30 s more at load 11.
kafka39: bootstrap
	$(MAKE) --no-print-directory test-kafka39

test-kafka39:
	CHANNELPULSE_KAFKA_VERSION=$(KAFKA39) $(VENV)/pytest -q -p no:cacheprovider -m kafka39 tests/integration \
		--junitxml=.channelpulse/junit-kafka39.xml
	$(VENV)/python scripts/check_integration_ran.py .channelpulse/junit-kafka39.xml

bench: bootstrap
	$(VENV)/channelpulse bench
