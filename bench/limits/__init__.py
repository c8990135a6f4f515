"""The ceilings a pipeline is compared with, measured in the same run on the same batches: the model
alone in process, Triton alone over gRPC, and a bare aiokafka consume-then-produce loop."""

from __future__ import annotations

from pathlib import Path

from channelpulse.models.registry.pbtxt import parse_version_policy
from channelpulse.models.registry.repository import CONFIG_FILE


def latest_version_dir(repository: Path, model: str) -> Path | None:
    """The highest numbered version folder of ``model`` that holds files and that its config.pbtxt's
    version policy serves (any, without a config.pbtxt), or None."""
    folder = repository / model
    if not folder.is_dir():
        return None
    versions = [p for p in folder.iterdir() if p.is_dir() and p.name.isdigit() and any(p.iterdir())]
    config = folder / CONFIG_FILE
    if config.is_file():
        served = set(parse_version_policy(config.read_text(encoding="utf-8")).served([int(p.name) for p in versions]))
        versions = [p for p in versions if int(p.name) in served]
    return max(versions, key=lambda p: int(p.name), default=None)
