# The two set-up commands of the README:
#   make demo   the main job: local stack + workers + sample producer, scored outputs shown live
#   make test   lint, type-check, unit and integration tests against the real Kafka, Triton, Prometheus
.PHONY: demo test bootstrap lint unit integration kafka39 bench

VENV := .venv/bin
# The Kafka 3.9 release the tests marked `kafka39` also run against (the default broker is 4.x).
KAFKA39 := 3.9.1

bootstrap:
	@scripts/bootstrap.sh

demo: bootstrap
	$(VENV)/channelpulse demo

lint: bootstrap
	$(VENV)/ruff check channelpulse streams models schemas infra bench tests scripts
	$(VENV)/mypy

test: lint
	$(VENV)/pytest -q -p no:cacheprovider --junitxml=.channelpulse/junit.xml
	$(VENV)/python scripts/check_integration_ran.py .channelpulse/junit.xml
	$(MAKE) --no-print-directory kafka39

unit: bootstrap
	$(VENV)/pytest -q -m unit

integration: bootstrap
	$(VENV)/pytest -q -m integration

# The small `kafka39` subset against a Kafka 3.9 broker: one more stack start, a few minutes.
kafka39: bootstrap
	CHANNELPULSE_KAFKA_VERSION=$(KAFKA39) $(VENV)/pytest -q -p no:cacheprovider -m kafka39 \
		--junitxml=.channelpulse/junit-kafka39.xml
	$(VENV)/python scripts/check_integration_ran.py .channelpulse/junit-kafka39.xml

bench: bootstrap
	$(VENV)/channelpulse bench
