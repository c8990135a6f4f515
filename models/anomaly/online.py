"""Online sensor anomaly detector: constant memory and time per reading, vectorised over sensors.

Each sensor's whole memory is one float64 state row (:attr:`OnlineDetector.state_size` numbers, see
``Slot``); :meth:`OnlineDetector.step` scores one reading per row and updates the rows in place, so
a sensor's stream can be scored in any batching (one reading at a time, or many) with identical
results, and nothing but the state row has to persist between readings.

Method, per reading ``x`` at time ``t`` (seconds):

1. *Elapsed readings.* ``k = dt / typical_dt``, where ``typical_dt`` is a running median-like estimate
   of the sensor's own sampling interval; every exponential average below decays by
   ``(1 - alpha) ** k``, so irregular sampling and gaps are weighted by the time that passed.
2. *Predictors* (each with its own running mean absolute error, learned online):
   the last value, a fast EWMA, a slow EWMA, and a seasonal one: the slow EWMA plus the running mean
   deviation of the readings at the same hour of the day (``daily_bins`` bins of UTC time) and at the
   same hour of the week (``weekly_bins``). A reading's surprise is the *smallest* of the predictors'
   errors in units of their own typical error: it is unusual only when no predictor expected it (a
   daily peak is expected by the seasonal one, a new level after a shift soon by the EWMAs).
   Errors are capped (``error_cap``) before they update a typical error, so heavy tails do not blow
   up the scale; a heavy-tailed sensor has large typical errors and so needs a larger surprise.
3. *Novelty against the recent envelope.* ``envelope`` is a decaying maximum of the sensor's past
   surprises (it decays by ``envelope_decay`` per elapsed reading): a reading counts by how far its
   surprise exceeds the largest recent one, ``novel = max(surprise - envelope_margin * envelope, 0)``.
   So the first reading of a new kind of behaviour scores high, the same spike height recurring
   (or the readings right after an anomaly) do not. (An anomaly *likelihood* over the raw surprises,
   as NAB's HTM detector uses, was tried: it ranked worse on the development series, see
   docs/models.md.)
4. ``score = 1 - exp(-novel / raw_scale)`` in [0, 1), monotone in the novelty;
   ``is_anomaly = score >= threshold`` and more than ``refractory`` readings after the previous flag.

Scores are 0 during each sensor's first ``warmup`` readings. State rows start as :meth:`new_state`
(all learning starts from the first reading). ``STATE_FORMAT`` is stored in slot 0 so a row of
another layout is recognised and started afresh.
"""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass, fields
from enum import IntEnum
from pathlib import Path
from typing import Any

import numpy as np

STATE_FORMAT = 2.0
"""Layout version of a state row (slot 0). Version 1 of the model kept raw windows, not state rows."""

SECONDS_PER_DAY = 86400.0
SECONDS_PER_WEEK = 7 * SECONDS_PER_DAY


class Slot(IntEnum):
    """Scalar slots at the start of a state row (the seasonal bins follow)."""

    FORMAT = 0
    COUNT = 1  # readings seen
    LAST_T = 2
    TYPICAL_DT = 3
    LAST_X = 4
    FAST = 5
    SLOW = 6
    MAE_LAST = 7
    MAE_FAST = 8
    MAE_SLOW = 9
    MAE_SEASONAL = 10
    ENVELOPE = 11  # decaying maximum of past surprises
    SINCE_FLAG = 12  # readings since the last flag
    SCALE = 13  # running mean absolute deviation of the values around the slow EWMA


SCALARS = len(Slot)
PREDICTORS = 4


