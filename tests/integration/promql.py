"""Ask the test stack's Prometheus (the real server) for a value."""

from __future__ import annotations

import json
import time
import urllib.parse
import urllib.request
from collections.abc import Callable

from channelpulse.config import Settings


def query(settings: Settings, promql: str) -> float | None:
    """The sum of an instant query's samples, or None when it returns none."""
    url = f"http://127.0.0.1:{settings.prometheus_port}/api/v1/query?" + urllib.parse.urlencode({"query": promql})
    with urllib.request.urlopen(url, timeout=5) as resp:
        result = json.loads(resp.read())["data"]["result"]
    if not result:
        return None
    return sum(float(r["value"][1]) for r in result)


def wait_for_query(
    settings: Settings, promql: str, ok: Callable[[float], bool], timeout_s: float = 60.0
) -> float | None:
    """Poll ``promql`` until ``ok(value)`` holds or time runs out; returns the last value."""
    deadline = time.monotonic() + timeout_s
    value = None
    while time.monotonic() < deadline:
        value = query(settings, promql)
        if value is not None and ok(value):
            return value
        time.sleep(1.0)
    return value
