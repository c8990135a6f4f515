"""Sentiment model: quality on the VADER sentences (in-domain and cross-domain), training time and
in-process predict throughput on this machine.

For each training set (movie, amazon, movie + amazon: their fixed hash-train splits) a head is fitted
on the frozen all-MiniLM-L6-v2 embeddings exactly as ``train_version`` does, and measured on the
hash-test split of both files. Then ``train_candidate`` (the retrainer's path, given precomputed
embeddings) is timed on the amazon file, and ``SentimentModel.predict`` throughput is measured with
64-sentence batches on the shipped version 1. Prints the load average too: the CPU is shared.

    .venv/bin/python scripts/benchmarks/sentiment.py [--cache] [--threads 2] [--balance-classes]
"""

from __future__ import annotations

import argparse
import hashlib
import os
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

from channelpulse.config import Settings
from channelpulse.models.contract import SENTIMENT_MODEL
from channelpulse.models.sentiment.data import TextDataset, load_vader, split_indices
from channelpulse.models.sentiment.encoding import checkpoint_reference, embed_texts, encoder_for
from channelpulse.models.sentiment.evaluate import classification_metrics
from channelpulse.models.sentiment.model import SentimentModel
from channelpulse.models.sentiment.training import TrainConfig, fit_head, train_candidate

FILES = {"movie": "vader_movie_snippets.tsv", "amazon": "vader_amazon_snippets.tsv"}


def load_embedded(settings: Settings, use_cache: bool) -> dict[str, tuple[TextDataset, np.ndarray]]:
    encoder = encoder_for(checkpoint_reference(settings.encoder_checkpoint))
    out = {}
    for name, file in FILES.items():
        path = settings.data_dir / "sentiment" / file
        data = load_vader(path)
        key = hashlib.sha256(path.read_bytes() + encoder.checkpoint.encode()).hexdigest()[:16]
        cache = settings.cache_dir / "benchmarks" / "sentiment" / f"{name}-{key}.npy"
        if use_cache and cache.exists():
            x = np.load(cache)
            print(f"{name}: {len(data)} sentences, embeddings from {cache}")
        else:
            started = time.perf_counter()
            x = embed_texts(encoder, data.texts, progress=True, desc=name)
            took = time.perf_counter() - started
            print(f"{name}: embedded {len(data)} sentences in {took:.1f}s = {len(data) / took:.0f} sentences/s")
            if use_cache:
                cache.parent.mkdir(parents=True, exist_ok=True)
                np.save(cache, x)
        out[name] = (data, x)
    return out


def quality_table(embedded: dict[str, tuple[TextDataset, np.ndarray]], config: TrainConfig) -> None:
    parts = {}
    for name, (data, x) in embedded.items():
        train_idx, test_idx = split_indices(data, config.test_fraction)
        parts[name] = (data.labels[train_idx], x[train_idx], data.labels[test_idx], x[test_idx])
    header = "".join(f"{n + ' test: acc / macro-F1':>30}" for n in FILES)
    print(f"\n{'trained on':<16}{'rows':>6}{'fit s':>7}{header}")
    for train_sets in (["movie"], ["amazon"], ["movie", "amazon"]):
        y = np.concatenate([parts[n][0] for n in train_sets])
        x = np.concatenate([parts[n][1] for n in train_sets])
        started = time.perf_counter()
        head, _ = fit_head(x, y, config, torch.device("cpu"))
        took = time.perf_counter() - started
        cells = []
        for name in FILES:
            test_y, test_x = parts[name][2], parts[name][3]
            with torch.inference_mode():
                pred = head(torch.from_numpy(test_x)).argmax(dim=1).numpy()
            m = classification_metrics(pred, test_y)
            cells.append(f"{m['accuracy']:.3f} / {m['macro_f1']:.3f} (n={int(m['rows'])})")
        print(f"{' + '.join(train_sets):<16}{len(y):>6}{took:>7.2f}" + "".join(f"{c:>30}" for c in cells))


def candidate_time(embedded: dict[str, tuple[TextDataset, np.ndarray]], base: Path) -> None:
    data, x = embedded["amazon"]
    with tempfile.TemporaryDirectory() as tmp:
        started = time.perf_counter()
        report = train_candidate(data, Path(tmp) / "2", base_version=base, embeddings=x, device="cpu")
        took = time.perf_counter() - started
    h = report.holdout
    print(f"\ntrain_candidate(amazon, embeddings given, base=version 1): {took:.2f}s, "
          f"amazon test accuracy {h['accuracy']:.3f}, macro-F1 {h['macro_f1']:.3f}")


def throughput(model: SentimentModel, texts: list[str], batch: int) -> None:
    model.predict(texts[:batch])  # warm-up
    started = time.perf_counter()
    for start in range(0, len(texts), batch):
        model.predict(texts[start : start + batch])
    took = time.perf_counter() - started
    print(f"\npredict, batch {batch}: {len(texts)} sentences in {took:.1f}s = {len(texts) / took:.0f} sentences/s "
          f"({1000 * took / -(-len(texts) // batch):.0f} ms per batch)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cache", action="store_true", help="reuse/store embeddings under Settings.cache_dir")
    parser.add_argument("--threads", type=int, default=torch.get_num_threads(), help="torch threads")
    parser.add_argument("--balance-classes", action="store_true", help="class-weighted loss in the quality table")
    parser.add_argument("--predict-sentences", type=int, default=1024, help="sentences for the throughput run")
    args = parser.parse_args()
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    torch.set_num_threads(args.threads)
    settings = Settings()
    print(f"torch threads {torch.get_num_threads()}, cpus {os.cpu_count()}, load average {os.getloadavg()}")
    embedded = load_embedded(settings, args.cache)
    config = TrainConfig()
    quality_table(embedded, TrainConfig(balance_classes=args.balance_classes))
    version_dir = settings.model_repository_source / SENTIMENT_MODEL / "1"
    candidate_time(embedded, version_dir)
    model = SentimentModel.load(version_dir, device="cpu")
    movie, _ = embedded["movie"]
    test = movie.subset(split_indices(movie, config.test_fraction)[1])
    throughput(model, list(test.texts[: args.predict_sentences]), 64)
    print(f"load average at the end {os.getloadavg()}")


if __name__ == "__main__":
    main()
