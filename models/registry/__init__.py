"""Model registry: versions in a Triton model repository, promotion, rollback.

:class:`ModelRepository` is the pure file side (version folders, meta.json, config.pbtxt version
policy), :class:`TritonHttpControl` the thin HTTP adapter (load a model, check a version is ready),
:class:`ModelRegistry` puts them together with the served-history file. See docs/lifecycle.md.
"""

from channelpulse.models.registry.history import HISTORY_FILE, ServedHistory
from channelpulse.models.registry.pbtxt import VersionPolicy, parse_version_policy, with_specific_versions
from channelpulse.models.registry.registry import ModelRegistry, RolloutResult
from channelpulse.models.registry.repository import ModelRepository, RegistryError, VersionInfo
from channelpulse.models.registry.triton_control import ModelControl, TritonControlError, TritonHttpControl

__all__ = [
    "HISTORY_FILE",
    "ModelControl",
    "ModelRegistry",
    "ModelRepository",
    "RegistryError",
    "RolloutResult",
    "ServedHistory",
    "TritonControlError",
    "TritonHttpControl",
    "VersionInfo",
    "VersionPolicy",
    "parse_version_policy",
    "with_specific_versions",
]
