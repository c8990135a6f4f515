from __future__ import annotations

import pytest

from channelpulse.bench.stats import ratio, steady_rate, summarize_latencies, window_rate


def test_latency_summary_is_in_milliseconds_with_interpolated_percentiles() -> None:
    summary = summarize_latencies([i / 1000 for i in range(1, 101)])  # 1..100 ms
    assert summary is not None
    assert summary.count == 100
    assert summary.p50_ms == pytest.approx(50.5)
    assert summary.p99_ms == pytest.approx(99.01)
    assert summary.max_ms == pytest.approx(100.0)
    assert summarize_latencies([]) is None


def test_steady_rate_leaves_out_start_up_and_tail() -> None:
    # 2 s of nothing (start-up), then 100 events/s for 10 s, then a slow tail of 50 events over 5 s
    samples = [(0.0, 0.0), (2.0, 0.0)]
    samples += [(2.0 + t, 100.0 * t) for t in range(1, 11)]
    samples += [(12.0 + t, 1000.0 + 10.0 * t) for t in range(1, 6)]
    assert steady_rate(samples, total=1050) == pytest.approx(100.0)


def test_steady_rate_needs_the_backlog_mostly_done() -> None:
    assert steady_rate([(0.0, 0.0), (1.0, 50.0)], total=100) is None
    assert steady_rate([], total=100) is None


def test_window_rate_and_ratio() -> None:
    assert window_rate([0.5, 1.0, 1.5, 2.5, 9.0], 0.0, 2.0) == pytest.approx(1.5)
    assert window_rate([1.0], 2.0, 2.0) is None
    assert ratio(45.0, 50.0) == 0.9
    assert ratio(None, 50.0) is None
    assert ratio(1.0, 0.0) is None


def test_a_rate_is_sustained_only_when_the_outputs_keep_pace() -> None:
    from channelpulse.bench.phases import RateResult

    def result(completed: int, sent: float, tail: float | None) -> RateResult:
        return RateResult("r", 100.0, sent, 1000, completed, 99.0, None, duration_s=10.0, tail_s=tail)

    assert result(1000, 99.0, 0.5).sustained
    assert not result(999, 99.0, 0.5).sustained  # an output missing
    assert not result(1000, 90.0, 0.5).sustained  # the sender fell behind
    assert not result(1000, 99.0, 4.0).sustained  # a backlog built up
    assert result(1000, 99.0, 1.9).to_dict()["sustained"]


def test_a_probe_is_prompt_unless_its_first_output_waited_on_a_stall() -> None:
    from channelpulse.bench.phases import Probe, prompt

    assert prompt(Probe(128, 0.5, True, 0.1))
    assert prompt(Probe(128, 10.0, True, 5.0))  # a slow model: the first batch takes half the probe
    assert not prompt(Probe(128, 40.0, True, 38.0))  # 38 s of nothing, then everything at once
    assert not prompt(Probe(128, 60.0, False, None))