@dataclass(frozen=True)
class OnlineParams:
    """Parameters of :class:`OnlineDetector` (stored in the Triton version's meta.json)."""

    fast_alpha: float = 0.3
    slow_alpha: float = 0.005
    seasonal_alpha: float = 0.1
    error_alpha: float = 0.01
    dt_alpha: float = 0.05
    daily_bins: int = 24
    weekly_bins: int = 168
    error_cap: float = 10.0
    raw_scale: float = 3.0
    warmup: int = 150
    threshold: float = 0.5
    refractory: int = 0
    relative_floor: float = 1e-3
    envelope_decay: float = 0.99
    envelope_margin: float = 1.0

    def __post_init__(self) -> None:
        for name in ("fast_alpha", "slow_alpha", "seasonal_alpha", "error_alpha", "dt_alpha"):
            if not 0.0 < getattr(self, name) <= 1.0:
                raise ValueError(f"need 0 < {name} <= 1")
        if self.daily_bins < 1 or self.weekly_bins < 1:
            raise ValueError("need daily_bins >= 1 and weekly_bins >= 1")
        if not 0.0 < self.envelope_decay < 1.0 or self.envelope_margin < 0.0 or self.raw_scale <= 0.0:
            raise ValueError("need 0 < envelope_decay < 1, envelope_margin >= 0, raw_scale > 0")
        if not 0.0 < self.threshold <= 1.0 or self.warmup < 0 or self.refractory < 0:
            raise ValueError("need 0 < threshold <= 1, warmup >= 0, refractory >= 0")

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> OnlineParams:
        """Parameters from a dict; unknown keys are an error (a typo must not pass silently)."""
        known = {f.name for f in fields(cls)}
        unknown = set(data) - known
        if unknown:
            raise ValueError(f"unknown detector parameters: {sorted(unknown)}")
        return cls(**data)

    @classmethod
    def from_meta(cls, path: str | Path) -> OnlineParams:
        """The ``parameters`` of a Triton version's meta.json."""
        return cls.from_dict(json.loads(Path(path).read_text())["parameters"])


def _decay(alpha: float, k: np.ndarray) -> np.ndarray:
    """Weight of the new observation after ``k`` elapsed readings: ``1 - (1 - alpha) ** k``."""
    return -np.expm1(k * math.log1p(-alpha)) if alpha < 1.0 else np.ones_like(k)


