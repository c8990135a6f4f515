"""`channelpulse bench --quick` against the test stack: every section of the JSON is there, with
positive figures. No test asserts speed."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from channelpulse.bench.limits import latest_version_dir
from channelpulse.bench.report import THROUGHPUT_TARGETS
from channelpulse.config import REPO_ROOT, Settings

MODELS = {"sentiment": "sentiment", "recommendation": "recommender", "sensors": "anomaly", "deadletter": None}


def test_quick_bench_reports_every_section(stack: Settings, tmp_path: Path) -> None:
    env = {**os.environ, **stack.to_env(), "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}
    out = tmp_path / "bench"
    proc = subprocess.run(
        [sys.executable, "-m", "channelpulse", "bench", "--quick", "--out", str(out)],
        env=env, cwd=REPO_ROOT, capture_output=True, text=True, timeout=900,
    )
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-4000:]
    report = json.loads((out / "bench.json").read_text())
    assert (out / "bench.png").read_bytes()[:4] == b"\x89PNG"

    hw = report["hardware"]
    assert hw["cpu_model"] and hw["usable_cores"] >= 1 and isinstance(hw["gpus"], list)
    assert report["stack"] == {"started_here": False, "kafka": stack.bootstrap_servers, "triton": stack.triton_grpc_url}
    assert report["mode"] == "quick"

    for name, model in MODELS.items():
        result = report["pipelines"][name]
        if model is not None and latest_version_dir(stack.model_repository, model) is None:
            assert "skipped" in result  # that model is not in the repository (yet)
            continue
        assert "failed" not in result and "error" not in result, result
        assert result["max"]["events_per_s"] > 0 and result["max"]["completed"] == result["max"]["events"]
        (half,) = result["rates"]
        assert half["label"] == "0.5x" and half["completed"] == half["events"] > 0
        assert 0 < half["latency"]["p50_ms"] <= half["latency"]["p99_ms"]
        limits = report["limits"][name]
        expected = {"bare_aiokafka_loop"} if model is None else {"model_alone", "triton_alone"}
        assert set(limits) == expected
        for figures in limits.values():
            assert figures["events_per_s"] > 0
        assert all(r is not None and r > 0 for r in report["ratios"][name].values())

    scaling = report["scaling"]
    assert scaling["second_worker_start_s"] > 0 and "failed" not in scaling, scaling
    for result in scaling["pipelines"].values():
        assert result["one_worker_events_per_s"] > 0 and result["two_workers_events_per_s"] > 0
    lag = report["lag_drain"]
    assert lag["completed"] >= lag["events"] > 0 and lag["lag_zero_s"] > 0 and lag["drain_events_per_s"] > 0
    measured = {t["target"] for t in report["targets"] if t["measured"] is not None}
    assert measured >= {f"{name} drain capacity / {limit.replace('_', ' ')}" for name, limit, _ in THROUGHPUT_TARGETS}
