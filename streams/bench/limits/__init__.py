"""The ceilings a pipeline is compared with, measured in the same run on the same batches: the model
alone in process, Triton alone over gRPC, and a bare aiokafka consume-then-produce loop."""

from __future__ import annotations

from pathlib import Path


def latest_version_dir(repository: Path, model: str) -> Path | None:
    """The highest numbered version folder of ``model`` that holds files, or None."""
    folder = repository / model
    if not folder.is_dir():
        return None
    versions = [p for p in folder.iterdir() if p.is_dir() and p.name.isdigit() and any(p.iterdir())]
    return max(versions, key=lambda p: int(p.name), default=None)
