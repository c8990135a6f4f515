"""Online sensor anomaly detector: constant memory and time per reading, vectorised over sensors.

Each sensor's whole memory is one float64 state row (:attr:`OnlineDetector.state_size` numbers: the
scalars of ``Slot``, the seasonal bins, from version 4 on the daily peaks,
from version 6 on the context memory, from version 7 on its novelty rate); :meth:`OnlineDetector.step`
scores one reading per row and updates the rows in place, so a sensor's stream scores the same in
any batching (one reading at a time or many), and nothing but the state row persists between
readings. It learns each sensor's
normal from that sensor's own readings (no labels, no offline fit).

Per reading ``x`` at time ``t`` (seconds since the epoch):

1. *Elapsed readings.* ``k = dt / typical_dt``: the time since the previous reading in units of the
   sensor's own typical interval (a running estimate). Every exponential average below decays by
   ``(1 - alpha) ** k``, so irregular sampling and gaps count by the time that passed.
2. *Surprise.* Four predictors, each with its running mean absolute error (learned online, errors
   capped at ``error_cap`` typical errors so heavy tails do not inflate it): the last value, a fast
   EWMA, a slow EWMA, and a seasonal one (the slow EWMA plus the running mean deviation at the same
   hour of the week, or, until that bin has data, at the same time of day: ``daily_bins``). The
   surprise is the *smallest* error in units of that predictor's typical error: a reading is
   surprising only when no predictor expected it (a daily peak is expected by the seasonal one, the
   new level after a shift soon by the EWMAs). It is capped at ``max_surprise`` (a sensor flat to
   the last digit has a typical error near 0, and any change is then "infinitely" surprising).
3. *Novelty.* Two decaying envelopes of what the sensor did recently: the largest recent surprise
   (decays by ``envelope_decay`` per reading) and the widest recent deviation above and below the
   slow EWMA (``range_decay``, slower). ``novel = min(max(surprise - envelope_margin * envelope, 0),
   range_scale * beyond)``, where ``beyond`` is how far the reading lies outside the recent range in
   units of the sensor's mean absolute deviation. So the first reading of a new kind of behaviour
   scores, recurring spikes of the usual height, the readings right after an anomaly and excursions
   within the range seen recently do not. Once warm, one reading widens the range envelope to at
   most ``range_growth`` times its decayed width plus ``range_step`` mean absolute deviations: a
   single huge spike does not hide every smaller anomaly for thousands of readings (a later level
   shift of half its height, say), while behaviour that recurs still widens it within a few
   readings. ``range_growth = 0`` leaves the growth unlimited (version 2 of the model).
   *Daily peak memory* (``peak_decay > 0``, version 4): per time-of-day bin (``daily_bins``) the
   largest absolute deviation from the slow EWMA seen there, every peak decaying by ``peak_decay``
   per day of elapsed time; ``beyond`` is at most how far the reading exceeds the largest peak of its
   bin and the two beside it. A spike that recurs at about the same time every day at about its
   usual height is then no longer beyond the range each time the range envelope has decayed since
   the day before; at other times of day, or far higher, it scores as before. ``peak_decay = 0``
   turns it off (versions 2 and 3; their rows have no peak bins). *Peak tolerance*
   (``peak_tolerance``, version 5): a reading up to that fraction above the remembered peak is not
   beyond it either (a daily spike varies in height by a few percent: many mean absolute deviations
   of the flat series between the spikes). ``peak_tolerance = 0``: version 4.
4. ``score = novel / (novel + half_novelty)`` in [0, 1), monotone in the novelty (and far from
   saturating in float32); ``is_anomaly = score >= threshold``.
5. *Context novelty* (``context_levels > 0``, version 6, in the spirit of CAD OSE's contexts):
   each reading is quantised into ``context_levels`` equal levels of the range the sensor has
   covered so far (its running minimum and maximum), and the transition from the previous
   reading's level to this one's is the reading's context. A transition never seen before on
   this sensor scores 1 (the most unusual: the sensor does something it never did), a seen one 0;
   ``score`` is the larger of the two. The memory is bounded by construction: one seen-flag per
   pair of levels (``context_levels ** 2`` values). After a novel transition the context score
   rests for ``context_rest`` readings (new transitions are still learned, not scored: one new
   kind of behaviour gives one context score). It scores only after ``context_warmup`` readings
   counted from when its context memory started (a row from version 5 adopted by version 6 starts
   the context memory empty and waits that long again): a new sensor has not yet made most of its
   usual transitions when the rest of the detector is warm. From version 7 it also waits until
   those readings cover ``context_warmup_days`` days (context count times the typical interval:
   a sensor's daily round of transitions needs a day or two of time, not of readings; 0: no
   such wait, versions 2-6). *Novelty-rate gate* (``context_rate_max > 0``, version 7): the rate
   of new transitions once the context warm-up in readings is over, an exponential average
   (``context_rate_decay`` per reading) of 1 per new transition, scored or not; a new transition
   scores only while the rate before it is below ``context_rate_max``. A sensor that keeps
   minting new transitions is bursty, and its context novelty means little; on a sensor that
   rarely does, it means a lot. The rate is one more value at the end of the row (a version-6
   row is adopted with its context memory and a rate of 0).
   ``context_levels = 0`` turns it off (versions 2-5; their rows have no context slots).

Scores are 0 during each sensor's first ``warmup`` readings. The surprise envelope learns from
reading ``envelope_start`` on (the first readings' surprises are unreliable: the typical errors are
still being learned), so a new sensor does not flag a burst of "novel" readings as soon as it is
warm; the range envelope learns from then on too, with deviations capped at ``range_init`` mean
absolute deviations until the warm-up ends (the slow EWMA it is measured from has not settled). State rows start
as :meth:`new_state`; slot 0 holds ``STATE_FORMAT`` so a row of another layout (or a new sensor's
empty row) is recognised by :meth:`adopt` and starts afresh; a row without the daily peaks (version 3)
is adopted with its peaks empty, a row without the context slots (version 5) with its context
memory empty, and a row without the novelty rate (version 6) with a rate of 0.
"""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass, fields
from enum import IntEnum
from pathlib import Path
from typing import Any

