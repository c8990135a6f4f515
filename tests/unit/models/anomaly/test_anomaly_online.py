"""OnlineDetector: spikes and level shifts score high, calm noise and a learned daily cycle rarely
flag, batching changes nothing, time gaps count, the state is all there is; version 6's context
memory scores a transition never seen before, rests after it, and starts empty on a version-5 row;
version 7's context memory waits for days of readings, not only readings, is gated off while its
sensor keeps minting new transitions, and adopts a version-6 row.

Most tests exercise the novelty part alone (version 5: ``context_levels = 0``); the context memory
has its own tests below."""

from __future__ import annotations

import numpy as np
import pytest

from channelpulse.models.anomaly.online import STATE_FORMAT, ContextSlot, OnlineDetector, OnlineParams, Slot

STEP = 300.0  # 5-minute readings
DETECTOR = OnlineDetector(OnlineParams(context_levels=0))  # version 5: the novelty part alone
V6 = OnlineDetector(OnlineParams(context_warmup=576, context_warmup_days=0.0, context_rate_max=0.0))  # version 6
V7 = OnlineDetector()  # the defaults: version 7, version 6 with a warm-up in days and the novelty-rate gate
WARMUP = DETECTOR.params.warmup


def _noise(n: int, seed: int = 0, level: float = 10.0) -> np.ndarray:
    return level + np.random.default_rng(seed).normal(0.0, 1.0, n)


def _times(n: int, step: float = STEP) -> np.ndarray:
    return 1_700_000_000.0 + step * np.arange(n)


