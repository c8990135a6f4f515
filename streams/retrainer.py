"""The retrainer process: consumes ``retrain.requests``, runs one retrain at a time, announces the
outcome on ``model.updates``. Which request runs when is decided by models/retrain/admission.py
(cooldown, waiting for labelled rows, stale requests); the retrain itself by models/retrain; this is
their Kafka adapter.

A request that waits (for the cooldown to end, or for labelled rows) is held in memory; its offset
is committed when it was read, so a restart forgets it: the worker's drift trigger asks again when
its own cooldown ends while the shift lasts (docs/lifecycle.md). Updates are announced only after
Kafka acknowledged them.
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
from channelpulse.kafka_security import kafka_python_options
from channelpulse.models.retrain.admission import Ask, Dropped, GatePolicy, RetrainGate
from channelpulse.schemas.lifecycle import ModelUpdate, RetrainRequest
from channelpulse.schemas.outputs import DeadLetter
from channelpulse.schemas.validation import encode
from channelpulse.streams import metrics
from channelpulse.streams.kafka_io import ensure_topics, producer

log = logging.getLogger(__name__)

Handler = Callable[[RetrainRequest], ModelUpdate]
ServedVersion = Callable[[str], str | None]
"""model -> the version serving now (None: none, or unknown)."""


def gate_policy(settings: Settings) -> GatePolicy:
    return GatePolicy(
        cooldown_s=settings.retrain_cooldown_s,
        escalation=settings.drift_escalation,
        wait_rows_s=settings.retrain_wait_rows_s,
        recheck_s=settings.retrain_recheck_s,
    )


def to_ask(request: RetrainRequest) -> Ask:
    return Ask(
        request_id=request.request_id,
        model=request.model,
        requested_at=request.requested_at.timestamp(),
        manual=request.source == "manual",
        serving_version=request.serving_version,
        episode_id=request.episode_id,
        episode_started_at=None if request.episode_started_at is None else request.episode_started_at.timestamp(),
        evidence=request.evidence,
    )


class Retrainer:
    """Requests in (:meth:`offer`), retrains run through ``handler`` when the gate lets them
    (:meth:`run_due`), updates out. ``clock``: seconds since the epoch."""

    def __init__(
        self, settings: Settings, handler: Handler, served: ServedVersion, clock: Callable[[], float] = time.time
    ) -> None:
        self.settings = settings
        self.handler = handler
        self.served = served
        self.clock = clock
        self.gate = RetrainGate(gate_policy(settings))
        self.pending: dict[str, RetrainRequest] = {}

    def offer(self, request: RetrainRequest) -> None:
        self.pending[request.request_id] = request
        for dropped in self.gate.offer(to_ask(request), self.served(request.model)):
            self._drop(dropped)

    def run_due(self) -> list[ModelUpdate]:
        """Run every pending request the gate lets through now; the updates to announce."""
        updates = []
        for model in self.gate.pending_models():
            ask, stale = self.gate.due(model, self.served(model), self.clock())
            if stale is not None:
                self._drop(stale)
            if ask is None:
                continue
            request = self.pending[ask.request_id]
            started = self.clock()
            log.info("retraining %s (%s, %s): %s", model, request.source, request.request_id, request.reason)
            update = self.handler(request)
            status = self.gate.finished(ask, update.action, update.short_of_rows, started, self.clock())
            if status == "still_waiting":
                log.info("%s: still short of labelled rows (%s); trying again later", request.request_id, update.detail)
                continue
            if status == "waiting_started":
                s = self.settings
                update = update.model_copy(
                    update={
                        "detail": f"{update.detail}; trying again every {s.retrain_recheck_s:g}s for up to "
                        f"{s.retrain_wait_rows_s:g}s (no cooldown started)"
                    }
                )
            elif status == "gave_up":
                waited = self.settings.retrain_wait_rows_s
                self._drop(Dropped(ask, "rows_deadline", f"still {update.detail} after {waited:g}s"))
                update = update.model_copy(update={"detail": f"gave up waiting for labelled rows: {update.detail}"})
            else:
                del self.pending[ask.request_id]
            updates.append(update)
        return updates

    def _drop(self, dropped: Dropped) -> None:
        self.pending.pop(dropped.ask.request_id, None)
        metrics.RETRAIN_REQUESTS_DROPPED.labels(model=dropped.ask.model, reason=dropped.reason).inc()
        log.info("dropped retrain request %s (%s): %s", dropped.ask.request_id, dropped.reason, dropped.detail)
        print(f"[retrainer] dropped {dropped.ask.request_id} ({dropped.reason}): {dropped.detail}", flush=True)


def run_retrainer(settings: Settings, handler: Handler, served: ServedVersion) -> int:
    """Block until SIGINT/SIGTERM; the current retrain finishes before the process exits."""
    ensure_topics(settings)
    stopping = False

    def stop(signum: int, frame: FrameType | None) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    metrics.serve(settings.retrainer_metrics_port, settings.bind_host)
    address = f"{settings.bind_host}:{settings.retrainer_metrics_port}"
    targets = settings.worker_targets_file
    metrics.register_target(targets, address)
    retrainer = Retrainer(settings, handler, served)
    consumer = KafkaConsumer(
        settings.topic_retrain_requests,
        bootstrap_servers=settings.bootstrap_servers, **kafka_python_options(settings),
        group_id=f"{settings.app_id}-retrainer",
        enable_auto_commit=False,
        auto_offset_reset="earliest",
        max_poll_interval_ms=3_600_000,  # a retrain may take many minutes on CPU
    )
    prod = producer(settings)
    print(f"[retrainer] waiting for requests on {settings.topic_retrain_requests}; metrics on http://{address}/metrics",
          flush=True)
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
                    retrainer.offer(request)
            consumer.commit()
            for update in retrainer.run_due():
                print(f"[retrainer] {update.model}: {update.action} - {update.detail}", flush=True)
                prod.send(settings.topic_model_updates, key=update.model.encode(), value=encode(update)).get(timeout=60)
    finally:
        consumer.close()
        prod.close()
        metrics.unregister_target(targets, address)
    return 0
