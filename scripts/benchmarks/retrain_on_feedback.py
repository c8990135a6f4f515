"""run_retrain end to end on real sentences, without Kafka or Triton: the amazon product-review
sentences (VADER data) are filed in a temporary event lake as rated review events, the shipped
sentiment version 1 (trained on movie sentences) serves in a temporary copy of the repository,
and run_retrain trains a candidate on the feedback, compares both on the same held-out rows and
promotes (file side only: no Triton is asked).

Stars come from the VADER mean rating r (-4..4) so that the star -> label mapping (1-2 negative,
3 neutral, 4-5 positive) gives the VADER label: r <= -2 -> 1, r <= -0.5 -> 2, r < 0.5 -> 3,
r < 2 -> 4, else 5.

    .venv/bin/python scripts/benchmarks/retrain_on_feedback.py
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import tempfile
from datetime import datetime, timedelta, timezone
from pathlib import Path

import torch

from channelpulse.config import Settings
from channelpulse.models.contract import SENTIMENT_MODEL
from channelpulse.models.registry import ModelRegistry, ModelRepository
from channelpulse.models.retrain import PromotionPolicy, RetrainJob, SentimentTrainer, run_retrain
from channelpulse.streams.lake import LakeWriter, lake_reader


def stars(rating: float) -> int:
    return 1 if rating <= -2 else 2 if rating <= -0.5 else 3 if rating < 0.5 else 4 if rating < 2 else 5


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--margin", type=float, default=0.02)
    parser.add_argument("--eval-fraction", type=float, default=0.3)
    args = parser.parse_args()
    torch.set_num_threads(int(os.environ.get("TORCH_THREADS", "2")))
    settings = Settings()
    source = settings.model_repository_source / SENTIMENT_MODEL
    if not (source / "1" / "head.safetensors").is_file():
        raise SystemExit(f"no trained sentiment version 1 in {source} (run: channelpulse train sentiment)")
    now = datetime.now(timezone.utc)
    with tempfile.TemporaryDirectory(prefix="retrain-bench-") as tmp:
        root = Path(tmp)
        shutil.copytree(source, root / "repo" / SENTIMENT_MODEL)
        lines = (settings.data_dir / "sentiment" / "vader_amazon_snippets.tsv").read_text().splitlines()
        with LakeWriter(root / "lake", flush_rows=5000) as lake:
            for i, line in enumerate(lines):
                event_id, rating, text = line.split("\t", 2)
                row = {"event_id": event_id, "text": text, "rating": stars(float(rating))}
                lake.append("review", row, at=now - timedelta(minutes=len(lines) - i))
        registry = ModelRegistry(ModelRepository(root / "repo"))
        job = RetrainJob(
            request_id="bench",
            model=SENTIMENT_MODEL,
            reason="amazon feedback",
            eval_fraction=args.eval_fraction,
            policy=PromotionPolicy(margin=args.margin),
        )
        feedback = lake_reader(root / "lake")
        outcome = run_retrain(job, feedback, registry, trainer=SentimentTrainer(), work_dir=root, now=now)
        print(json.dumps({k: v for k, v in outcome.to_dict().items() if k != "job"}, indent=2))


if __name__ == "__main__":
    main()
