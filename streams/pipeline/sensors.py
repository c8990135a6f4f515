"""Sensor readings: each sensor's detector state (a Faust table entry) goes to Triton with the
batch's readings of that sensor (one request row per sensor, its readings in arrival order); the
returned state is stored (one table write per sensor per batch) and the first flag of an anomaly
episode raises one alert.

A replay applies nothing twice: the stored value carries a replay mark (``channelpulse.streams.pipeline.applied``;
a sensor's readings come on one partition when producers key them by ``sensor_id``). A reading below
it (the state was stored, its offset not yet committed, then the worker crashed) is still scored and
published, in a request row of its own with the stored state, but the state that row returns is
dropped and it raises no alert."""

from __future__ import annotations

from collections.abc import MutableMapping, Sequence
from typing import Any

import numpy as np

from channelpulse.models.analytics.alerts import sensor_anomaly_alert
from channelpulse.models.anomaly.sensor_state import SensorState, stack_rows
from channelpulse.models.contract import ANOMALY_MODEL
from channelpulse.schemas.outputs import Alert, AnomalyScore, ModelRef
from channelpulse.schemas.validation import encode, output_key
from channelpulse.streams.pipeline.applied import mark_of, marked, replayed
from channelpulse.streams.pipeline.observations import grouped_observations
from channelpulse.streams.pipeline.records import Emit, OutputTopics, RawRecord, Scored, utcnow
from channelpulse.streams.pipeline.sensor_drift import SensorDriftWatch
from channelpulse.streams.scoring.base import Scorer
from channelpulse.streams.scoring.retry import until_scored

Row = tuple[bytes, bool]
"""A request row: the sensor's key and whether it holds readings the stored state already applied."""


def request_arrays(
    positions: dict[Row, list[int]], valid: Sequence[tuple[RawRecord, Any]], states: dict[bytes, SensorState]
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(states [n, s], values [n, k], times [n, k])`` with one row per entry of ``positions``, in its
    order; cells past a row's readings have a NaN time (padding)."""
    width = max(len(p) for p in positions.values())
    values = np.zeros((len(positions), width), dtype=np.float64)
    times = np.full((len(positions), width), np.nan, dtype=np.float64)
    for row, indices in enumerate(positions.values()):
        for col, i in enumerate(indices):
            event = valid[i][1]
            values[row, col] = event.value
            times[row, col] = event.occurred_at.timestamp()
    return stack_rows([states[key].row for key, _ in positions]), values, times


async def score_sensors(
    valid: Sequence[tuple[RawRecord, Any]],
    sensors: MutableMapping[bytes, Any],
    scorer: Scorer,
    topics: OutputTopics,
    cooldown: int,
    sensor_drift: SensorDriftWatch | None = None,
) -> Scored:
    """Score the batch's readings against each sensor's stored state (``sensors``: sensor id -> stored
    state); an anomaly episode's first flag raises one alert (``cooldown``: readings an episode lasts
    past its last flag)."""
    keys = [event.sensor_id.encode("utf-8") for _, event in valid]
    stored = {key: sensors.get(key) for key in dict.fromkeys(keys)}  # one table read per sensor
    marks = {key: mark_of(value) for key, value in stored.items()}
    positions: dict[Row, list[int]] = {}
    for i, ((record, _), key) in enumerate(zip(valid, keys, strict=True)):
        positions.setdefault((key, replayed(record, marks[key])), []).append(i)
    states = {key: SensorState.from_dict(value, cooldown) for key, value in stored.items()}
    arrays = request_arrays(positions, valid, states)
    batch = await until_scored(lambda: scorer.anomaly(*arrays), "anomaly batch")
    scores = np.zeros(len(valid), dtype=np.float64)
    flags = np.zeros(len(valid), dtype=bool)
    for row, ((key, again), indices) in enumerate(positions.items()):
        if not again:
            states[key].row = batch.states[row]
        scores[indices] = np.clip(batch.scores[row, : len(indices)], 0.0, 1.0)
        flags[indices] = batch.flags[row, : len(indices)]
    model = ModelRef(name=ANOMALY_MODEL, version=batch.version)
    scored_at = utcnow()
    emits = []
    rows = []
    for (record, event), key, score, flag in zip(valid, keys, scores, flags, strict=True):
        out = AnomalyScore(
            event_id=event.event_id,
            sensor_id=event.sensor_id,
            metric=event.metric,
            value=event.value,
            anomaly_score=float(score),
            is_anomaly=bool(flag),
            model=model,
            scored_at=scored_at,
        )
        emits.append(
            Emit(topics.anomalies, output_key(out) or record.key, encode(out), event.occurred_at, "anomalies")
        )
        rows.append(
            {
                **event.model_dump(mode="json"),
                "anomaly_score": out.anomaly_score,
                "is_anomaly": out.is_anomaly,
                "model_version": batch.version,
            }
        )
        if replayed(record, marks[key]):
            continue  # the state already holds its episode (an alert lost in a crash is not raised again)
        alert = sensor_anomaly_alert(
            states[key].episodes,
            sensor_id=event.sensor_id,
            flag=bool(flag),
            score=out.anomaly_score,
            value=event.value,
            occurred_at=event.occurred_at,
            metric=event.metric,
            channel=event.channel,
        )
        if alert is not None:
            out_alert = Alert.model_validate(alert)
            emits.append(
                Emit(topics.alerts, output_key(out_alert), encode(out_alert), event.occurred_at, "alerts")
            )
    emits.extend(
        grouped_observations(
            topics.observations, "sensor", [(record, event.channel, event.occurred_at) for record, event in valid]
        )
    )
    fresh = {key for key, again in positions if not again}
    for (key, again), indices in positions.items():
        if not again:
            sensors[key] = marked(states[key].to_dict(), valid[indices[-1]][0])
        elif key not in fresh:
            sensors[key] = stored[key]  # written again (applied.py: a local store may be ahead of its changelog)
    if sensor_drift is not None:
        emits.extend(sensor_drift.observe([event for _, event in valid], scores))
    return Scored(emits, rows)
