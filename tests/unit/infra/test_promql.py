"""The PromQL metric-name extractor that the dashboard and alert checks rely on."""

from __future__ import annotations

import pytest

from channelpulse.infra.grafana.promql import metric_names, with_intervals


@pytest.mark.parametrize(
    ("expr", "names"),
    [
        ("up", {"up"}),
        ('up{job="channelpulse-workers"} == 0', {"up"}),
        ("rate(channelpulse_events_in_total[5m])", {"channelpulse_events_in_total"}),
        ("sum by (topic) (rate(channelpulse_events_in_total[$__rate_interval]))", {"channelpulse_events_in_total"}),
        ("sum(rate(channelpulse_events_in_total[5m])) by (topic, partition)", {"channelpulse_events_in_total"}),
        ("sum without (instance) (channelpulse_consumer_lag)", {"channelpulse_consumer_lag"}),
        (
            "histogram_quantile(0.95, sum by (model, le) (rate(channelpulse_triton_latency_seconds_bucket[1m])))",
            {"channelpulse_triton_latency_seconds_bucket"},
        ),
        (
            "sum(rate(a_sum[5m])) / sum(rate(a_count[5m]))",
            {"a_sum", "a_count"},
        ),
        (
            "sum(rate(channelpulse_events_deadlettered_total[5m])) / clamp_min(sum(rate(x_total[5m])), 1e-9) > 0.2",
            {"channelpulse_events_deadlettered_total", "x_total"},
        ),
        ("a * on (model) group_left (version) b", {"a", "b"}),
        ("a and ignoring (le) b or c unless d", {"a", "b", "c", "d"}),
        ("a > bool 3", {"a"}),
        ("a offset 5m", {"a"}),
        ("a @ start()", {"a"}),
        ("max_over_time(rate(a[1m])[10m:30s])", {"a"}),
        ('label_replace(a, "by", "$1", "src", "(.*)")', {"a"}),
        ('a{label="sum(by) {odd} b"}', {"a"}),
        ("a{job=~'x|y', le!=\"+Inf\"}", {"a"}),
        ("sum(rate(a[5m])) or vector(0)", {"a"}),
        ("topk(5, a) + Inf - NaN", {"a"}),
        ("ns:recorded:rate5m", {"ns:recorded:rate5m"}),
        ("count_values(\"version\", a)", {"a"}),
        ("1 + 2e3 - 0x1f", set()),
    ],
)
def test_metric_names(expr: str, names: set[str]) -> None:
    assert metric_names(expr) == names


def test_unbalanced_label_list_is_an_error() -> None:
    with pytest.raises(ValueError, match="unbalanced"):
        metric_names("sum by (topic (rate(a[1m]))")


def test_with_intervals_replaces_grafana_variables() -> None:
    expr = "rate(a[$__rate_interval]) + rate(b[$__interval]) + increase(c[$__range])"
    assert with_intervals(expr, "2m") == "rate(a[2m]) + rate(b[2m]) + increase(c[2m])"
