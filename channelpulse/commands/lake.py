"""`channelpulse lake stats | prune`: what the event lake holds (rows, files, bytes per kind and
date) and applying its retention (see docs/lifecycle.md)."""

from __future__ import annotations

import argparse
import json

from channelpulse.config import Settings
from channelpulse.streams.lake import apply_retention, lake_stats


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = sub.add_parser(
        "lake",
        help="event lake statistics and retention",
        description="The event lake: Parquet files by kind and date under CHANNELPULSE_LAKE_DIR "
        "(default <state_dir>/lake).",
    )
    actions = parser.add_subparsers(dest="action", required=True)
    stats = actions.add_parser("stats", help="rows, files and bytes per kind and date")
    stats.add_argument("--kind", help="only this kind")
    stats.add_argument("--json", action="store_true", help="a JSON list instead of a table")
    prune = actions.add_parser("prune", help="delete partitions older than the retention")
    prune.add_argument(
        "--days", type=int, default=None, help="keep this many days (default CHANNELPULSE_LAKE_RETENTION_DAYS)"
    )
    parser.set_defaults(func=run)


def run(args: argparse.Namespace, settings: Settings) -> int:
    root = settings.lake_root
    if args.action == "prune":
        days = settings.lake_retention_days if args.days is None else args.days
        removed = apply_retention(root, days)
        print(f"removed {len(removed)} partitions older than {days} days from {root}")
        for path in removed:
            print(f"  {path}")
        return 0
    try:
        entries = lake_stats(root, args.kind)
    except ValueError as exc:
        print(f"error: {exc}")
        return 2
    if args.json:
        print(json.dumps([e.to_dict() for e in entries]))
        return 0
    if not entries:
        print(f"the lake at {root} is empty")
        return 0
    print(f"{'kind':<20} {'date':<10} {'rows':>10} {'files':>6} {'bytes':>12}")
    for e in entries:
        print(f"{e.kind:<20} {e.date:<10} {e.rows:>10} {e.files:>6} {e.bytes:>12}")
    print(
        f"{'total':<20} {'':<10} {sum(e.rows for e in entries):>10} {sum(e.files for e in entries):>6} "
        f"{sum(e.bytes for e in entries):>12}"
    )
    return 0