def _replay(values: np.ndarray, times: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """One sensor, one reading per call (as a worker with batches of one would send them)."""
    t = _times(len(values)) if times is None else times
    state = DETECTOR.new_state(1)
    scores, flags = DETECTOR.run(state, values[None, :], t[None, :])
    return scores[0], flags[0], state[0]


def test_a_spike_scores_high_and_is_flagged() -> None:
    values = _noise(1500)
    values[1200] += 15.0
    scores, flags, _ = _replay(values)
    assert flags[1200] and scores[1200] > 0.9
    assert scores[1200] > 20 * np.median(scores[WARMUP + 1 :])


def test_a_bigger_spike_scores_higher() -> None:
    results = []
    for height in (6.0, 10.0, 20.0):
        values = _noise(1500, seed=1)
        values[1200] += height
        results.append(_replay(values)[0][1200])
    assert results[0] < results[1] < results[2] < 1.0


def test_a_level_shift_is_flagged_within_a_few_readings() -> None:
    values = _noise(1600, seed=2)
    values[1200:] += 8.0
    _, flags, _ = _replay(values)
    assert not flags[1100:1200].any()
    assert flags[1200:1205].any()


def test_a_level_shift_after_a_much_bigger_spike_is_still_flagged() -> None:
    # a spike of 60 sd, then a shift of 12 sd 1,500 readings later (rds_cpu_utilization_e47b3b): the
    # spike widens the range envelope only 2-fold per reading, so it does not hide the shift
    values = _noise(3300, seed=4)
    values[1000] += 60.0
    values[2500:] += 12.0
    _, flags, _ = _replay(values)
    assert flags[1000] and flags[2500:2505].any()
    # version 2: the spike's range hides it
    unlimited = OnlineDetector(OnlineParams(range_growth=0.0, context_levels=0))
    _, old_flags = unlimited.run(unlimited.new_state(1), values[None, :], _times(len(values))[None, :])
    assert old_flags[0, 1000] and not old_flags[0, 2500:2505].any()


def _daily_spikes(days: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """5-minute readings with a one-reading spike of about 15 sd at 03:00 every day (height +-5 %)."""
    n = 288 * days
    values = _noise(n, seed=seed)
    rng = np.random.default_rng(seed + 100)
    at = np.arange(36, n, 288)  # _times starts at 22:13 UTC: reading 36 + 288 d is 01:13 each day
    values[at] += 15.0 * rng.uniform(0.95, 1.05, len(at))
    return values, at


V3 = OnlineDetector(OnlineParams(peak_decay=0.0, context_levels=0))  # version 3: no daily peak memory


def _replay_v3(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    scores, flags = V3.run(V3.new_state(1), values[None, :], _times(len(values))[None, :])
    return scores[0], flags[0]


def test_a_spike_that_recurs_daily_at_its_usual_height_stops_flagging() -> None:
    # ec2_cpu_utilization_24ae8d: the daily peak memory knows the spike's time of day; version 3's
    # range envelope alone decays between the spikes, so each day's spike is "beyond" it again
    values, at = _daily_spikes(12, seed=9)
    later = at[at > 288 * 4]  # 7 spikes
    assert _replay(values)[1][later].sum() <= 2
    assert _replay_v3(values)[1][later].sum() >= 5


def test_the_daily_peak_memory_leaves_other_times_of_day_and_far_higher_spikes_alone() -> None:
    values, at = _daily_spikes(12, seed=10)
    moved, higher = values.copy(), values.copy()
    elsewhere = 288 * 10 + 180  # 10:13, nine hours after the usual spike
    moved[elsewhere] += 15.0
    higher[at[10]] += 30.0  # three times the usual height at the usual time
    assert _replay(moved)[0][elsewhere] == _replay_v3(moved)[0][elsewhere] > 0.3  # scored, as version 3 does
    assert _replay(higher)[1][at[10]]


# version 4: a reading above the remembered peak is beyond it
V4 = OnlineDetector(OnlineParams(peak_tolerance=0.0, context_levels=0))


def test_a_daily_spike_a_few_percent_above_the_remembered_peak_is_not_novel() -> None:
    # ec2_cpu_utilization_c6585a: daily spikes of 1.4-1.6 over a flat series; a spike 1 % higher than
    # yesterday's, 3 % above its peak decayed by 0.98 a day, lies beyond that peak by more than the
    # noise's mean absolute deviation (version 4 flags it), but inside version 5's tolerance of 4 %
    values, at = _daily_spikes(12, seed=11)
    values[at] = 10.0 + 15.0 * 1.01 ** np.arange(len(at))  # each day's spike 1 % above the day before
    later = at[at > 288 * 4]
    v4_flags = V4.run(V4.new_state(1), values[None, :], _times(len(values))[None, :])[1][0]
    assert _replay(values)[1][later].sum() == 0
    assert v4_flags[later].sum() >= 5
    values[at[10]] = 10.0 + 15.0 * 1.01**9 * 1.3  # 30 % above yesterday's: novel again
    assert _replay(values)[1][at[10]]


def test_stationary_noise_rarely_flags() -> None:
    # a new largest surprise still turns up now and then (the envelope decays): ~0.2 % of readings
    _, flags, _ = _replay(_noise(5000, seed=3))
    assert flags.mean() < 0.005


def test_nothing_is_scored_while_warming_up() -> None:
    values = _noise(WARMUP + 50, seed=4)
    values[WARMUP // 2] += 50.0
    scores, flags, _ = _replay(values)
    assert not scores[:WARMUP].any() and not flags[:WARMUP].any()  # the first scored reading is the next


def test_a_learned_daily_cycle_is_not_flagged_but_a_break_from_it_is() -> None:
    n = 288 * 12  # 12 days of 5-minute readings
    hour = (np.arange(n) * STEP / 3600.0) % 24
    values = 50.0 + 30.0 * (hour >= 9) * (hour < 17) + np.random.default_rng(5).normal(0.0, 1.0, n)
    _, flags, _ = _replay(values)
    assert flags[288 * 8 :].sum() <= 4  # after a week the daily steps are expected (at most ~1 flag a day)
    broken = values.copy()
    broken[288 * 10 + 50] = 200.0  # far outside anything seen
    _, flags_broken, _ = _replay(broken)
    assert flags_broken[288 * 10 + 50]


def test_a_missing_daily_peak_inside_the_usual_range_is_flagged_by_the_seasonal_level() -> None:
    n = 288 * 12
    day = 2 * np.pi * (np.arange(n) * STEP / 86400.0)
    values = 50.0 + 20.0 * np.sin(day) + np.random.default_rng(6).normal(0.0, 1.0, n)
    flat = slice(288 * 10, 288 * 10 + 144)  # half a day held at the daily mean: no value out of range
    broken = values.copy()
    broken[flat] = 50.0 + np.random.default_rng(7).normal(0.0, 1.0, 144)
    _, flags, _ = _replay(values)
    _, flags_broken, _ = _replay(broken)
    assert flags_broken[flat].any() and not flags[flat].any()
    without_level = OnlineDetector(OnlineParams(level_gate=0.99, context_levels=0))  # the seasonality gate never opens
    state = without_level.new_state(1)
    assert not without_level.run(state, broken[None, :], _times(n)[None, :])[1][0, flat].any()


@pytest.mark.parametrize("detector", [DETECTOR, V6, V7], ids=["v5", "v6", "v7"])
def test_batching_and_row_order_change_nothing(detector: OnlineDetector) -> None:
    rng = np.random.default_rng(6)
    values = np.cumsum(rng.normal(size=(3, 700)), axis=1) + 100.0
    times = np.tile(_times(700), (3, 1))
    one_by_one = []
    for i in range(3):
        row = detector.new_state(1)
        one_by_one.append((detector.run(row, values[i : i + 1], times[i : i + 1])[0][0], row[0]))
    state = detector.new_state(3)
    chunks = [(0, 5), (5, 6), (6, 400), (400, 700)]  # several readings per request row, in order
    parts = [detector.run(state, values[:, a:b], times[:, a:b]) for a, b in chunks]
    scores = np.concatenate([s for s, _ in parts], axis=1)
    for i in range(3):
        np.testing.assert_array_equal(scores[i], one_by_one[i][0])
        np.testing.assert_array_equal(state[i], one_by_one[i][1])
    # padding cells (NaN time) are skipped: a row with fewer readings in a request is unaffected
    padded_state = detector.new_state(2)
    v = np.stack([values[0, :10], np.r_[values[1, :4], np.zeros(6)]])
    t = np.stack([times[0, :10], np.r_[times[1, :4], np.full(6, np.nan)]])
    s, _ = detector.run(padded_state, v, t)
    alone = detector.new_state(1)
    detector.run(alone, values[1:2, :4], times[1:2, :4])
    np.testing.assert_array_equal(padded_state[1], alone[0])
    assert not s[1, 4:].any()


def test_time_gaps_count_as_elapsed_readings() -> None:
    values = _noise(600, seed=7)
    regular = _replay(values)[2]
    times = _times(600)
    times[300:] += 50 * STEP  # a gap of 50 readings
    gapped = _replay(values, times)[2]
    assert gapped[Slot.TYPICAL_DT] == pytest.approx(regular[Slot.TYPICAL_DT], rel=0.2)
    assert gapped[Slot.SLOW] != regular[Slot.SLOW]  # the slow average forgot more across the gap
    # duplicate timestamps (dt = 0) and unordered ones do not break the detector
    times[100:110] = times[100]
    scores, _, state = _replay(values, times)
    assert np.isfinite(scores).all() and np.isfinite(state[: Slot.LOW + 1]).all()


def test_a_non_finite_value_scores_zero_and_leaves_the_state_usable() -> None:
    values = _noise(800, seed=8)
    values[500] = np.nan
    scores, flags, state = _replay(values)
    assert scores[500] == 0.0 and not flags[500]
    assert np.isfinite(scores).all() and state[Slot.COUNT] == 799


def test_adopt_keeps_valid_rows_and_restarts_others() -> None:
    state = DETECTOR.new_state(1)
    DETECTOR.run(state, _noise(50)[None, :], _times(50)[None, :])
    old_format = state.copy()
    old_format[0, Slot.FORMAT] = STATE_FORMAT - 1
    rows = np.vstack([state, old_format, np.zeros_like(state)])
    rows = np.pad(rows, ((0, 0), (0, 3)))  # right-padding (a wider row in the same request) is ignored
    adopted = DETECTOR.adopt(rows)
    np.testing.assert_array_equal(adopted[0], state[0])
    np.testing.assert_array_equal(adopted[1], DETECTOR.new_state(1)[0])
    np.testing.assert_array_equal(adopted[2], DETECTOR.new_state(1)[0])
    assert DETECTOR.adopt(np.zeros((2, 1))).shape == (2, DETECTOR.state_size)
    # a version 3 row (no daily peaks) is adopted with its peaks empty, so an upgrade keeps what it learned
    v3_row = V3.new_state(1)
    V3.run(v3_row, _noise(50)[None, :], _times(50)[None, :])
    upgraded = DETECTOR.adopt(v3_row)
    np.testing.assert_array_equal(upgraded[0, : V3.state_size], v3_row[0])
    assert np.isnan(upgraded[0, V3.state_size :]).all() and DETECTOR.state_size == V3.state_size + 96
    # a version 4 row has version 5's layout: adopted as is (an upgrade keeps everything learned)
    v4_row = V4.new_state(1)
    V4.run(v4_row, _noise(400)[None, :], _times(400)[None, :])
    np.testing.assert_array_equal(DETECTOR.adopt(v4_row), v4_row)


def test_params_reject_unknown_keys_and_bad_values() -> None:
    with pytest.raises(ValueError):
        OnlineParams.from_dict({"threshold": 0.5, "typo": 1})
    with pytest.raises(ValueError):
        OnlineParams(threshold=1.5)
    with pytest.raises(ValueError):
        OnlineParams(envelope_decay=1.0)
    for peak_decay in (1.0, -0.1):
        with pytest.raises(ValueError):
            OnlineParams(peak_decay=peak_decay)
    with pytest.raises(ValueError):
        OnlineParams(peak_tolerance=-0.01)
    for bad in (
        {"context_levels": 1},
        {"context_levels": -1},
        {"context_rest": -1},
        {"context_warmup": -1},
        {"context_warmup_days": -1.0},
        {"context_rate_max": -0.001},
        {"context_rate_decay": 1.0},
    ):
        with pytest.raises(ValueError):
            OnlineParams(**bad)


def _square(n: int) -> np.ndarray:
    """Alternating 0 and 10 (levels 0 and 5 of 6): only the transitions 0 -> 5 and 5 -> 0 are ever made."""
    return np.where(np.arange(n) % 2 == 0, 0.0, 10.0)


def _both(values: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Scores of version 6 and of its novelty part alone (version 5), and version 6's flags."""
    t = _times(len(values))[None, :]
    v6_scores, v6_flags = V6.run(V6.new_state(1), values[None, :], t)
    return v6_scores[0], DETECTOR.run(DETECTOR.new_state(1), values[None, :], t)[0][0], v6_flags[0]


def test_a_transition_never_seen_before_scores_one_then_the_context_score_rests() -> None:
    values = _square(1400)
    values[900] = 5.0  # level 3 after a 0: a transition the sensor never made (inside its range)
    values[960] = 5.0  # 60 readings later another new one (after a 0 again): resting, not scored
    values[1200] = 7.0  # 300 readings later (level 4): new, and the rest of 120 is over
    values[400] = 3.0  # new too, but before the context memory's warm-up (576 readings) ends
    v6, v5, flags = _both(values)
    assert v6[900] == 1.0 and flags[900]
    assert v6[960] == v5[960] and v6[1200] == 1.0 and flags[1200] and v6[400] == v5[400]
    # everything else is the novelty part's score: transitions seen before score 0 in the context part
    others = np.ones(len(values), dtype=bool)
    others[[900, 1200]] = False
    np.testing.assert_array_equal(v6[others], np.maximum(v5[others], 0.0))


def test_stationary_noise_rarely_flags_with_the_context_memory() -> None:
    # 36 transitions between 6 levels: a noisy sensor has made nearly all of them by its warm-up's end
    _, flags = V6.run(V6.new_state(1), _noise(5000, seed=3)[None, :], _times(5000)[None, :])
    assert flags.mean() < 0.005


def test_a_version_5_row_keeps_what_it_learned_and_starts_its_context_memory_empty() -> None:
    v5_row = DETECTOR.new_state(1)
    DETECTOR.run(v5_row, _square(400)[None, :], _times(400)[None, :])
    assert V6.state_size == DETECTOR.state_size + 5 + 36 == 418  # 3,344 bytes
    for given in (v5_row, np.pad(v5_row, ((0, 0), (0, V6.state_size - DETECTOR.state_size)))):  # zero-padded too
        upgraded = V6.adopt(given)
        np.testing.assert_array_equal(upgraded[0, : DETECTOR.state_size], v5_row[0])
        assert np.isnan(upgraded[0, V6.context0 :]).all()
    # after the upgrade the context memory scores only once it has seen a warm-up of readings itself
    state = V6.adopt(v5_row)
    warmup = V6.params.context_warmup
    values = _square(warmup + 20)
    values[5] = values[warmup + 10] = 5.0
    scores, _ = V6.run(state, values[None, :], _times(len(values), STEP)[None, :] + 400 * STEP)
    assert state[0, V6.context0 + ContextSlot.COUNT] == warmup + 20
    assert scores[0, 5] < 1.0 and scores[0, warmup + 10] == 1.0
    # a version 6 row is adopted as is
    np.testing.assert_array_equal(V6.adopt(state), state)


def _v7(values: np.ndarray, step: float = STEP, detector: OnlineDetector = V7) -> np.ndarray:
    return detector.run(detector.new_state(1), values[None, :], _times(len(values), step)[None, :])[0][0]


def test_version_7_context_memory_waits_for_days_of_readings() -> None:
    values = _square(1000)
    values[400] = 5.0  # a new transition after 400 readings: 33 hours of 5-minute readings, 400 of hourly ones
    values[900] = 7.0  # another, 75 hours of 5-minute readings (more than the 3 days)
    assert V7.params.context_warmup_days == 3.0 and V7.params.context_warmup == 288
    five_minutes, hourly = _v7(values), _v7(values, step=3600.0)
    assert five_minutes[400] < 1.0 and five_minutes[900] == 1.0
    assert hourly[400] == 1.0  # 288 readings and 3 days both passed


def test_version_7_gates_the_context_score_off_while_its_sensor_keeps_minting_new_transitions() -> None:
    values = _square(4200)
    values[900] = 5.0  # new on a sensor that made no new transition since its warm-up: scores
    # then a burst of 8 new transitions (levels 1 and 4 between 5s, 1 and 3 between 0s; inside the rest:
    # learned, not scored)
    values[[1000, 1008, 1017, 1025]] = [2.5, 7.5, 2.5, 5.5]
    values[1300] = 4.0  # new (level 2), after the rest: a bursty sensor, gated off (scored without the gate)
    values[4001] = 8.0  # new (level 4 between 0s), long after the burst: the rate has decayed, scored again
    v7, ungated = _v7(values), _v7(values, detector=OnlineDetector(OnlineParams(context_rate_max=0.0)))
    assert v7[900] == 1.0 and ungated[900] == 1.0
    assert ungated[1300] == 1.0 and v7[1300] < 1.0
    assert v7[4001] == 1.0
    state = V7.new_state(1)
    V7.run(state, values[None, :1300], _times(1300)[None, :])
    assert state[0, V7.rate_slot] >= V7.params.context_rate_max  # what gated it


def test_a_version_6_row_keeps_its_context_memory_in_version_7_and_back() -> None:
    v6_row = V6.new_state(1)
    V6.run(v6_row, _square(1000)[None, :], _times(1000)[None, :])  # 83 hours: past version 7's 3 days too
    assert V7.state_size == V6.state_size + 1 == 419  # the novelty rate: 3,352 bytes
    upgraded = V7.adopt(v6_row)
    np.testing.assert_array_equal(upgraded[0, : V6.state_size], v6_row[0])
    assert np.isnan(upgraded[0, V7.rate_slot])  # no rate yet: counts as 0
    values = _square(200)
    values[100] = 5.0
    scores, _ = V7.run(upgraded, values[None, :], _times(200)[None, :] + 1000 * STEP)
    assert scores[0, 100] == 1.0  # its context memory was warm: the new transition scores at once
    np.testing.assert_array_equal(V7.adopt(upgraded), upgraded)  # a version-7 row as is
    np.testing.assert_array_equal(V6.adopt(upgraded), upgraded[:, : V6.state_size])  # rollback to 6
