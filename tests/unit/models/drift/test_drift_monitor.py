from __future__ import annotations

import numpy as np
import pytest

from channelpulse.models.drift import DriftMonitor, ReferenceProfile, TriggerPolicy

DIM = 16


def _stream(rng: np.random.Generator, n: int, shift: float = 0.0) -> tuple[np.ndarray, np.ndarray]:
    x = rng.standard_normal((n, DIM))
    x[:, :4] += shift
    logits = 1.5 * x[:, :3]
    return np.exp(logits) / np.exp(logits).sum(1, keepdims=True), x


@pytest.fixture(scope="module")
def reference() -> ReferenceProfile:
    return ReferenceProfile.build(*_stream(np.random.default_rng(0), 20_000), ["a", "b", "c"])


def _feed(monitor: DriftMonitor, rng: np.random.Generator, n: int, shift: float = 0.0, batch: int = 64) -> list:
    reports = []
    for _ in range(n // batch):
        reports += monitor.observe_all(*_stream(rng, batch, shift))
    return reports


def test_windows_complete_every_step_rows(reference: ReferenceProfile) -> None:
    rng = np.random.default_rng(1)
    monitor = DriftMonitor(reference, window=100, step=50)
    assert monitor.observe(*_stream(rng, 99)) is None
    report = monitor.observe(*_stream(rng, 1))
    assert report is not None and report.events_seen == 100 and report.statistics.size == 100
    reports = monitor.observe_all(*_stream(rng, 160))  # rows 101..260: windows end at 150, 200, 250
    assert [r.events_seen for r in reports] == [150, 200, 250]
    assert [r.window_index for r in reports] == [1, 2, 3]


@pytest.mark.parametrize("window", [200, 5000])
def test_stationary_stream_rarely_flags_whatever_the_window(reference: ReferenceProfile, window: int) -> None:
    rng = np.random.default_rng(window)
    monitor = DriftMonitor(reference, window=window, alpha=0.01, policy=TriggerPolicy(consecutive=3))
    reports = _feed(monitor, rng, 60 * window, batch=max(64, window // 10))
    assert len(reports) >= 55
    assert sum(r.drifted for r in reports) <= 3  # expected 0.6 at alpha = 0.01
    assert not any(r.should_retrain for r in reports)
    p_values = np.array([r.statistics.p_value for r in reports])
    assert np.median(p_values) > 0.3


def test_sustained_shift_triggers_once_per_cooldown_then_clears(reference: ReferenceProfile) -> None:
    rng = np.random.default_rng(4)
    clock = [0.0]
    policy = TriggerPolicy(consecutive=3, cooldown_s=3600, rearm_windows=2)
    monitor = DriftMonitor(reference, window=200, policy=policy, model="m", clock=lambda: clock[0])
    before = _feed(monitor, rng, 2000)
    after = _feed(monitor, rng, 8000, shift=0.5)
    assert not any(r.should_retrain for r in before)
    fired = [r for r in after if r.should_retrain]
    assert len(fired) == 1 and fired[0].model == "m" and fired[0].episode == 1
    assert all(r.drifted for r in after[2:])  # a strong shift: every full window after the switch
    delay = fired[0].events_seen - 2000
    assert 3 * 200 <= delay <= 4 * 200  # 3 windows, the first possibly straddling the switch
    assert after[-1].state == "cooldown"
    clock[0] = 3600.0  # the cooldown is over and the shift is still in force: the timer asks again
    reminder = monitor.tick()
    assert reminder is not None and reminder.kind == "reminder" and reminder.episode.number == 1
    back = _feed(monitor, rng, 1600)  # the stream is back to the reference, inside the new cooldown
    assert not any(r.should_retrain for r in back) and all(r.clear for r in back[-2:])
    clock[0] = 7200.0
    assert monitor.tick() is None  # the cooldown ends on clear windows: the episode is closed
    assert monitor.trigger.state.value == "armed" and monitor.trigger.episode is None


def test_prediction_only_and_input_only_shifts_are_both_seen(reference: ReferenceProfile) -> None:
    rng = np.random.default_rng(5)
    monitor = DriftMonitor(reference, window=1000)
    p, x = _stream(rng, 1000)
    inputs_moved = monitor.observe(p, x + np.r_[np.zeros(DIM - 4), np.full(4, 0.5)])
    assert inputs_moved is not None and inputs_moved.drifted
    assert inputs_moved.statistics.input_p < 0.01 < inputs_moved.statistics.prediction_p
    p, x = _stream(rng, 1000)
    biased = p * np.array([1.6, 1.0, 1.0])  # the model now favours class a on the same inputs
    preds_moved = monitor.observe(biased / biased.sum(1, keepdims=True), x)
    assert preds_moved is not None and preds_moved.drifted
    assert preds_moved.statistics.prediction_p < 0.01 < preds_moved.statistics.input_p


def test_new_reference_rearms_and_empties_the_window(reference: ReferenceProfile) -> None:
    rng = np.random.default_rng(6)
    monitor = DriftMonitor(reference, window=200, policy=TriggerPolicy(consecutive=1, cooldown_s=3600))
    assert any(r.should_retrain for r in _feed(monitor, rng, 640, shift=1.0))
    shifted = ReferenceProfile.build(*_stream(rng, 20_000, shift=1.0), ["a", "b", "c"])
    monitor.set_reference(shifted)
    assert monitor.trigger.state.value == "armed"
    assert monitor.observe(*_stream(rng, 150, shift=1.0)) is None
    reports = _feed(monitor, rng, 3200, shift=1.0)
    assert not any(r.drifted for r in reports[1:])


def test_rejects_bad_shapes_and_settings(reference: ReferenceProfile) -> None:
    monitor = DriftMonitor(reference, window=100)
    with pytest.raises(ValueError):
        monitor.observe(np.ones((5, 2)), np.ones((5, DIM)))
    with pytest.raises(ValueError):
        monitor.observe(np.ones((5, 3)) / 3, np.ones((4, DIM)))
    with pytest.raises(ValueError):
        DriftMonitor(reference, window=100, step=101)
    with pytest.raises(ValueError):
        DriftMonitor(reference, alpha=0.2, clear_alpha=0.1)


def test_sensor_values_are_monitored_on_their_own_scale() -> None:
    """Sensors: probs = [1 - score, score] of the anomaly model, features = the raw values [n, 1]."""
    rng = np.random.default_rng(8)

    def readings(n: int, level: float) -> tuple[np.ndarray, np.ndarray]:
        values = rng.normal(level, 2.0, size=(n, 1))
        score = rng.beta(1, 20, size=n)
        return np.column_stack([1 - score, score]), values

    reference = ReferenceProfile.build(*readings(5000, 70.0), ["normal", "anomalous"])
    assert reference.num_projections == 1
    monitor = DriftMonitor(reference, window=288, policy=TriggerPolicy(consecutive=2))
    steady = [monitor.observe(*readings(288, 70.0)) for _ in range(10)]
    assert sum(r.drifted for r in steady if r is not None) <= 1
    shifted = [monitor.observe(*readings(288, 71.5)) for _ in range(3)]
    assert all(r is not None and r.statistics.input_p < 1e-6 for r in shifted)
    assert [r.should_retrain for r in shifted if r is not None] == [False, True, False]