class OnlineDetector:
    """``step(state [n, S], values [n], times [n]) -> (scores [n], flags [n])``, updating ``state``."""

    def __init__(self, params: OnlineParams | None = None) -> None:
        self.params = params or OnlineParams()
        self.daily0 = SCALARS
        self.weekly0 = SCALARS + self.params.daily_bins
        self.state_size = self.weekly0 + self.params.weekly_bins

    def new_state(self, n: int = 1) -> np.ndarray:
        """Fresh state rows (nothing learned yet)."""
        state = np.zeros((n, self.state_size), dtype=np.float64)
        state[:, Slot.FORMAT] = STATE_FORMAT
        state[:, self.daily0 :] = np.nan
        return state

    def adopt(self, rows: np.ndarray) -> np.ndarray:
        """``[n, state_size]`` working state from rows as a caller sends them (``[n, w]``, any
        ``w``, right-padded): a row whose first value is not :data:`STATE_FORMAT`, or that is too
        short, is a new sensor (or one in an older layout) and starts afresh."""
        given = np.asarray(rows, dtype=np.float64)
        state = self.new_state(len(given))
        if given.ndim == 2 and given.shape[1] >= self.state_size:
            keep = given[:, Slot.FORMAT] == STATE_FORMAT
            state[keep] = given[keep, : self.state_size]
        return state

    def run(self, state: np.ndarray, values: np.ndarray, times: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Several readings per row, in time order: ``values``/``times`` ``[n, k]`` (NaN time: no
        reading in that cell, e.g. padding). Returns scores and flags ``[n, k]`` (0 / False at padding)."""
        scores = np.zeros(values.shape, dtype=np.float64)
        flags = np.zeros(values.shape, dtype=bool)
        for j in range(values.shape[1]):
            present = np.isfinite(times[:, j])
            if present.all():
                scores[:, j], flags[:, j] = self.step(state, values[:, j], times[:, j])
            elif present.any():
                sub = state[present]
                s, f = self.step(sub, values[present, j], times[present, j])
                state[present] = sub
                scores[present, j], flags[present, j] = s, f
        return scores, flags

    def step(self, state: np.ndarray, values: np.ndarray, times: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Score one reading per row and update the rows in place. A non-finite value scores 0 and
        only advances the clock."""
        p = self.params
        x = np.asarray(values, dtype=np.float64)
        t = np.asarray(times, dtype=np.float64)
        s = state
        finite = np.isfinite(x)
        first = s[:, Slot.COUNT] == 0
        # 1. elapsed readings since the previous one, in units of the sensor's typical interval
        dt = np.where(first, 0.0, np.maximum(t - s[:, Slot.LAST_T], 0.0))
        typical = s[:, Slot.TYPICAL_DT]
        k = np.where(typical > 0, dt / np.where(typical > 0, typical, 1.0), 1.0)
        k = np.clip(k, 0.05, 1000.0)
        new_typical = np.where(
            typical > 0, typical + p.dt_alpha * (np.clip(dt, 0.5 * typical, 2.0 * typical) - typical), dt
        )
        s[:, Slot.TYPICAL_DT] = np.where(first | (dt <= 0), typical, new_typical)
        s[:, Slot.LAST_T] = np.where(first | (t > s[:, Slot.LAST_T]), t, s[:, Slot.LAST_T])
        xv = np.where(finite, x, 0.0)
        s[:, Slot.COUNT] += finite
        first_value = finite & (s[:, Slot.COUNT] == 1)
        seen = finite & ~first_value
        # 2. predictors and their errors in units of their own typical error
        daily = (np.floor((t % SECONDS_PER_DAY) / SECONDS_PER_DAY * p.daily_bins)).astype(np.int64)
        weekly = (np.floor((t % SECONDS_PER_WEEK) / SECONDS_PER_WEEK * p.weekly_bins)).astype(np.int64)
        daily = np.clip(daily, 0, p.daily_bins - 1) + self.daily0
        weekly = np.clip(weekly, 0, p.weekly_bins - 1) + self.weekly0
        rows = np.arange(len(s))
        dev_day = s[rows, daily]
        dev_week = s[rows, weekly]
        slow = s[:, Slot.SLOW]
        seasonal_dev = np.where(np.isfinite(dev_week), dev_week, np.where(np.isfinite(dev_day), dev_day, 0.0))
        preds = np.stack([s[:, Slot.LAST_X], s[:, Slot.FAST], slow, slow + seasonal_dev], axis=1)
        maes = s[:, Slot.MAE_LAST : Slot.MAE_LAST + PREDICTORS]
        floor = np.maximum(p.relative_floor * np.abs(slow), 1e-12)[:, None]
        floor = np.maximum(floor, 0.1 * s[:, Slot.SCALE][:, None])
        errors = np.abs(xv[:, None] - preds)
        units = errors / np.maximum(maes, floor)
        surprise = np.where(seen, units.min(axis=1), 0.0)
        # 3. novelty against the envelope of recent surprises, 4. score
        envelope = s[:, Slot.ENVELOPE]
        novel = np.maximum(surprise - p.envelope_margin * envelope, 0.0)
        score = -np.expm1(-novel / p.raw_scale)
        warm = seen & (s[:, Slot.COUNT] > p.warmup)
        score = np.where(warm, score, 0.0)
        since = s[:, Slot.SINCE_FLAG] + finite
        flags = warm & (score >= p.threshold) & (since > p.refractory)
        s[:, Slot.SINCE_FLAG] = np.where(flags, 0.0, since)
        # learn: the envelope, typical errors, predictors, seasonal deviations
        decay = np.exp(k * math.log(p.envelope_decay))
        s[:, Slot.ENVELOPE] = np.where(seen, np.maximum(envelope * decay, surprise), envelope)
        a_err = p.error_alpha
        capped = np.minimum(errors, p.error_cap * np.maximum(maes, floor))
        fresh_mae = (maes == 0) & seen[:, None]
        new_maes = np.where(fresh_mae, errors, maes + a_err * (capped - maes))
        s[:, Slot.MAE_LAST : Slot.MAE_LAST + PREDICTORS] = np.where(seen[:, None], new_maes, maes)
        a_fast = _decay(p.fast_alpha, k)
        a_slow = _decay(p.slow_alpha, k)
        s[:, Slot.FAST] = np.where(
            first_value, xv, np.where(seen, s[:, Slot.FAST] + a_fast * (xv - s[:, Slot.FAST]), s[:, Slot.FAST])
        )
        new_slow = np.where(first_value, xv, np.where(seen, slow + a_slow * (xv - slow), slow))
        s[:, Slot.SCALE] = np.where(
            seen, s[:, Slot.SCALE] + a_err * (np.abs(xv - slow) - s[:, Slot.SCALE]), s[:, Slot.SCALE]
        )
        s[:, Slot.SLOW] = new_slow
        s[:, Slot.LAST_X] = np.where(finite, xv, s[:, Slot.LAST_X])
        deviation = xv - new_slow
        for col, old in ((daily, dev_day), (weekly, dev_week)):
            updated = np.where(np.isfinite(old), old + p.seasonal_alpha * (deviation - old), deviation)
            s[rows, col] = np.where(finite, updated, old)
        return score.astype(np.float32), flags
