from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from channelpulse.bench import report as reporting
from channelpulse.bench.plot import plot_report


def rate(label: str, offered: float, p99: float) -> dict[str, Any]:
    return {
        "label": label, "offered_per_s": offered, "sent_per_s": offered, "events": 100, "completed": 100,
        "output_per_s": offered, "sustained": True,
        "latency": {"count": 100, "p50_ms": p99 / 3, "p95_ms": p99 / 1.5, "p99_ms": p99, "max_ms": p99, "mean_ms": 1},
    }


def sample_report() -> dict[str, Any]:
    pipelines = {
        "sentiment": {"max": {"events_per_s": 180.0, "mean_batch": 60.0}, "rates": [rate("0.5x", 90.0, 120.0)]},
        "deadletter": {"max": {"events_per_s": 900.0, "mean_batch": 64.0}, "rates": [rate("0.5x", 450.0, 400.0)]},
        "recommendation": {"skipped": "model not ready"},
    }
    limits = {
        "sentiment": {"model_alone": {"events_per_s": 200.0}, "triton_alone": {"events_per_s": 190.0}},
        "deadletter": {"bare_aiokafka_loop": {"events_per_s": 3000.0}},
    }
    report: dict[str, Any] = {"mode": "quick", "hardware": {"cpu_model": "X", "usable_cores": 2},
                              "settings": {"batch_max_size": 64}, "pipelines": pipelines, "limits": limits}
    report["ratios"] = reporting.ratios(pipelines, limits)
    report["targets"] = reporting.targets(report)
    return report


def test_ratios_and_targets_tell_the_truth() -> None:
    report = sample_report()
    assert report["ratios"]["sentiment"] == {"vs_model_alone": 0.9, "vs_triton_alone": 0.947}
    assert report["ratios"]["deadletter"] == {"vs_bare_aiokafka_loop": 0.3}
    met = {t["target"]: t["met"] for t in report["targets"]}
    # sentiment against Triton alone (0.947 >= 0.9), not the model alone (0.9 would pass either way)
    assert met["sentiment drain capacity / triton alone"] is True
    assert met["deadletter drain capacity / bare aiokafka loop"] is False
    assert met["recommendation drain capacity / triton alone"] is None  # skipped in this run
    assert met["deadletter: p99 at 0.5x max"] is False
    assert "recommendation: p99 at 0.5x max" in met and met["recommendation: p99 at 0.5x max"] is None
    assert "sentiment: p99 at 0.5x max" not in met  # not one of the targets


def test_sentiment_is_held_to_triton_alone() -> None:
    report = sample_report()
    report["limits"]["sentiment"]["triton_alone"]["events_per_s"] = 210.0  # 180 / 210 = 0.857 < 0.9
    report["ratios"] = reporting.ratios(report["pipelines"], report["limits"])
    met = {t["target"]: t["met"] for t in reporting.targets(report)}
    assert met["sentiment drain capacity / triton alone"] is False


def test_model_speed_target_needs_speed_and_accuracy() -> None:
    fast_but_wrong = {"model_speed": {"best": {"runtime": "onnxruntime_int8", "speedup": 3.5,
                                               "accuracy_drop_points": 2.0}}}
    assert [t["met"] for t in reporting.targets(fast_but_wrong)] == [False]
    good = {"model_speed": {"best": {"runtime": "onnxruntime_int8", "speedup": 3.1, "accuracy_drop_points": 0.4}}}
    assert [t["met"] for t in reporting.targets(good)] == [True]


def test_json_summary_and_plot(tmp_path: Path) -> None:
    report = sample_report()
    path = reporting.write_json(report, tmp_path)
    assert json.loads(path.read_text())["ratios"]["deadletter"]["vs_bare_aiokafka_loop"] == 0.3
    text = "\n".join(reporting.summary_lines(report))
    assert "sentiment       max 180.0 events/s" in text
    assert "pipeline/limit 0.90" in text and "model not ready" in text and "NOT met" in text
    png = plot_report(report, tmp_path / "bench.png")
    assert png is not None and png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and png.stat().st_size > 10_000
    assert plot_report({"pipelines": {"x": {"skipped": "no"}}}, tmp_path / "none.png") is None
