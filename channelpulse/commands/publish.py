"""`channelpulse publish` and `channelpulse tail`: put events on a topic, watch a topic."""

from __future__ import annotations

import argparse
import base64
import json
import sys
import time
from pathlib import Path

from channelpulse.config import Settings


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    pub = sub.add_parser(
        "publish",
        help="publish events to a topic from a JSON-lines file, or a generated sample stream",
        description="Publish events and wait until Kafka acknowledged each one. With --file, each line of F is "
        "one record (sent as-is; the key is the line's user_id, sensor_id or item_id when present). With "
        "--sample N, publish N mixed events across the four input topics (about 5%% malformed on purpose, "
        "see --malformed) plus the catalog; TOPIC is then ignored.",
    )
    pub.add_argument("topic", nargs="?", help="topic to publish to (with --file)")
    src = pub.add_mutually_exclusive_group(required=True)
    src.add_argument("--file", type=Path, help="JSON-lines file, one event per line")
    src.add_argument("--sample", type=int, metavar="N", help="publish N generated mixed events")
    pub.add_argument("--malformed", type=float, default=0.05, help="share of malformed sample events")
    pub.add_argument(
        "--rate", type=float, default=0.0,
        help="events per second (0: as fast as possible); sample event times advance at this rate",
    )
    pub.add_argument("--seed", type=int, default=7, help="random seed of the sample stream")
    pub.set_defaults(func=run_publish)

    tail = sub.add_parser(
        "tail",
        help="print a topic's records as they arrive",
        description="Print each record of TOPIC as one JSON line (value decoded as JSON when it is JSON, "
        "else base64). Reads from the end unless --from-beginning; stops after --idle seconds without a "
        "record, or runs until Ctrl-C.",
    )
    tail.add_argument("topic")
    tail.add_argument("--from-beginning", action="store_true")
    tail.add_argument("--idle", type=float, default=None, help="stop after this many idle seconds")
    tail.add_argument("--max", type=int, default=None, help="stop after this many records")
    tail.set_defaults(func=run_tail)


def _key_of(line: bytes) -> bytes | None:
    try:
        body = json.loads(line)
    except ValueError:
        return None
    if isinstance(body, dict):
        for field in ("user_id", "sensor_id", "item_id"):
            if isinstance(body.get(field), str):
                return str(body[field]).encode()
    return None


def run_publish(args: argparse.Namespace, settings: Settings) -> int:
    from collections.abc import Iterable

    from channelpulse.streams.kafka_io import ensure_topics, producer

    ensure_topics(settings)
    prod = producer(settings)
    sent = 0
    started = time.monotonic()
    setup: list[tuple[str, bytes | None, bytes]] = []  # sent first, not paced: the sample's catalog
    records: Iterable[tuple[str, bytes | None, bytes]]
    try:
        if args.file:
            if not args.topic:
                print("error: TOPIC is required with --file", file=sys.stderr)
                return 2
            records = [
                (args.topic, _key_of(line), line)
                for line in args.file.read_bytes().splitlines()
                if line.strip()
            ]
        else:
            from channelpulse.streams.sample import SampleStream

            stream = SampleStream(settings, seed=args.seed, malformed_share=args.malformed)
            setup = [(r.topic, r.key, r.value) for r in stream.catalog_records()]
            # generated while sending: the sample's event times start with the first paced record
            records = ((r.topic, r.key, r.value) for r in stream.records(args.sample, args.rate))
        futures = [prod.send(topic, key=key, value=value) for topic, key, value in setup]
        sent = len(futures)
        paced_from = time.monotonic()
        for paced, (topic, key, value) in enumerate(records, 1):
            futures.append(prod.send(topic, key=key, value=value))
            sent += 1
            if args.rate > 0:
                delay = paced_from + paced / args.rate - time.monotonic()
                if delay > 0:
                    time.sleep(delay)
        for fut in futures:
            fut.get(timeout=60)
    finally:
        prod.flush()
        prod.close()
    print(f"published {sent} records in {time.monotonic() - started:.1f}s")
    return 0


def run_tail(args: argparse.Namespace, settings: Settings) -> int:
    from channelpulse.streams.kafka_io import read_topic

    seen = 0
    try:
        for rec in read_topic(
            settings, args.topic, from_beginning=args.from_beginning, idle_timeout_s=args.idle
        ):
            try:
                value: object = json.loads(rec.value) if rec.value is not None else None
            except ValueError:
                value = {"base64": base64.b64encode(rec.value or b"").decode()}
            key = rec.key.decode("utf-8", "replace") if rec.key is not None else None
            print(
                json.dumps({"partition": rec.partition, "offset": rec.offset, "key": key, "value": value}),
                flush=True,
            )
            seen += 1
            if args.max is not None and seen >= args.max:
                break
    except KeyboardInterrupt:
        pass
    return 0
