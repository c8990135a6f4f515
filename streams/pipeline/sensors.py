"""Sensor readings: each sensor's detector state (a Faust table entry) goes to Triton with the
batch's readings of that sensor (one request row per sensor, its readings in arrival order); the
returned state is stored (one table write per sensor per batch) and the first flag of an anomaly
episode raises one alert."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from models.analytics.alerts import sensor_anomaly_alert
from models.anomaly.sensor_state import SensorState, stack_rows
from models.contract import ANOMALY_MODEL
from schemas.outputs import Alert, AnomalyScore, ModelRef
from schemas.validation import encode, output_key
from streams.pipeline.observations import observation
from streams.pipeline.records import Emit, RawRecord, utcnow
from streams.scoring.retry import until_scored

if TYPE_CHECKING:
    from streams.pipeline.processor import Processor


def request_arrays(
    positions: dict[bytes, list[int]], valid: Sequence[tuple[RawRecord, Any]], states: dict[bytes, SensorState]
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(states [n, s], values [n, k], times [n, k])`` with one row per sensor, in ``positions`` order;
    cells past a sensor's readings have a NaN time (padding)."""
    width = max(len(p) for p in positions.values())
    values = np.zeros((len(positions), width), dtype=np.float64)
    times = np.full((len(positions), width), np.nan, dtype=np.float64)
    for row, indices in enumerate(positions.values()):
        for col, i in enumerate(indices):
            event = valid[i][1]
            values[row, col] = event.value
            times[row, col] = event.occurred_at.timestamp()
    return stack_rows([states[key].row for key in positions]), values, times


async def score_sensors(valid: Sequence[tuple[RawRecord, Any]], proc: Processor) -> list[Emit]:
    settings = proc.settings
    positions: dict[bytes, list[int]] = {}
    for i, (_, event) in enumerate(valid):
        positions.setdefault(event.sensor_id.encode("utf-8"), []).append(i)
    states = {key: SensorState.from_dict(proc.sensors.get(key), settings.anomaly_cooldown) for key in positions}
    arrays = request_arrays(positions, valid, states)
    batch = await until_scored(lambda: proc.scorer.anomaly(*arrays), "anomaly batch")
    scores = np.zeros(len(valid), dtype=np.float64)
    flags = np.zeros(len(valid), dtype=bool)
    for row, (key, indices) in enumerate(positions.items()):
        states[key].row = batch.states[row]
        scores[indices] = np.clip(batch.scores[row, : len(indices)], 0.0, 1.0)
        flags[indices] = batch.flags[row, : len(indices)]
    model = ModelRef(name=ANOMALY_MODEL, version=batch.version)
    scored_at = utcnow()
    emits = []
    rows = []
    for (record, event), score, flag in zip(valid, scores, flags, strict=True):
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
            Emit(settings.topic_anomalies, output_key(out) or record.key, encode(out), event.occurred_at, "anomalies")
        )
        emits.append(observation(proc.settings.topic_observations, record, event.channel, "sensor", event.occurred_at))
        rows.append(
            {
                **event.model_dump(mode="json"),
                "anomaly_score": out.anomaly_score,
                "is_anomaly": out.is_anomaly,
                "model_version": batch.version,
            }
        )
        alert = sensor_anomaly_alert(
            states[event.sensor_id.encode("utf-8")].episodes,
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
                Emit(settings.topic_alerts, output_key(out_alert), encode(out_alert), event.occurred_at, "alerts")
            )
    for key, state in states.items():
        proc.sensors[key] = state.to_dict()
    if proc.sensor_drift is not None:
        emits.extend(proc.sensor_drift.observe([event for _, event in valid], scores))
    proc.to_lake("sensor", rows)
    return emits