import numpy as np

STATE_FORMAT = 3.0
"""Layout version of a state row (slot 0): 3 added the seasonal-level slots (format 2 rows start afresh).
Version 1 of the model kept raw windows, not state rows."""

SECONDS_PER_DAY = 86400.0
SECONDS_PER_WEEK = 7 * SECONDS_PER_DAY


class Slot(IntEnum):
    """Scalar slots at the start of a state row (the daily, then the weekly bins follow, then the
    daily peaks when ``peak_decay > 0``)."""

    FORMAT = 0
    COUNT = 1  # finite readings seen
    LAST_T = 2
    TYPICAL_DT = 3
    LAST_X = 4
    FAST = 5
    SLOW = 6
    MAE_LAST = 7  # the predictors' typical errors: last value, fast, slow, seasonal
    MAE_FAST = 8
    MAE_SLOW = 9
    MAE_SEASONAL = 10
    SCALE = 11  # running mean absolute deviation of the values around the slow EWMA
    ENVELOPE = 12  # decaying maximum of recent surprises
    HIGH = 13  # decaying maximum of recent deviations above the slow EWMA
    LOW = 14  # ... and below it
    LEVEL = 15  # EWMA of the residual from the seasonal (time-of-day) prediction
    LEVEL_MAE = 16  # its running mean absolute value


class ContextSlot(IntEnum):
    """Scalars of the context memory (version 6), after the daily peaks; the seen-flags of the
    ``context_levels ** 2`` transitions follow (NaN or 0: not seen, 1: seen)."""

    COUNT = 0  # finite readings seen by the context memory
    LOW = 1  # running minimum of the values
    HIGH = 2  # running maximum
    LAST = 3  # level of the previous reading (NaN: none yet)
    LAST_NOVEL = 4  # context count at the last scored novel transition (NaN: none)


CONTEXT_SCALARS = len(ContextSlot)
SCALARS = len(Slot)
LEVEL_GATE_WIDTH = 0.2
"""Seasonality strength above ``level_gate`` at which the seasonal-level score counts fully."""
PREDICTORS = 4


