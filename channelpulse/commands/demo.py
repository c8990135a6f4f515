"""`channelpulse demo`: the whole thing running, end to end."""

from __future__ import annotations

import argparse

from channelpulse.config import Settings


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = sub.add_parser(
        "demo",
        help="start the stack and a worker, publish a sample stream, show scored outputs live",
        description="The main job: `stack up`, one worker, the sample producer (real review sentences, "
        "financial headlines, NAB sensor series, generated clicks; about 5%% malformed on purpose; a negative "
        "surge on social:twitter from 60%% to 80%% of the stream) and a live view of the scored topics, with "
        "each alert printed in full beside the analytics window that raised it. Ends when the producer is done "
        "and outputs go quiet, then stops the worker and the stack (unless --keep-running; Ctrl-C also stops).",
    )
    parser.add_argument("--events", type=int, default=5400, help="sample events to publish")
    parser.add_argument("--rate", type=float, default=30.0, help="events per second")
    parser.add_argument(
        "--window-s", type=float, default=15.0,
        help="analytics window of the demo's worker, seconds (allowed lateness: two windows); the surge detector "
        "needs 5 windows of baseline before the surge (production default CHANNELPULSE_ANALYTICS_WINDOW_S=60)",
    )
    parser.add_argument("--keep-running", action="store_true", help="leave the stack and worker running")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace, settings: Settings) -> int:
    from channelpulse.streams.demo import run_demo

    return run_demo(settings, args.events, args.rate, args.keep_running, args.window_s)
