"""The retrainer process: consumes ``retrain.requests``, runs one retrain at a time, announces the
outcome on ``model.updates``. The decision logic lives in models/retrain; this is its Kafka adapter.

Requests for a model that was retrained less than ``retrain_cooldown_s`` ago are answered with a
``skipped`` update (several workers may each see the same shift). Offsets are committed only after
the update is acknowledged by Kafka, so a crash mid-retrain replays the request.
"""

from __future__ import annotations

import logging
import signal
import time
from collections.abc import Callable
from types import FrameType

from kafka import KafkaConsumer
from pydantic import ValidationError

from channelpulse.config import Settings
from schemas.lifecycle import ModelUpdate, RetrainRequest, now_utc
from schemas.outputs import DeadLetter
from schemas.validation import encode
from streams.kafka_io import ensure_topics, producer

log = logging.getLogger(__name__)

Handler = Callable[[RetrainRequest], ModelUpdate]


class Retrainer:
    """Serves retrain requests one at a time through ``handler``."""

    def __init__(self, settings: Settings, handler: Handler, clock: Callable[[], float] = time.monotonic) -> None:
        self.settings = settings
        self.handler = handler
        self.clock = clock
        self.last_retrain: dict[str, float] = {}

    def decide(self, request: RetrainRequest) -> ModelUpdate:
        """Run the retrain unless the model is cooling down after a recent one."""
        last = self.last_retrain.get(request.model)
        if last is not None and self.clock() - last < self.settings.retrain_cooldown_s:
            return ModelUpdate(
                model=request.model, action="skipped", version=request.serving_version,
                request_id=request.request_id, announced_at=now_utc(),
                detail=f"retrained {self.clock() - last:.0f}s ago (cooldown {self.settings.retrain_cooldown_s:g}s)",
            )
        log.info("retraining %s (%s): %s", request.model, request.source, request.reason)
        update = self.handler(request)
        self.last_retrain[request.model] = self.clock()
        return update


def run_retrainer(settings: Settings, handler: Handler) -> int:
    """Block until SIGINT/SIGTERM; the current retrain finishes before the process exits."""
    ensure_topics(settings)
    stopping = False

    def stop(signum: int, frame: FrameType | None) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    retrainer = Retrainer(settings, handler)
    consumer = KafkaConsumer(
        settings.topic_retrain_requests,
        bootstrap_servers=settings.bootstrap_servers,
        group_id=f"{settings.app_id}-retrainer",
        enable_auto_commit=False,
        auto_offset_reset="earliest",
        max_poll_interval_ms=3_600_000,  # a retrain may take many minutes on CPU
    )
    prod = producer(settings)
    print(f"[retrainer] waiting for requests on {settings.topic_retrain_requests}", flush=True)
    try:
        while not stopping:
            for records in consumer.poll(timeout_ms=500).values():
                for record in records:
                    try:
                        request = RetrainRequest.model_validate_json(record.value or b"")
                    except ValidationError as exc:
                        letter = DeadLetter.of(record.value or b"", f"invalid retrain request: {exc}",
                                               record.topic, record.partition, record.offset)
                        prod.send(settings.topic_deadletter, key=record.key, value=encode(letter)).get(timeout=60)
                        continue
                    update = retrainer.decide(request)
                    print(f"[retrainer] {update.model}: {update.action} - {update.detail}", flush=True)
                    prod.send(settings.topic_model_updates, key=update.model.encode(), value=encode(update)).get(
                        timeout=60
                    )
            consumer.commit()
    finally:
        consumer.close()
        prod.close()
    return 0