@dataclass(frozen=True)
class OnlineParams:
    """Parameters of :class:`OnlineDetector` (stored in the Triton version's meta.json).

    The defaults were tuned on the 23 real NAB development series (../shared/data/sensors/nab_real,
    NAB standard profile); see docs/models.md.
    """

    fast_alpha: float = 0.6
    slow_alpha: float = 0.002
    seasonal_alpha: float = 0.1
    error_alpha: float = 0.01
    dt_alpha: float = 0.05
    daily_bins: int = 96
    weekly_bins: int = 168
    error_cap: float = 10.0
    max_surprise: float = 1e6
    relative_floor: float = 1e-3
    envelope_decay: float = 0.99
    envelope_margin: float = 1.2
    range_decay: float = 0.9995
    range_scale: float = 2.0
    range_growth: float = 2.0
    range_step: float = 3.0
    peak_decay: float = 0.98
    peak_tolerance: float = 0.04
    half_novelty: float = 0.38
    warmup: int = 288
    envelope_start: int = 144
    range_init: float = 3.0
    level_alpha: float = 0.05
    level_gate: float = 0.6
    level_z0: float = 4.0
    level_half: float = 0.5
    context_levels: int = 6
    context_rest: int = 120
    context_warmup: int = 288
    context_warmup_days: float = 3.0
    context_rate_decay: float = 0.999
    context_rate_max: float = 0.003
    threshold: float = 0.6

    def __post_init__(self) -> None:
        for name in ("fast_alpha", "slow_alpha", "seasonal_alpha", "error_alpha", "dt_alpha", "level_alpha"):
            if not 0.0 < getattr(self, name) <= 1.0:
                raise ValueError(f"need 0 < {name} <= 1")
        if not (0.0 < self.envelope_decay < 1.0 and 0.0 < self.range_decay < 1.0):
            raise ValueError("need 0 < envelope_decay, range_decay < 1")
        if self.daily_bins < 1 or self.weekly_bins < 1 or not 0 <= self.envelope_start <= self.warmup:
            raise ValueError("need daily_bins >= 1, weekly_bins >= 1 and 0 <= envelope_start <= warmup")
        if min(self.envelope_margin, self.range_scale, self.range_init, self.half_novelty, self.error_cap) <= 0.0:
            raise ValueError("need envelope_margin, range_scale, range_init, half_novelty and error_cap > 0")
        if not 0.0 <= self.level_gate < 1.0 or self.level_z0 < 0.0 or self.level_half <= 0.0:
            raise ValueError("need 0 <= level_gate < 1, level_z0 >= 0 and level_half > 0")
        if not (self.range_growth == 0.0 or self.range_growth >= 1.0) or self.range_step < 0.0:
            raise ValueError("need range_growth 0 (unlimited) or >= 1 and range_step >= 0")
        if not 0.0 <= self.peak_decay < 1.0:
            raise ValueError("need 0 <= peak_decay < 1 (0: no daily peak memory)")
        if self.peak_tolerance < 0.0:
            raise ValueError("need peak_tolerance >= 0")
        if self.context_levels < 0 or self.context_levels == 1 or min(self.context_rest, self.context_warmup) < 0:
            raise ValueError("need context_levels 0 (off) or >= 2 and context_rest, context_warmup >= 0")
        if not 0.0 < self.context_rate_decay < 1.0 or min(self.context_rate_max, self.context_warmup_days) < 0.0:
            raise ValueError(
                "need 0 < context_rate_decay < 1, context_rate_max >= 0 (0: no novelty-rate gate) "
                "and context_warmup_days >= 0"
            )
        if not 0.0 < self.threshold < 1.0:
            raise ValueError("need 0 < threshold < 1")

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


def _weight(alpha: float, k: np.ndarray) -> np.ndarray:
    """Weight of a new observation after ``k`` elapsed readings: ``1 - (1 - alpha) ** k``."""
    return -np.expm1(k * math.log1p(-alpha)) if alpha < 1.0 else np.ones_like(k)


def _ewma(old: np.ndarray, new: np.ndarray, weight: np.ndarray | float, where: np.ndarray) -> np.ndarray:
    return np.where(where, old + weight * (new - old), old)


