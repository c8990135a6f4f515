"""ModelRegistry: promote and roll back model versions served by Triton.

Serving a version = rewrite config.pbtxt's version policy to ``specific: [version]``, ask Triton to
load the model (it loads the new version, switches traffic to it and unloads the old one; requests
in flight finish on the old one), then check that the version answers ready. If the load or the
check fails, the previous config.pbtxt is restored and loaded again and RegistryError is raised.
"""

from __future__ import annotations

import fcntl
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from channelpulse.models.registry.history import ServedHistory
from channelpulse.models.registry.repository import ModelRepository, RegistryError, VersionInfo
from channelpulse.models.registry.triton_control import ModelControl, TritonControlError

log = logging.getLogger(__name__)
LOCK_FILE = ".registry.lock"


@dataclass(frozen=True)
class RolloutResult:
    model: str
    action: str
    version: int
    previous: int | None
    verified: bool
    """Triton answered ready for ``version`` (False only when the registry has no server control)."""

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


class ModelRegistry:
    """Versions of the models in one repository, and which one Triton serves.

    ``control`` is the server side (:class:`TritonHttpControl`); without it only the files change
    (Triton then picks the change up on its next load of the model).
    """

    def __init__(
        self, repository: ModelRepository, control: ModelControl | None = None, ready_timeout_s: float = 120.0
    ) -> None:
        self.repository = repository
        self.control = control
        self.ready_timeout_s = ready_timeout_s

    def list(self, model: str | None = None) -> dict[str, list[VersionInfo]]:
        """Every version of ``model`` (or of every model) with its meta.json and served flag."""
        names = [model] if model else self.repository.models()
        return {name: self.repository.versions(name) for name in names}

    def add_version(self, model: str, artifacts: Path, meta: dict[str, Any] | None = None) -> VersionInfo:
        """A new (not yet served) version from a folder of artifacts; see ModelRepository.add_version."""
        with self._locked(model):
            return self.repository.add_version(model, artifacts, meta)

    def served_version(self, model: str) -> int | None:
        """The version config.pbtxt serves (the highest one when it serves several)."""
        served = self.repository.served_versions(model)
        return served[-1] if served else None

    def history(self, model: str) -> ServedHistory:
        return ServedHistory.load(self.repository.model_dir(model))

    def promote(self, model: str, version: int, note: str = "") -> RolloutResult:
        """Serve ``version`` of ``model`` (and remember the one served before, for rollback)."""
        with self._locked(model):
            self.repository.version_dir(model, version)
            history = self.history(model)
            history.seed(self.repository.served_versions(model))
            previous = history.current
            verified = self._serve(model, version)
            history.record_promote(version, note)
            history.save(self.repository.model_dir(model))
            log.info("registry: %s now serves version %d (was %s)", model, version, previous)
            return RolloutResult(model, "promote", version, previous, verified)

    def rollback(self, model: str, note: str = "") -> RolloutResult:
        """Serve the version that was served before the current one."""
        with self._locked(model):
            history = self.history(model)
            history.seed(self.repository.served_versions(model))
            current, target = history.current, history.previous()
            if target is None:
                raise RegistryError(f"{model!r} has no earlier served version to roll back to")
            verified = self._serve(model, target)
            history.record_rollback(note)
            history.save(self.repository.model_dir(model))
            log.info("registry: %s rolled back from version %s to %d", model, current, target)
            return RolloutResult(model, "rollback", target, current, verified)

    def _serve(self, model: str, version: int) -> bool:
        before = self.repository.set_served(model, version)
        if self.control is None:
            return False
        try:
            self.control.load(model)
            if not self.control.wait_ready(model, version, self.ready_timeout_s):
                raise RegistryError(f"{model!r} version {version} is not ready after {self.ready_timeout_s:.0f}s")
        except (TritonControlError, RegistryError) as exc:
            self.repository.write_config(model, before)
            try:
                self.control.load(model)
            except TritonControlError as again:
                log.error("registry: restoring %s after a failed load also failed: %s", model, again)
            raise RegistryError(f"serving {model!r} version {version} failed, previous config restored: {exc}") from exc
        return True

    @contextmanager
    def _locked(self, model: str) -> Iterator[None]:
        """One registry operation per model at a time, across processes."""
        with (self.repository.model_dir(model) / LOCK_FILE).open("w") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)
