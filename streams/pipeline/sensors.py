"""Sensor readings: each sensor's window (a Faust table) is pushed, the batch's windows are scored
in one Triton request, and the first flag of an anomaly episode raises one alert."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from models.analytics.alerts import sensor_anomaly_alert
from models.anomaly.window import SensorWindow
from models.contract import ANOMALY_MODEL
from schemas.outputs import Alert, AnomalyScore, ModelRef
from schemas.validation import encode, output_key
from streams.pipeline.observations import observation
from streams.pipeline.records import Emit, RawRecord, utcnow
from streams.scoring.retry import until_scored

if TYPE_CHECKING:
    from streams.pipeline.processor import Processor


async def score_sensors(valid: Sequence[tuple[RawRecord, Any]], proc: Processor) -> list[Emit]:
    settings = proc.settings
    windows: dict[bytes, SensorWindow] = {}
    snapshots = []
    for _, event in valid:
        key = event.sensor_id.encode("utf-8")
        if key not in windows:
            stored = proc.sensors.get(key)
            windows[key] = (
                SensorWindow.from_dict(stored)
                if stored
                else SensorWindow(settings.anomaly_window, settings.anomaly_cooldown)
            )
        windows[key].push(event.value)
        snapshots.append(windows[key].as_array(settings.anomaly_window))
    batch = await until_scored(lambda: proc.scorer.anomaly(np.stack(snapshots)), "anomaly batch")
    model = ModelRef(name=ANOMALY_MODEL, version=batch.version)
    scored_at = utcnow()
    emits = []
    rows = []
    for (record, event), score, flag in zip(valid, batch.scores, batch.flags, strict=True):
        out = AnomalyScore(
            event_id=event.event_id,
            sensor_id=event.sensor_id,
            metric=event.metric,
            value=event.value,
            anomaly_score=float(np.clip(score, 0.0, 1.0)),
            is_anomaly=bool(flag),
            model=model,
            scored_at=scored_at,
        )
        emits.append(
            Emit(
                settings.topic_anomalies,
                output_key(out) or record.key,
                encode(out),
                event.occurred_at,
                "anomalies",
            )
        )
        emits.append(observation(proc.settings.topic_observations, event.channel, "sensor", event.occurred_at))
        rows.append(
            {
                **event.model_dump(mode="json"),
                "anomaly_score": out.anomaly_score,
                "is_anomaly": out.is_anomaly,
                "model_version": batch.version,
            }
        )
        alert = sensor_anomaly_alert(
            windows[event.sensor_id.encode("utf-8")].episodes,
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
    for key, window in windows.items():
        proc.sensors[key] = window.to_dict()
    proc.to_lake("sensor", rows)
    return emits
