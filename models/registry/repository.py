"""File side of the model registry: a Triton model repository ``<root>/<model>/<version>/`` with
``<root>/<model>/config.pbtxt``. Knows nothing about the running server."""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from channelpulse.models.registry.pbtxt import VersionPolicy, parse_version_policy, with_specific_versions

CONFIG_FILE = "config.pbtxt"
META_FILE = "meta.json"
ADAPTER_FILE = "model.py"


class RegistryError(RuntimeError):
    """A registry operation that cannot be done (unknown model or version, failed load)."""


@dataclass(frozen=True)
class VersionInfo:
    model: str
    version: int
    path: Path
    meta: dict[str, Any] = field(default_factory=dict)
    served: bool = False

    def to_dict(self) -> dict[str, Any]:
        return {
            "model": self.model,
            "version": self.version,
            "path": str(self.path),
            "served": self.served,
            "meta": self.meta,
        }


def _read_meta(version_dir: Path) -> dict[str, Any]:
    path = version_dir / META_FILE
    if not path.is_file():
        return {}
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        return {"error": f"unreadable meta.json: {exc}"}
    return data if isinstance(data, dict) else {"value": data}


class ModelRepository:
    """A Triton model repository on disk."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)

    def model_dir(self, model: str) -> Path:
        path = self.root / model
        if not (path / CONFIG_FILE).is_file():
            raise RegistryError(f"no model {model!r} in {self.root} (no {CONFIG_FILE})")
        return path

    def models(self) -> list[str]:
        """Names of the models (folders with a config.pbtxt)."""
        if not self.root.is_dir():
            return []
        return sorted(p.name for p in self.root.iterdir() if (p / CONFIG_FILE).is_file())

    def version_numbers(self, model: str) -> list[int]:
        """The version folders present (integer names), ascending."""
        model_dir = self.model_dir(model)
        return sorted(int(p.name) for p in model_dir.iterdir() if p.is_dir() and p.name.isdigit())

    def policy(self, model: str) -> VersionPolicy:
        return parse_version_policy((self.model_dir(model) / CONFIG_FILE).read_text(encoding="utf-8"))

    def served_versions(self, model: str) -> list[int]:
        """Versions config.pbtxt tells Triton to serve (the on-disk intent, not the server's state)."""
        return self.policy(model).served(self.version_numbers(model))

    def versions(self, model: str) -> list[VersionInfo]:
        """Every version with its meta.json and whether config.pbtxt serves it."""
        served = set(self.served_versions(model))
        model_dir = self.model_dir(model)
        return [
            VersionInfo(model, v, model_dir / str(v), _read_meta(model_dir / str(v)), v in served)
            for v in self.version_numbers(model)
        ]

    def version_dir(self, model: str, version: int) -> Path:
        path = self.model_dir(model) / str(version)
        if not path.is_dir():
            raise RegistryError(f"model {model!r} has no version {version} (have {self.version_numbers(model)})")
        return path

    def add_version(self, model: str, artifacts: Path, meta: dict[str, Any] | None = None) -> VersionInfo:
        """Copy ``artifacts`` (a folder: weights, profile.json, ...) into the next version folder.

        The ``model.py`` adapter comes from the highest served version (else the highest version)
        unless ``artifacts`` has its own; ``meta`` (with ``version`` set) is written as meta.json,
        else the artifacts' meta.json is kept. The folder appears complete or not at all (it is
        assembled under a hidden name Triton ignores, then renamed). What is served does not
        change: a ``latest``/``all`` policy is first pinned to the versions it serves now, so the
        new version is served only after :meth:`set_served` (not by a Triton restart).
        """
        model_dir = self.model_dir(model)
        existing = self.version_numbers(model)
        served = self.served_versions(model)
        if served and self.policy(model).kind != "specific":
            self.write_config(model, with_specific_versions(self.config_text(model), served))
        candidates = served or existing
        template = candidates[-1] if candidates else None
        version = (existing[-1] if existing else 0) + 1
        staging = Path(tempfile.mkdtemp(prefix=f".v{version}-", dir=model_dir))
        try:
            shutil.copytree(artifacts, staging, dirs_exist_ok=True, ignore=shutil.ignore_patterns("__pycache__"))
            if not (staging / ADAPTER_FILE).exists():
                if template is None:
                    raise RegistryError(
                        f"{artifacts} has no {ADAPTER_FILE} and {model!r} has no version to copy it from"
                    )
                shutil.copy2(model_dir / str(template) / ADAPTER_FILE, staging / ADAPTER_FILE)
            if meta is not None:
                record = {**meta, "model": model, "version": version}
                (staging / META_FILE).write_text(json.dumps(record, indent=2) + "\n", encoding="utf-8")
            os.chmod(staging, 0o755)
            staging.rename(model_dir / str(version))
        except BaseException:
            shutil.rmtree(staging, ignore_errors=True)
            raise
        return next(v for v in self.versions(model) if v.version == version)

    def config_text(self, model: str) -> str:
        return (self.model_dir(model) / CONFIG_FILE).read_text(encoding="utf-8")

    def write_config(self, model: str, text: str) -> None:
        """Replace config.pbtxt atomically (write a sibling file, then rename over it)."""
        target = self.model_dir(model) / CONFIG_FILE
        tmp = target.with_name(f".{CONFIG_FILE}.tmp")
        tmp.write_text(text, encoding="utf-8")
        tmp.replace(target)

    def set_served(self, model: str, version: int) -> str:
        """Point config.pbtxt's version policy at exactly ``version``; returns the previous text."""
        self.version_dir(model, version)
        before = self.config_text(model)
        self.write_config(model, with_specific_versions(before, [version]))
        return before
