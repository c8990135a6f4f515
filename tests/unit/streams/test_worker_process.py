from __future__ import annotations

from channelpulse.streams.worker_process import metric_sum, parse_metrics

TEXT = """# HELP channelpulse_events_out_total Records produced.
# TYPE channelpulse_events_out_total counter
channelpulse_events_out_total{topic="scores.sentiment"} 120.0
channelpulse_events_out_total{topic="deadletter"} 7.0
# HELP channelpulse_consumer_lag Records behind.
# TYPE channelpulse_consumer_lag gauge
channelpulse_consumer_lag{partition="0",topic="events.reviews"} 3.0
channelpulse_consumer_lag{partition="1",topic="events.reviews"} 4.0
"""


def test_samples_are_summed_by_name_and_labels() -> None:
    samples = parse_metrics(TEXT)
    assert metric_sum(samples, "channelpulse_events_out_total") == 127.0
    assert metric_sum(samples, "channelpulse_events_out_total", topic="deadletter") == 7.0
    assert metric_sum(samples, "channelpulse_consumer_lag", topic="events.reviews") == 7.0
    assert metric_sum(samples, "channelpulse_consumer_lag", topic="events.social") == 0.0
