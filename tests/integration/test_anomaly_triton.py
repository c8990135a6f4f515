"""The served ``anomaly`` model (version 7) on the real stack.

* Triton alone (gRPC): scores, flags and new states equal the pure detector's, new and old-format
  state rows start fresh, a version-5 row (zero-padded beside version-7 rows) keeps what it learned
  and starts its context memory empty, padding cells are skipped.
* The whole path: a real NAB series (../shared/data/sensors/nab_real) replayed through
  ``events.sensors`` and the worker; the labelled anomaly is flagged inside its window, the calm start
  is not, and every score equals the in-process replay (the state survives the worker's batching).
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from datetime import timezone
from pathlib import Path

import numpy as np
import pytest
import tritonclient.grpc as grpcclient

from channelpulse.config import Settings
from channelpulse.models import contract
from channelpulse.models.anomaly.evaluation import replay_online
from channelpulse.models.anomaly.nab import probationary_length
from channelpulse.models.anomaly.nab_corpus import load_corpus
from channelpulse.models.anomaly.online import STATE_FORMAT, ContextSlot, OnlineDetector, OnlineParams
from channelpulse.streams.kafka_io import ensure_topics, publish, read_topic
from channelpulse.streams.worker_process import WorkerProcess
from tests.integration.drills import snapshot

SERIES = "realAWSCloudwatch/ec2_network_in_257a54.csv"


def _detector(stack: Settings, version: str = "7") -> OnlineDetector:
    return OnlineDetector(OnlineParams.from_meta(stack.model_repository_source / "anomaly" / version / "meta.json"))


def _infer(client: grpcclient.InferenceServerClient, states: np.ndarray, values: np.ndarray, times: np.ndarray):
    inputs = []
    for name, array in (
        (contract.ANOMALY_IN_STATE, states),
        (contract.ANOMALY_IN_VALUES, values),
        (contract.ANOMALY_IN_TIMES, times),
    ):
        tensor = grpcclient.InferInput(name, list(array.shape), "FP64")
        tensor.set_data_from_numpy(array.astype(np.float64))
        inputs.append(tensor)
    result = client.infer(contract.ANOMALY_MODEL, inputs)
    return (
        result.as_numpy(contract.ANOMALY_OUT_SCORE),
        result.as_numpy(contract.ANOMALY_OUT_IS_ANOMALY),
        result.as_numpy(contract.ANOMALY_OUT_STATE),
        result.get_response().model_version,
    )


def test_triton_scores_and_states_equal_the_pure_detector(stack: Settings) -> None:
    client = grpcclient.InferenceServerClient(stack.triton_grpc_url)
    assert client.is_model_ready(contract.ANOMALY_MODEL, "7")
    detector = _detector(stack)
    v5 = _detector(stack, "5")
    rng = np.random.default_rng(7)
    history = 50.0 + rng.normal(0.0, 1.0, (3, 400))
    times = 1_700_000_000.0 + 300.0 * np.arange(400)
    learned = detector.new_state(3)
    detector.run(learned, history, np.tile(times, (3, 1)))
    learned_v5 = v5.new_state(1)
    v5.run(learned_v5, history[:1], times[None, :])
    # rows: sensor 0 calm, sensor 1 spikes, sensor 2 a spike in its second reading only; then a new
    # sensor (zeros), one with an old-format state and one with a version-5 row (shorter: zero-padded)
    old = learned[:1].copy()
    old[0, 0] = STATE_FORMAT - 1
    padded_v5 = np.zeros((1, detector.state_size))
    padded_v5[0, : v5.state_size] = learned_v5[0]
    states = np.vstack([learned, np.zeros((1, detector.state_size)), old, padded_v5])
    new_times = times[-1] + 300.0 * np.arange(1, 4)
    calm, spike, spike_2nd, fresh = [50.0, 50.5, 49.8], [90.0, 50.0, 50.0], [50.0, 95.0, 0.0], [1.0, 2.0, 3.0]
    values = np.array([calm, spike, spike_2nd, fresh, [50.0, 50.0, 50.0], [50.0, 90.0, 50.0]])
    t = np.tile(new_times, (6, 1))
    t[2, 2] = np.nan  # sensor 2 has two readings in this request: the third cell is padding

    scores, flags, new_states, version = _infer(client, states, values, t)

    assert version == "7" and scores.shape == (6, 3) and scores.dtype == np.float32 and flags.dtype == np.bool_
    assert new_states.shape == (6, detector.state_size)
    expected_state = detector.adopt(states)
    expected_scores, expected_flags = detector.run(expected_state, values, t)
    np.testing.assert_array_equal(scores, expected_scores)
    np.testing.assert_array_equal(flags, expected_flags)
    np.testing.assert_array_equal(new_states, expected_state)
    assert flags[1, 0] and flags[2, 1] and not flags[0].any()
    assert scores[2, 2] == 0.0 and not flags[3].any() and not flags[4].any()  # padding; fresh sensors warm up
    assert new_states[4, 1] == 3  # the old-format row started afresh: 3 readings seen
    # the version-5 row kept what it learned (403 readings seen), its context memory counts 3 readings
    assert new_states[5, 1] == 403 and new_states[5, detector.context0 + ContextSlot.COUNT] == 3
    assert flags[5, 1]  # its spike is flagged by the version-5 part


@pytest.fixture(scope="module")
def worker(stack: Settings) -> Iterator[WorkerProcess]:
    ensure_topics(stack)
    proc = WorkerProcess(stack, name="anomaly-worker")
    yield proc
    proc.stop()


@pytest.mark.timeout(600)
def test_a_real_nab_series_through_the_stack_flags_its_anomaly(stack: Settings, worker: WorkerProcess) -> None:
    folder = stack.data_dir / "sensors" / "nab_real"
    if not (folder / "windows.json").exists():
        pytest.skip(f"NAB development series not found at {folder} (CHANNELPULSE_DATA_DIR)")
    (series,) = [s for s in load_corpus(folder) if s.name == SERIES]
    sensor = "nab-" + Path(SERIES).stem
    records = [
        (
            sensor.encode(),
            json.dumps(
                {
                    "event_id": f"{sensor}-{i}",
                    "channel": "iot:nab",
                    "occurred_at": ts.replace(tzinfo=timezone.utc).isoformat(),
                    "sensor_id": sensor,
                    "metric": "network_in",
                    "value": float(v),
                }
            ).encode(),
        )
        for i, (ts, v) in enumerate(zip(series.timestamps, series.values, strict=True))
    ]
    publish(stack, stack.topic_sensors, records)
    worker.start()
    scored: dict[int, dict[str, object]] = {}
    deadline = time.monotonic() + 300  # what the 60 reads with a 5 s idle wait each allowed at least
    while True:
        for rec in snapshot(stack, stack.topic_anomalies):  # up to the end offsets now: no idle wait
            out = json.loads(rec.value or b"{}")
            if str(out.get("sensor_id")) == sensor:
                scored[int(str(out["event_id"]).rsplit("-", 1)[1])] = out
        if len(scored) >= len(records) or time.monotonic() > deadline:
            break
        time.sleep(1.0)
    assert len(scored) == len(records), f"{len(scored)} of {len(records)} scored; log:\n{worker.log_tail()}"

    flags = np.array([bool(scored[i]["is_anomaly"]) for i in range(len(records))])
    scores = np.array([float(str(scored[i]["anomaly_score"])) for i in range(len(records))])
    (first, last), *_ = series.windows
    assert flags[first : last + 1].any(), "the labelled anomaly is not flagged inside its window"
    calm = probationary_length(len(records))
    assert not flags[:calm].any(), "the calm start is flagged"
    (expected,) = replay_online([series], _detector(stack))
    np.testing.assert_allclose(scores, expected.scores, rtol=1e-6, atol=1e-7)
    np.testing.assert_array_equal(flags, expected.flags)
    alerts = [json.loads(r.value or b"{}") for r in read_topic(stack, stack.topic_alerts, idle_timeout_s=3)]
    assert any(a.get("sensor_id") == sensor for a in alerts)
