"""NegativeSurgeDetector: one alert per surge, none on a stationary stream; the sensor-anomaly alert."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

import numpy as np

from channelpulse.models.analytics.alerts import alert_id, sensor_anomaly_alert
from channelpulse.models.analytics.observations import Observation
from channelpulse.models.analytics.surge import NegativeSurgeDetector, SurgeParams
from channelpulse.models.analytics.windows import ChannelWindows
from channelpulse.models.anomaly.episodes import EpisodeTracker
from channelpulse.schemas.outputs import Alert

T0 = datetime(2024, 5, 1, 12, 0, tzinfo=timezone.utc)


def _window(minute: int, n: int, negatives: int, channel: str = "web") -> dict:
    start = T0 + timedelta(minutes=minute)
    return {
        "channel": channel,
        "window_start": start,
        "window_end": start + timedelta(minutes=1),
        "counts": {"clicks": 0, "reviews": n - n // 3, "social": n // 3, "sensors": 0},
        "actions": {"view": 0, "click": 0, "add_to_cart": 0, "purchase": 0},
        "conversion": None,
        "sentiment_mean": 0.0 if n else None,
        "negative_share": negatives / n if n else None,
    }


def _stream(shares: list[float], n: int = 60, seed: int = 0, channel: str = "web") -> list[dict]:
    rng = np.random.default_rng(seed)
    return [_window(i, n, int(rng.binomial(n, share)), channel) for i, share in enumerate(shares)]


def _alerts(detector: NegativeSurgeDetector, windows: list[dict]) -> list[dict]:
    return [a for a in (detector.update(w) for w in windows) if a is not None]


def test_a_stationary_stream_raises_no_alert() -> None:
    for seed in range(5):
        assert _alerts(NegativeSurgeDetector(), _stream([0.15] * 300, seed=seed)) == []


def test_an_injected_surge_raises_exactly_one_alert_at_its_start() -> None:
    shares = [0.12] * 30 + [0.5] * 8 + [0.12] * 30
    (alert,) = _alerts(NegativeSurgeDetector(), _stream(shares, seed=1))
    assert alert["kind"] == "negative_sentiment_spike" and alert["channel"] == "web"
    assert alert["alert_id"] == f"negative_sentiment_spike:web:{(T0 + timedelta(minutes=30)).isoformat()}"
    assert alert["raised_at"] == T0 + timedelta(minutes=31)
    assert "baseline" in alert["detail"] and "of 60 reviews/posts" in alert["detail"]
    Alert.model_validate(alert)


def test_a_second_surge_after_recovery_alerts_again() -> None:
    shares = [0.1] * 20 + [0.55] * 4 + [0.1] * 15 + [0.55] * 4 + [0.1] * 5
    alerts = _alerts(NegativeSurgeDetector(), _stream(shares, seed=2))
    starts = [a["raised_at"] - timedelta(minutes=1) for a in alerts]
    assert starts == [T0 + timedelta(minutes=20), T0 + timedelta(minutes=39)]


def test_one_calm_window_inside_a_surge_does_not_rearm() -> None:
    windows = [_window(i, 60, 6) for i in range(20)]
    windows += [_window(20 + i, 60, neg) for i, neg in enumerate((36, 36, 6, 36, 36))]
    windows += [_window(25 + i, 60, 6) for i in range(10)]
    assert len(_alerts(NegativeSurgeDetector(), windows)) == 1
    assert len(_alerts(NegativeSurgeDetector(SurgeParams(rearm_windows=1)), windows)) == 2


def test_a_lasting_shift_alerts_once_then_becomes_the_baseline() -> None:
    detector = NegativeSurgeDetector()
    alerts = _alerts(detector, _stream([0.1] * 20 + [0.45] * 80, seed=3))
    assert len(alerts) == 1
    state = detector.channels["web"]
    assert state.armed and state.baseline is not None and abs(state.baseline - 0.45) < 0.05


def test_a_channel_that_always_swings_widely_does_not_alert_on_its_ordinary_swings() -> None:
    rng = np.random.default_rng(9)
    shares = rng.uniform(0.05, 0.45, 300).tolist()
    detector = NegativeSurgeDetector()
    assert _alerts(detector, _stream(shares, n=200, seed=9)) == []
    # the same rise on a calm channel would have alerted: the binomial test alone flags these swings
    assert _alerts(NegativeSurgeDetector(), _stream([0.25] * 30 + [0.45] * 3, n=200, seed=9))


def test_windows_with_few_sentiment_events_are_ignored() -> None:
    detector = NegativeSurgeDetector(SurgeParams(min_events=20))
    windows = _stream([0.1] * 20, seed=4) + [_window(20 + i, 10, 9) for i in range(5)]
    assert _alerts(detector, windows) == []
    assert detector.channels["web"].windows == 20
    assert detector.update(_window(40, 0, 0)) is None


def test_no_alert_before_the_baseline_is_warm() -> None:
    assert _alerts(NegativeSurgeDetector(SurgeParams(warmup_windows=5)), _stream([0.1] * 3 + [0.6] * 2)) == []


def test_channels_have_their_own_baselines() -> None:
    detector = NegativeSurgeDetector()
    loud = _stream([0.5] * 40, seed=5, channel="partner:acme")
    calm = _stream([0.1] * 30 + [0.5] * 10, seed=6, channel="app")
    alerts = _alerts(detector, [w for pair in zip(loud, calm, strict=True) for w in pair])
    assert [a["channel"] for a in alerts] == ["app"]


def test_state_round_trips_and_continues_identically() -> None:
    windows = _stream([0.1] * 25 + [0.5] * 5 + [0.1] * 10, seed=7)
    expected = _alerts(NegativeSurgeDetector(), windows)
    first = NegativeSurgeDetector()
    got = _alerts(first, windows[:27])
    restored = NegativeSurgeDetector.from_dict(json.loads(json.dumps(first.to_dict())))
    got += _alerts(restored, windows[27:])
    assert got == expected and len(expected) == 1


def test_windows_feed_the_detector_end_to_end() -> None:
    """Reviews through ChannelWindows into the detector: a burst of negative reviews alerts once."""
    rng = np.random.default_rng(8)
    windows, detector, alerts = ChannelWindows(60.0, allowed_lateness_s=2.0), NegativeSurgeDetector(), []
    for second in range(0, 40 * 60, 2):
        p_negative = 0.6 if 25 * 60 <= second < 28 * 60 else 0.1
        negative = rng.random() < p_negative
        obs = Observation.sentiment(
            "web",
            T0 + timedelta(seconds=second),
            "review",
            "negative" if negative else "positive",
            -0.7 if negative else 0.6,
        )
        alerts += [a for a in (detector.update(w) for w in windows.add(obs)) if a]
    alerts += [a for a in (detector.update(w) for w in windows.flush()) if a]
    assert [a["alert_id"] for a in alerts] == [alert_id("negative_sentiment_spike", "web", T0 + timedelta(minutes=25))]


def test_sensor_anomaly_alerts_once_per_episode() -> None:
    tracker = EpisodeTracker(cooldown=3)
    flags = [False, True, True, False, True, False, False, False, False, True]
    alerts = []
    for i, flag in enumerate(flags):
        alert = sensor_anomaly_alert(
            tracker,
            sensor_id="press-3",
            flag=flag,
            score=0.9 if flag else 0.1,
            value=70.0 + i,
            occurred_at=T0 + timedelta(minutes=5 * i),
            metric="temperature",
            channel="iot:plant-7",
        )
        if alert:
            alerts.append(alert)
    assert [a["raised_at"] for a in alerts] == [T0 + timedelta(minutes=5), T0 + timedelta(minutes=45)]
    first = alerts[0]
    assert first["kind"] == "sensor_anomaly" and first["sensor_id"] == "press-3"
    assert first["alert_id"] == f"sensor_anomaly:press-3:{(T0 + timedelta(minutes=5)).isoformat()}"
    assert "temperature reading 71" in first["detail"]
    Alert.model_validate(first)


def test_alert_ids_stay_within_128_characters() -> None:
    long_id = alert_id("sensor_anomaly", "s" * 128, T0)
    assert len(long_id) <= 128 and long_id == alert_id("sensor_anomaly", "s" * 128, T0)
    assert long_id != alert_id("sensor_anomaly", "s" * 127 + "t", T0)
