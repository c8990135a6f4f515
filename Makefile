# The two set-up commands of the README:
#   make demo   the main job: local stack + workers + sample producer, scored outputs shown live
#   make test   lint, type-check, unit and integration tests against the real Kafka, Triton, Prometheus
.PHONY: demo test bootstrap lint unit integration bench

VENV := .venv/bin

bootstrap:
	@scripts/bootstrap.sh

demo: bootstrap
	$(VENV)/channelpulse demo

lint: bootstrap
	$(VENV)/ruff check channelpulse streams models schemas infra tests scripts
	$(VENV)/mypy

test: lint
	$(VENV)/pytest -q -p no:cacheprovider --junitxml=.channelpulse/junit.xml
	$(VENV)/python scripts/check_integration_ran.py .channelpulse/junit.xml

unit: bootstrap
	$(VENV)/pytest -q -m unit

integration: bootstrap
	$(VENV)/pytest -q -m integration

bench: bootstrap
	$(VENV)/channelpulse bench
