"""Sensor-value drift: a recalibrated device (offset jump) produces drifted reports on drift.reports."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta, timezone
from typing import Any

import numpy as np
import pytest

from channelpulse.config import Settings
from channelpulse.schemas.events import EventKind, SensorEvent
from channelpulse.schemas.lifecycle import DriftReportRecord
from channelpulse.streams.pipeline.isolation import process_isolating
from channelpulse.streams.pipeline.processor import Processor
from channelpulse.streams.pipeline.records import BatchResult, RawRecord
from channelpulse.streams.pipeline.sensor_drift import SensorDriftWatch
from tests.unit.streams.fakes import FakeScorer

SETTINGS = Settings(sensor_drift_reference=1000, sensor_drift_window=200)
START = datetime(2026, 11, 1, tzinfo=timezone.utc)


def _readings(values: np.ndarray, offset: int, sensor: str = "thermo-1", metric: str = "temp") -> list[SensorEvent]:
    return [
        SensorEvent(
            event_id=f"{sensor}-{offset + i}",
            channel="iot:plant-7",
            occurred_at=START + timedelta(minutes=5 * (offset + i)),
            sensor_id=sensor,
            metric=metric,
            value=float(v),
        )
        for i, v in enumerate(values)
    ]


def _reports(watch: SensorDriftWatch, events: list[SensorEvent], batch: int = 50) -> list[DriftReportRecord]:
    out = []
    for i in range(0, len(events), batch):
        chunk = events[i : i + batch]
        for emit in watch.observe(chunk, np.full(len(chunk), 0.01)):
            assert emit.topic == SETTINGS.topic_drift_reports
            out.append(DriftReportRecord.model_validate_json(emit.value))
    return out


def test_a_recalibrated_device_produces_drifted_reports() -> None:
    rng = np.random.default_rng(0)
    watch = SensorDriftWatch(SETTINGS)
    steady = _reports(watch, _readings(rng.normal(70.0, 2.0, 2000), 0))
    assert len(steady) == 5  # 1000 reference readings, then windows of 200
    assert sum(r.drifted for r in steady) <= 1
    recalibrated = _reports(watch, _readings(rng.normal(73.0, 2.0, 600), 2000))  # +1.5 sd offset
    assert len(recalibrated) == 3 and all(r.drifted for r in recalibrated)
    report = recalibrated[0]
    assert report.model == "anomaly" and report.statistics["sensor_group"] == "iot:plant-7/temp"
    assert report.should_retrain is False and report.statistics["input_p"] < 1e-6


def test_groups_are_monitored_separately_and_reference_size_zero_turns_it_off() -> None:
    rng = np.random.default_rng(1)
    watch = SensorDriftWatch(SETTINGS)
    _reports(
        watch, _readings(rng.normal(70.0, 2.0, 1100), 0) + _readings(rng.normal(5.0, 1.0, 300), 0, "flow-1", "flow")
    )
    assert set(watch.groups) == {"iot:plant-7/temp", "iot:plant-7/flow"}
    assert watch.groups["iot:plant-7/temp"].monitor is not None  # its reference is full
    assert watch.groups["iot:plant-7/flow"].monitor is None  # still collecting
    off = SensorDriftWatch(Settings(sensor_drift_reference=0))
    assert off.observe(_readings(np.ones(10), 0), np.zeros(10)) == []


async def _through_plain_process(proc: Processor, records: list[RawRecord]) -> BatchResult:
    return await proc.process(EventKind.SENSOR, records)


async def _through_batch_isolation(proc: Processor, records: list[RawRecord]) -> BatchResult:
    return await process_isolating(proc, EventKind.SENSOR, records)


@pytest.mark.parametrize("process", [_through_plain_process, _through_batch_isolation])
async def test_the_sensors_pipeline_reports_drift(
    process: Callable[[Processor, list[RawRecord]], Awaitable[BatchResult]],
) -> None:
    """Both the processor and the worker's path (batch isolation around it) feed the drift watch."""
    rng = np.random.default_rng(2)
    proc = Processor(SETTINGS, FakeScorer(), {}, {}, sensor_drift=SensorDriftWatch(SETTINGS))
    events = _readings(rng.normal(70.0, 2.0, 1200), 0)
    records = [
        RawRecord(SETTINGS.topic_sensors, 0, i, e.sensor_id.encode(), e.model_dump_json().encode())
        for i, e in enumerate(events)
    ]
    emitted: list[Any] = []
    for i in range(0, len(records), 100):
        emitted.extend((await process(proc, records[i : i + 100])).emits)
    reports = [json.loads(e.value) for e in emitted if e.topic == SETTINGS.topic_drift_reports]
    assert len(reports) == 1 and reports[0]["events_seen"] == 200
