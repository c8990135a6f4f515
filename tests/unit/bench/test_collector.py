from __future__ import annotations

import json

from channelpulse.bench.collector import PhaseOutputs, output_source
from channelpulse.bench.loadgen import SendLog
from channelpulse.schemas.outputs import DeadLetter
from channelpulse.schemas.validation import encode


def test_outputs_name_their_source() -> None:
    letter = DeadLetter.of(raw=b"not json", error="bad", source_topic="events.clicks", partition=2, offset=41)
    assert output_source(encode(letter)) == (None, ("events.clicks", 2, 41))
    assert output_source(json.dumps({"event_id": "e-1", "label": "positive"}).encode()) == ("e-1", None)
    assert output_source(b"[1, 2]") == (None, None)
    assert output_source(b"\xff") == (None, None)


def test_latency_is_output_time_minus_send_time_and_late_offsets_are_rematched() -> None:
    log = SendLog(by_id={"e-1": 100.0, "e-2": 100.5}, count=3)
    outputs = PhaseOutputs(log)
    outputs.add("e-1", None, 100.25)
    outputs.add(None, ("t", 0, 7), 101.0)  # its send was acknowledged after the output arrived
    outputs.add("other-phase", None, 101.0)
    assert outputs.matched == 1
    log.by_offset[("t", 0, 7)] = 100.9
    outputs.rematch()
    assert outputs.matched == 2
    assert sorted(round(x, 3) for x in outputs.latencies) == [0.1, 0.25]
    assert len(outputs.unmatched) == 1
