from __future__ import annotations

from prometheus_client.metrics import MetricWrapperBase

from channelpulse.streams import metrics

IDENTIFYING = {"user", "user_id", "session", "session_id", "author", "event_id", "item_id", "sensor_id", "key"}


def test_no_worker_metric_has_a_label_that_identifies_a_person_or_an_event() -> None:
    wrappers = [m for m in vars(metrics).values() if isinstance(m, MetricWrapperBase)]
    assert len(wrappers) >= 10
    labels = {label for m in wrappers for label in m._labelnames}
    assert "topic" in labels
    assert labels & IDENTIFYING == set()
