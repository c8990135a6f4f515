"""`channelpulse privacy forget USER_ID`: erase one user (right to erasure) from the event lake and
from the workers' user state (see docs/operations.md, "Privacy")."""

from __future__ import annotations

import argparse
import json
import time
from datetime import datetime, timezone

from channelpulse.config import Settings


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = sub.add_parser(
        "privacy",
        help="erase a user from the lake and the user state",
        description="Privacy operations. The lake holds user ids only as keyed pseudonyms "
        "(CHANNELPULSE_PSEUDONYM_KEY); see docs/operations.md, Privacy.",
    )
    actions = parser.add_subparsers(dest="action", required=True)
    forget = actions.add_parser(
        "forget",
        help="remove a user's lake rows and user state",
        description="Publish an erasure request on CHANNELPULSE_TOPIC_PRIVACY_FORGET (the worker owning the "
        "user's partition deletes its user state, whose changelog gets a tombstone), wait until rows the "
        "workers still buffer are written, then rewrite the lake's Parquet files without the user's rows "
        "(pseudonyms under the current key and under CHANNELPULSE_PSEUDONYM_RETIRED_KEYS). An unknown user "
        "removes nothing and is not an error.",
    )
    forget.add_argument("user_id", metavar="USER_ID", help="the user id as the producers send it")
    forget.add_argument(
        "--settle-s", type=float, default=None,
        help="seconds to wait before rewriting the lake (default CHANNELPULSE_LAKE_FLUSH_SECONDS + 2)",
    )
    forget.add_argument(
        "--lake-only", action="store_true", help="only the lake (no Kafka needed; the user state stays)"
    )
    parser.set_defaults(func=run)


def request_state_erasure(settings: Settings, user_id: str) -> tuple[int, int]:
    """Publish the erasure request keyed by the user id; returns its (partition, offset)."""
    from channelpulse.streams.kafka_io import ensure_topics, producer

    ensure_topics(settings)  # the request topic must be partitioned like the inputs, not auto-created
    prod = producer(settings)
    try:
        request = {"forget": "user-state", "requested_at": datetime.now(timezone.utc).isoformat()}
        meta = prod.send(
            settings.topic_privacy_forget, key=user_id.encode("utf-8"), value=json.dumps(request).encode()
        ).get(timeout=60)
    finally:
        prod.close()
    return meta.partition, meta.offset


def run(args: argparse.Namespace, settings: Settings) -> int:
    from channelpulse.streams.lake import erase_rows
    from channelpulse.streams.privacy.keys import MissingPseudonymKey, all_pseudonymizers

    try:
        pseudonyms = {p.pseudonym(args.user_id) for p in all_pseudonymizers(settings)}
    except (MissingPseudonymKey, ValueError) as exc:
        print(f"error: {exc}")
        return 2
    if not args.lake_only:
        partition, offset = request_state_erasure(settings, args.user_id)
        print(
            f"user state: erasure request published to {settings.topic_privacy_forget} "
            f"(partition {partition}, offset {offset}); the worker owning that partition deletes the state"
        )
        settle = settings.lake_flush_seconds + 2.0 if args.settle_s is None else args.settle_s
        time.sleep(max(0.0, settle))
    removed = erase_rows(settings.lake_root, "user_id", pseudonyms)
    detail = ", ".join(f"{kind} {count}" for kind, count in sorted(removed.items())) or "none"
    print(f"lake: removed {sum(removed.values())} rows ({detail}) from {settings.lake_root}")
    return 0
