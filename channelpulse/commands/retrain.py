"""`channelpulse retrain MODEL` (ask for a retrain) and `channelpulse retrainer` (serve the requests)."""

from __future__ import annotations

import argparse
import uuid

from channelpulse.config import Settings


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    ask = sub.add_parser(
        "retrain",
        help="ask the retrainer to train a candidate for MODEL now",
        description="Publish a retrain request for MODEL on CHANNELPULSE_TOPIC_RETRAIN_REQUESTS. The retrainer "
        "trains a candidate on recent labelled data from the event lake, compares it with the serving version "
        "on held-out rows, and promotes it only when it is better; the outcome appears on "
        "CHANNELPULSE_TOPIC_MODEL_UPDATES (watch it with `channelpulse tail model.updates`).",
    )
    ask.add_argument("model", help="model name, e.g. sentiment")
    ask.add_argument("--reason", default="requested from the command line")
    ask.set_defaults(func=run_retrain_request)
    serve = sub.add_parser(
        "retrainer",
        help="run the retrainer process (one retrain at a time)",
        description="Consume retrain requests (from drift or `channelpulse retrain`), retrain with torch (CUDA when "
        "available, else CPU), promote better candidates through Triton's model-control API, and announce "
        "every outcome on the model-updates topic. Stops cleanly on SIGINT/SIGTERM after the current retrain.",
    )
    serve.set_defaults(func=run_retrainer_process)


def run_retrain_request(args: argparse.Namespace, settings: Settings) -> int:
    from channelpulse.schemas.lifecycle import RetrainRequest, now_utc
    from channelpulse.schemas.validation import encode
    from channelpulse.streams.kafka_io import ensure_topics, publish

    ensure_topics(settings)
    request = RetrainRequest(
        request_id=f"manual-{args.model}-{uuid.uuid4().hex[:12]}",
        model=args.model,
        source="manual",
        reason=args.reason,
        requested_at=now_utc(),
    )
    publish(settings, settings.topic_retrain_requests, [(args.model.encode(), encode(request))])
    print(f"requested {request.request_id}; watch: channelpulse tail {settings.topic_model_updates}")
    return 0


def run_retrainer_process(args: argparse.Namespace, settings: Settings) -> int:
    from channelpulse.streams.live_registry import served_version
    from channelpulse.streams.retrain_handler import retrain_handler
    from channelpulse.streams.retrainer import run_retrainer

    return run_retrainer(settings, retrain_handler(settings), served_version(settings))
