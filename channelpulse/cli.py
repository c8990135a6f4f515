"""The `channelpulse` command line. Each sub-command lives in channelpulse/commands/<name>.py."""

from __future__ import annotations

import argparse
import importlib
import logging
import os
import sys

from channelpulse import __version__, log_redaction
from channelpulse.config import Settings

COMMANDS = ("stack", "worker", "publish", "demo", "schemas", "train", "retrain", "bench", "models", "lake", "privacy")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="channelpulse",
        description="ChannelPulse: score live customer events from Kafka with models served on Triton, "
        "publish the scored streams back to Kafka, and expose everything to Prometheus. "
        "Every setting is an environment variable CHANNELPULSE_<NAME>; see docs/configuration.md.",
    )
    parser.add_argument("--version", action="version", version=f"channelpulse {__version__}")
    parser.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name in COMMANDS:
        importlib.import_module(f"channelpulse.commands.{name}").register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    args = build_parser().parse_args(argv)
    settings = Settings()
    log_redaction.install(settings)  # before any client logs: no secret in any log line
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    for noisy in ("kafka", "aiokafka"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    return int(args.func(args, settings))
