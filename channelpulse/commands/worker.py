"""`channelpulse worker`: run the Faust agents."""

from __future__ import annotations

import argparse
import logging

from channelpulse.config import Settings


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = sub.add_parser(
        "worker",
        help="run the Faust agents that score the input topics",
        description="Consume the four event topics (and the catalog), score events in micro-batches on "
        "Triton, and publish the scored streams, dead letters and analytics. Serves Prometheus metrics on "
        "CHANNELPULSE_WORKER_METRICS_PORT and registers itself with the local Prometheus. Stops cleanly on "
        "SIGINT/SIGTERM (in-flight batches finish, offsets are committed).",
    )
    parser.add_argument("--metrics-port", type=int, help="override CHANNELPULSE_WORKER_METRICS_PORT")
    parser.add_argument("--web-port", type=int, help="override CHANNELPULSE_WORKER_WEB_PORT (Faust web)")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace, settings: Settings) -> int:
    from channelpulse.streams.worker import run_worker

    update = {}
    if args.metrics_port:
        update["worker_metrics_port"] = args.metrics_port
    if args.web_port:
        update["worker_web_port"] = args.web_port
    settings = settings.model_copy(update=update)
    logging.getLogger("faust").setLevel(logging.WARNING)
    return run_worker(settings)
