"""Process a micro-batch so that a record the model fails on cannot stall its partition.

When scoring fails permanently (:class:`PermanentScoringError`: the server rejects the request, the
model raises on an input, the batch exceeds the model's ``max_batch_size``), the batch is split in
halves and each half processed again, in order, down to single records; a single record that still
fails is dead-lettered with the server's message and its original bytes, and every other record is
scored as usual. Transient failures never get here: the steps retry them (streams/scoring/retry.py).

Each attempt writes the per-key state (users, sensors) to a :class:`StagedState`, applied only when
the attempt succeeded, so a failed attempt leaves no trace and the halves see the state in input
order. The steps write the lake and feed the drift watch only after scoring, so neither sees a failed
attempt either. A side effect: a key written several times in one batch reaches the table once.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, MutableMapping, Sequence
from typing import Any

from channelpulse.schemas.events import EventKind
from channelpulse.schemas.reasons import describe_scoring_failure
from channelpulse.schemas.validation import encode_dead_letter
from channelpulse.streams import metrics
from channelpulse.streams.pipeline.processor import Processor
from channelpulse.streams.pipeline.records import BatchResult, Emit, RawRecord
from channelpulse.streams.scoring.base import PermanentScoringError

log = logging.getLogger(__name__)


class StagedState(MutableMapping[Any, Any]):
    """Reads through to ``base``; writes are kept apart until :meth:`apply` (deletes are not staged:
    no step deletes state)."""

    def __init__(self, base: MutableMapping[Any, Any]) -> None:
        self.base = base
        self.writes: dict[Any, Any] = {}

    def __getitem__(self, key: Any) -> Any:
        if key in self.writes:
            return self.writes[key]
        return self.base[key]

    def get(self, key: Any, default: Any = None) -> Any:
        if key in self.writes:
            return self.writes[key]
        return self.base.get(key, default)

    def __setitem__(self, key: Any, value: Any) -> None:
        self.writes[key] = value

    def __delitem__(self, key: Any) -> None:
        raise NotImplementedError("deleting per-key state inside a batch is not supported")

    def __iter__(self) -> Iterator[Any]:
        yield from self.writes
        yield from (k for k in self.base if k not in self.writes)

    def __len__(self) -> int:
        return len(self.writes) + sum(1 for k in self.base if k not in self.writes)

    def apply(self) -> None:
        """Write the staged values to ``base`` (one write per key)."""
        for key, value in self.writes.items():
            self.base[key] = value
        self.writes.clear()


async def process_isolating(processor: Processor, kind: EventKind, records: Sequence[RawRecord]) -> BatchResult:
    """``processor.process(kind, records)``, splitting the batch on permanent scoring failures."""
    users, sensors = StagedState(processor.users), StagedState(processor.sensors)
    attempt = Processor(
        processor.settings, processor.scorer, users, sensors, drift=processor.drift, lake=processor.lake,
        sensor_drift=processor.sensor_drift,
    )
    try:
        result = await attempt.process(kind, records)
    except PermanentScoringError as exc:
        if len(records) == 1:
            return _dead_letter(records[0], exc, processor.settings.topic_deadletter)
        log.warning("a %s batch of %d failed permanently, splitting it: %s", kind.value, len(records), exc)
        middle = len(records) // 2
        result = await process_isolating(processor, kind, records[:middle])
        rest = await process_isolating(processor, kind, records[middle:])
        result.emits.extend(rest.emits)
        result.invalid += rest.invalid
        result.valid += rest.valid
        return result
    users.apply()
    sensors.apply()
    return result


def _dead_letter(record: RawRecord, exc: PermanentScoringError, topic: str) -> BatchResult:
    log.warning("%s[%d]@%d: the model fails on this record alone: %s", record.topic, record.partition,
                record.offset, exc)
    metrics.SCORING_ISOLATED.labels(topic=record.topic).inc()
    error = describe_scoring_failure(exc.model, exc.server_message)
    letter = encode_dead_letter(record.value or b"", error, record.topic, record.partition, record.offset)
    return BatchResult(emits=[Emit(topic, record.key, letter, pipeline="deadletter")], invalid=1)
