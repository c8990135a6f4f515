"""The live model repository as the worker's side processes use it (retrainer, recommender refresh,
bench, ``channelpulse models``): the registry with Triton's model-control API, bounded by the
configured load timeout, and the version config.pbtxt serves."""

from __future__ import annotations

from channelpulse.config import Settings
from channelpulse.models.registry import ModelRegistry, ModelRepository, TritonHttpControl
from channelpulse.streams.retrainer import ServedVersion


def registry_for(settings: Settings) -> ModelRegistry:
    """The live model repository, with Triton's model-control API to load promoted versions; a load
    and its readiness check each wait at most ``triton_model_load_timeout_s``."""
    timeout_s = settings.triton_model_load_timeout_s
    control = TritonHttpControl(settings.triton_http_url, timeout_s=timeout_s)
    return ModelRegistry(ModelRepository(settings.model_repository), control, ready_timeout_s=timeout_s)


def served_version(settings: Settings) -> ServedVersion:
    """The version config.pbtxt of the live repository serves (what the retrainer checks requests against)."""
    registry = ModelRegistry(ModelRepository(settings.model_repository))

    def served(model: str) -> str | None:
        version = registry.served_version(model) if (settings.model_repository / model).is_dir() else None
        return None if version is None else str(version)

    return served
