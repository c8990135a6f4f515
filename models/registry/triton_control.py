"""The one place the registry talks to Triton: its model-control and readiness HTTP endpoints
(stdlib urllib, no client library). Anything with the same three methods can stand in for it."""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from typing import Protocol
from urllib.parse import quote


class ModelControl(Protocol):
    def load(self, model: str) -> None: ...

    def version_ready(self, model: str, version: int) -> bool: ...

    def wait_ready(self, model: str, version: int, timeout_s: float) -> bool: ...


class TritonControlError(RuntimeError):
    """Triton refused or failed a model-control request."""


class TritonHttpControl:
    """Triton's HTTP API at ``base_url`` (``http://host:port``)."""

    def __init__(self, base_url: str, timeout_s: float = 120.0) -> None:
        self.base_url = base_url.rstrip("/")
        self.timeout_s = timeout_s

    def load(self, model: str) -> None:
        """``POST /v2/repository/models/<model>/load``: Triton re-reads the model's config.pbtxt,
        loads the versions it names and then unloads the others; requests in flight complete."""
        url = f"{self.base_url}/v2/repository/models/{quote(model)}/load"
        request = urllib.request.Request(url, data=b"{}", method="POST", headers={"Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(request, timeout=self.timeout_s):
                return
        except urllib.error.HTTPError as exc:
            raise TritonControlError(f"Triton could not load {model!r}: {_error_text(exc)}") from exc
        except (urllib.error.URLError, OSError) as exc:
            raise TritonControlError(f"Triton at {self.base_url} is unreachable: {exc}") from exc

    def version_ready(self, model: str, version: int) -> bool:
        """``GET /v2/models/<model>/versions/<version>/ready`` answers 200."""
        url = f"{self.base_url}/v2/models/{quote(model)}/versions/{version}/ready"
        try:
            with urllib.request.urlopen(url, timeout=5) as resp:
                return bool(resp.status == 200)
        except (urllib.error.URLError, OSError):
            return False

    def wait_ready(self, model: str, version: int, timeout_s: float) -> bool:
        deadline = time.monotonic() + timeout_s
        while True:
            if self.version_ready(model, version):
                return True
            if time.monotonic() >= deadline:
                return False
            time.sleep(0.2)


def _error_text(exc: urllib.error.HTTPError) -> str:
    try:
        body = exc.read().decode("utf-8", "replace")
        return str(json.loads(body).get("error", body))
    except (ValueError, OSError):
        return f"HTTP {exc.code}"
