"""Run one worker process: topics, metrics endpoint, Prometheus registration, the Faust worker."""

from __future__ import annotations

import gc
import logging
import sys

import faust

from channelpulse.config import Settings
from channelpulse.models import contract
from channelpulse.streams import metrics
from channelpulse.streams.app import make_app
from channelpulse.streams.kafka_access import KafkaAccessError, check_access
from channelpulse.streams.kafka_io import ensure_topics
from channelpulse.streams.privacy.keys import MissingPseudonymKey, require_key
from channelpulse.streams.scoring.limits import BatchSizeTooLarge, check_batch_size, served_batch_limits
from channelpulse.streams.scoring.triton import TritonScorer
from channelpulse.triton_tls import triton_grpc_options

log = logging.getLogger(__name__)


def run_worker(settings: Settings) -> int:
    """Block until the worker is stopped (SIGINT/SIGTERM); returns the exit code (2: a batch size
    above a served model's max_batch_size, no pseudonym key for an existing cluster, or brokers that
    refuse the credentials or the TLS handshake: refused before consuming anything)."""
    tls = triton_grpc_options(settings)
    models = (contract.SENTIMENT_MODEL, contract.RECOMMENDER_MODEL, contract.ANOMALY_MODEL)
    try:
        check_batch_size(settings.batch_max_size, served_batch_limits(settings.triton_grpc_url, models, tls=tls))
        require_key(settings)
    except (BatchSizeTooLarge, MissingPseudonymKey) as exc:
        print(f"[worker] refusing to start: {exc}", file=sys.stderr, flush=True)
        return 2
    try:
        check_access(settings)
    except KafkaAccessError as exc:
        print(f"[worker] refusing to start: {exc}", file=sys.stderr, flush=True)
        return 2
    created = ensure_topics(settings)
    if created:
        log.info("created topics: %s", ", ".join(created))
    metrics.serve(settings.worker_metrics_port, settings.bind_host)
    address = f"{settings.bind_host}:{settings.worker_metrics_port}"
    targets = settings.worker_targets_file
    metrics.register_target(targets, address)
    app, parts = make_app(
        settings,
        lambda: TritonScorer(settings.triton_grpc_url, settings.triton_timeout_s, tls, settings.triton_reconnect_max_s),
    )
    worker = faust.Worker(app, loglevel=settings.worker_log_level, quiet=True)
    # the libraries and the app built, out of the garbage collector's reach: a full collection holds the
    # GIL, so the consumer thread's heartbeats wait for it; it then walks only what came after (0.8 s -> 0 s
    # for the ~160,000 start-up objects on 2 loaded cores; streams/table_store.py, streams/loop_lag.py)
    gc.collect()
    gc.freeze()
    print(f"[worker] consuming {', '.join(settings.input_topics)}; metrics on http://{address}/metrics", flush=True)
    try:
        worker.execute_from_commandline()
    except SystemExit as exc:
        return int(exc.code or 0)
    finally:
        parts.lake.close()
        metrics.unregister_target(targets, address)
    return 0