class OnlineDetector:
    """``run(state [n, S], values [n, k], times [n, k]) -> (scores, flags)``, updating ``state``."""

    def __init__(self, params: OnlineParams | None = None) -> None:
        self.params = params or OnlineParams()
        self.daily0 = SCALARS
        self.weekly0 = SCALARS + self.params.daily_bins
        self.peak0 = self.weekly0 + self.params.weekly_bins
        self.context0 = self.peak0 + (self.params.daily_bins if self.params.peak_decay > 0.0 else 0)
        levels = self.params.context_levels
        self.rate_slot = self.context0 + CONTEXT_SCALARS + levels * levels
        gated = levels > 0 and self.params.context_rate_max > 0.0
        self.state_size = self.context0 + (CONTEXT_SCALARS + levels * levels + int(gated) if levels > 0 else 0)

    def new_state(self, n: int = 1) -> np.ndarray:
        """Fresh state rows (nothing learned yet; seasonal bins NaN until their first reading)."""
        state = np.zeros((n, self.state_size), dtype=np.float64)
        state[:, Slot.FORMAT] = STATE_FORMAT
        state[:, self.daily0 :] = np.nan
        return state

    def adopt(self, rows: np.ndarray) -> np.ndarray:
        """``[n, state_size]`` working state from rows as a caller sends them (``[n, w]``, any
        ``w``, right-padded): a row whose first value is not :data:`STATE_FORMAT`, or that is
        shorter than the scalars and seasonal bins, is a new sensor (or one in an older layout) and
        starts afresh; a row that lacks the daily peaks or the context memory (or part of them) keeps
        them empty (a context memory that counted no reading, e.g. zero padding, starts empty)."""
        given = np.asarray(rows, dtype=np.float64)
        state = self.new_state(len(given))
        if given.ndim == 2 and given.shape[1] >= self.peak0:
            keep = given[:, Slot.FORMAT] == STATE_FORMAT
            width = min(given.shape[1], self.state_size)
            state[keep, :width] = given[keep, :width]
        if self.params.context_levels > 0:
            # a row without the context memory, or right-padded with zeros there (a version-5 row
            # beside a version-6 one in a request), has no context reading counted: fresh memory
            unused = ~(state[:, self.context0 + ContextSlot.COUNT] > 0)
            state[unused, self.context0 :] = np.nan
        return state

    @staticmethod
    def _bin(t: np.ndarray, period: float, bins: int) -> np.ndarray:
        """The bin of each time within its period (floored before any offset is added)."""
        return np.clip(np.floor((t % period) / period * bins), 0, bins - 1).astype(np.int64)

    def _beyond_daily_peak(
        self, s: np.ndarray, size: np.ndarray, unit: np.ndarray, t: np.ndarray, dt: np.ndarray, learn: np.ndarray
    ) -> np.ndarray:
        """How far ``size`` (the reading's absolute deviation) exceeds the daily peak memory at its time
        of day (its bin and the two beside it) widened by ``peak_tolerance`` of its height, in units of
        ``unit``; decays every peak by
        ``peak_decay ** (dt / day)`` first and records ``size`` in its bin's peak where ``learn``."""
        p = self.params
        rows = np.arange(len(s))
        peaks = s[:, self.peak0 : self.peak0 + p.daily_bins]
        peaks *= np.exp((dt / SECONDS_PER_DAY) * math.log(p.peak_decay))[:, None]
        day_bin = self._bin(t, SECONDS_PER_DAY, p.daily_bins)
        near = np.stack([peaks[rows, (day_bin + o) % p.daily_bins] for o in (-1, 0, 1)], axis=1)
        peak = np.nan_to_num(near, nan=0.0).max(axis=1)
        beyond = np.maximum(size - (1.0 + p.peak_tolerance) * peak, 0.0) / unit
        peaks[rows, day_bin] = np.where(learn, np.fmax(near[:, 1], size), near[:, 1])
        return beyond

    def _context_novelty(self, s: np.ndarray, x: np.ndarray, finite: np.ndarray) -> np.ndarray:
        """1 where the reading's transition between quantised levels is new on its sensor and the
        context memory is warm and not resting, else 0; learns the transition (finite readings)."""
        p = self.params
        levels = p.context_levels
        c0 = self.context0
        count = np.nan_to_num(s[:, c0 + ContextSlot.COUNT]) + finite
        low = np.where(finite, np.fmin(s[:, c0 + ContextSlot.LOW], x), s[:, c0 + ContextSlot.LOW])
        high = np.where(finite, np.fmax(s[:, c0 + ContextSlot.HIGH], x), s[:, c0 + ContextSlot.HIGH])
        span = high - low
        position = np.where(span > 0, (x - low) / np.where(span > 0, span, 1.0), 0.0)
        level = np.clip(np.floor(np.nan_to_num(position) * levels), 0, levels - 1)
        last = s[:, c0 + ContextSlot.LAST]
        known = finite & np.isfinite(last)
        col = c0 + CONTEXT_SCALARS + (np.nan_to_num(last) * levels + level).astype(np.int64)
        rows = np.arange(len(s))
        unseen = known & (s[rows, col] != 1.0)
        covered = count * s[:, Slot.TYPICAL_DT]  # seconds of readings the context memory has seen
        minted = unseen & (count > p.context_warmup)
        novel = minted & (covered >= p.context_warmup_days * SECONDS_PER_DAY)
        since = count - s[:, c0 + ContextSlot.LAST_NOVEL]
        scored = novel & ~(since <= p.context_rest)  # NaN (no novel transition yet): not resting
        if p.context_rate_max > 0.0:
            rate = np.nan_to_num(s[:, self.rate_slot])
            scored &= rate < p.context_rate_max
            new_rate = rate * p.context_rate_decay + (1.0 - p.context_rate_decay) * minted
            s[:, self.rate_slot] = np.where(finite, new_rate, rate)
        s[rows, col] = np.where(known, 1.0, s[rows, col])
        s[:, c0 + ContextSlot.LAST_NOVEL] = np.where(novel, count, s[:, c0 + ContextSlot.LAST_NOVEL])
        s[:, c0 + ContextSlot.COUNT] = count
        s[:, c0 + ContextSlot.LOW] = low
        s[:, c0 + ContextSlot.HIGH] = high
        s[:, c0 + ContextSlot.LAST] = np.where(finite, level, last)
        return scored.astype(np.float64)

    def run(self, state: np.ndarray, values: np.ndarray, times: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Several readings per row, in time order: ``values``/``times`` ``[n, k]`` (NaN time: no
        reading in that cell, e.g. padding). Returns scores and flags ``[n, k]`` (0 / False at padding)."""
        scores = np.zeros(values.shape, dtype=np.float32)
        flags = np.zeros(values.shape, dtype=bool)
        for j in range(values.shape[1]):
            present = np.isfinite(times[:, j])
            if present.all():
                scores[:, j], flags[:, j] = self.step(state, values[:, j], times[:, j])
            elif present.any():
                sub = state[present]
                scores[present, j], flags[present, j] = self.step(sub, values[present, j], times[present, j])
                state[present] = sub
        return scores, flags

    def step(self, state: np.ndarray, values: np.ndarray, times: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Score one reading per row (finite times) and update the rows in place. A non-finite value
        scores 0 and only advances the clock."""
        p = self.params
        s = state
        x = np.asarray(values, dtype=np.float64)
        t = np.asarray(times, dtype=np.float64)
        finite = np.isfinite(x)
        first = s[:, Slot.COUNT] == 0
        # 1. elapsed readings, in units of the sensor's typical interval
        dt = np.where(first, 0.0, np.maximum(t - s[:, Slot.LAST_T], 0.0))
        typical = s[:, Slot.TYPICAL_DT]
        k = np.clip(np.where(typical > 0, dt / np.where(typical > 0, typical, 1.0), 1.0), 0.05, 1000.0)
        learned_dt = np.where(
            typical > 0, typical + p.dt_alpha * (np.clip(dt, 0.5 * typical, 2.0 * typical) - typical), dt
        )
        s[:, Slot.TYPICAL_DT] = np.where(first | (dt <= 0), typical, learned_dt)
        s[:, Slot.LAST_T] = np.where(first | (t > s[:, Slot.LAST_T]), t, s[:, Slot.LAST_T])
        xv = np.where(finite, x, 0.0)
        s[:, Slot.COUNT] += finite
        first_value = finite & (s[:, Slot.COUNT] == 1)
        seen = finite & ~first_value
        warm = seen & (s[:, Slot.COUNT] > p.warmup)
        settled = seen & (s[:, Slot.COUNT] > p.envelope_start)
        # 2. surprise: the best predictor's error in units of its typical error
        rows = np.arange(len(s))
        daily_col = self.daily0 + self._bin(t, SECONDS_PER_DAY, p.daily_bins)
        weekly_col = self.weekly0 + self._bin(t, SECONDS_PER_WEEK, p.weekly_bins)
        dev_day, dev_week = s[rows, daily_col], s[rows, weekly_col]
        slow = s[:, Slot.SLOW]
        seasonal = np.where(np.isfinite(dev_week), dev_week, np.where(np.isfinite(dev_day), dev_day, 0.0))
        predictions = np.stack([s[:, Slot.LAST_X], s[:, Slot.FAST], slow, slow + seasonal], axis=1)
        maes = s[:, Slot.MAE_LAST : Slot.MAE_LAST + PREDICTORS]
        floor = np.maximum(np.maximum(p.relative_floor * np.abs(slow), 1e-12), 0.1 * s[:, Slot.SCALE])
        errors = np.abs(xv[:, None] - predictions)
        units = (errors / np.maximum(maes, floor[:, None])).min(axis=1)
        surprise = np.where(seen, np.minimum(units, p.max_surprise), 0.0)
        # 3. novelty against the recent envelopes, 4. score
        envelope = s[:, Slot.ENVELOPE]
        deviation = xv - slow
        unit = np.maximum(s[:, Slot.SCALE], floor)
        beyond = np.maximum(np.maximum(deviation - s[:, Slot.HIGH], -deviation - s[:, Slot.LOW]), 0.0) / unit
        if p.peak_decay > 0.0:
            beyond = np.minimum(beyond, self._beyond_daily_peak(s, np.abs(deviation), unit, t, dt, warm))
        novel = np.minimum(np.maximum(surprise - p.envelope_margin * envelope, 0.0), p.range_scale * beyond)
        # 5. seasonal level: the smoothed residual from the time-of-day prediction, counted only on
        # sensors whose time of day explains them (seasonal error well below the slow EWMA's)
        residual = xv - (slow + np.where(np.isfinite(dev_day), dev_day, 0.0))
        level_mae = s[:, Slot.LEVEL_MAE]
        level = _ewma(s[:, Slot.LEVEL], residual, _weight(p.level_alpha, k), seen)
        strength = 1.0 - maes[:, 3] / np.maximum(maes[:, 2], 1e-300)
        gate = np.clip((strength - p.level_gate) / LEVEL_GATE_WIDTH, 0.0, 1.0)
        level_z = np.maximum(np.abs(level) / np.maximum(level_mae, floor) - p.level_z0, 0.0)
        level_score = gate * level_z / (level_z + p.level_half)
        score = np.where(warm, np.maximum(novel / (novel + p.half_novelty), level_score), 0.0)
        if p.context_levels > 0:
            score = np.maximum(score, self._context_novelty(s, xv, finite))
        flags = score >= p.threshold
        s[:, Slot.LEVEL] = level
        capped_level = np.minimum(np.abs(level), p.error_cap * np.maximum(level_mae, floor))
        learned_level_mae = np.where(
            level_mae == 0, np.abs(level), level_mae + p.error_alpha * (capped_level - level_mae)
        )
        s[:, Slot.LEVEL_MAE] = np.where(seen, learned_level_mae, level_mae)
        # learn: envelopes (once settled), typical errors, predictors, seasonal deviations
        decay = np.exp(k * math.log(p.envelope_decay))
        s[:, Slot.ENVELOPE] = np.where(settled, np.maximum(envelope * decay, surprise), envelope)
        range_decay = np.exp(k * math.log(p.range_decay))
        # until warm, deviations count at most range_init mean absolute deviations; once warm, one
        # reading widens the range at most range_growth-fold plus range_step mean absolute deviations
        cap = np.where(warm, np.inf, p.range_init * s[:, Slot.SCALE])
        for slot, side in ((Slot.HIGH, deviation), (Slot.LOW, -deviation)):
            decayed = s[:, slot] * range_decay
            limit = (
                cap if p.range_growth == 0.0 else np.where(warm, p.range_growth * decayed + p.range_step * unit, cap)
            )
            grown = np.maximum(decayed, np.minimum(side, limit))
            s[:, slot] = np.where(settled, grown, s[:, slot])
        capped = np.minimum(errors, p.error_cap * np.maximum(maes, floor[:, None]))
        learned_maes = np.where(maes == 0, errors, maes + p.error_alpha * (capped - maes))
        s[:, Slot.MAE_LAST : Slot.MAE_LAST + PREDICTORS] = np.where(seen[:, None], learned_maes, maes)
        s[:, Slot.SCALE] = _ewma(s[:, Slot.SCALE], np.abs(deviation), p.error_alpha, seen)
        s[:, Slot.FAST] = np.where(first_value, xv, _ewma(s[:, Slot.FAST], xv, _weight(p.fast_alpha, k), seen))
        new_slow = np.where(first_value, xv, _ewma(slow, xv, _weight(p.slow_alpha, k), seen))
        s[:, Slot.SLOW] = new_slow
        s[:, Slot.LAST_X] = np.where(finite, xv, s[:, Slot.LAST_X])
        above = xv - new_slow
        for col, old in ((daily_col, dev_day), (weekly_col, dev_week)):
            learned = np.where(np.isfinite(old), old + p.seasonal_alpha * (above - old), above)
            s[rows, col] = np.where(finite, learned, old)
        return score.astype(np.float32), flags
