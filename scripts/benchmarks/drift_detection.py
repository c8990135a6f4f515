"""Drift detection on real sentences: false-alarm rate on a stationary stream and detection delay
after a domain switch (movie-review sentences -> amazon product-review sentences, VADER data).

For each of ``--splits`` random splits of the movie sentences into classifier-training, reference
and stream pools: fit a softmax classifier on the training embeddings (all-MiniLM-L6-v2 from
models/text/encoder.py), build the ReferenceProfile from its predictions on the reference pool, then
  * stationary: feed the shuffled stream pool (held-out movie sentences) through a DriftMonitor and
    count drifted windows and retrain requests;
  * switch: feed ``--lead`` stream-pool sentences, then sentences of which a fraction ``--mix`` is
    amazon, and record the events after the switch until ``should_retrain``.
Embeddings are cached under Settings.cache_dir. Prints one table per window size / policy.

    .venv/bin/python scripts/benchmarks/drift_detection.py --windows 100 200 500 --consecutive 3
"""

from __future__ import annotations

import argparse
import hashlib
import os
import time
from pathlib import Path

import numpy as np
import torch

from channelpulse.config import Settings
from channelpulse.models.drift import DriftMonitor, DriftReport, ReferenceProfile, TriggerPolicy

LABELS = ("negative", "neutral", "positive")


def read_vader(path: Path) -> tuple[list[str], np.ndarray]:
    """Texts and labels (0 neg, 1 neutral, 2 pos; rating <= -0.5 / >= 0.5) of a VADER TSV file."""
    texts, labels = [], []
    for line in path.read_text(encoding="utf-8").splitlines():
        parts = line.split("\t", 2)
        if len(parts) == 3:
            rating = float(parts[1])
            texts.append(parts[2])
            labels.append(0 if rating <= -0.5 else 2 if rating >= 0.5 else 1)
    return texts, np.asarray(labels)


def embed(texts: list[str], cache: Path) -> np.ndarray:
    if cache.exists():
        return np.load(cache)
    from channelpulse.models.text.encoder import shared_encoder

    started = time.time()
    emb = shared_encoder().encode(texts)
    print(f"embedded {len(texts)} sentences in {time.time() - started:.0f}s -> {cache}", flush=True)
    cache.parent.mkdir(parents=True, exist_ok=True)
    np.save(cache, emb)
    return emb


def fit_softmax(x: np.ndarray, y: np.ndarray, epochs: int = 300) -> torch.nn.Linear:
    """A multinomial logistic regression on embeddings (full-batch Adam, light L2)."""
    torch.manual_seed(0)
    head = torch.nn.Linear(x.shape[1], len(LABELS))
    opt = torch.optim.Adam(head.parameters(), lr=0.05, weight_decay=1e-4)
    xt, yt = torch.from_numpy(x).float(), torch.from_numpy(y).long()
    for _ in range(epochs):
        opt.zero_grad()
        torch.nn.functional.cross_entropy(head(xt), yt).backward()
        opt.step()
    return head


def predict(head: torch.nn.Linear, x: np.ndarray) -> np.ndarray:
    with torch.no_grad():
        return torch.softmax(head(torch.from_numpy(x).float()), dim=1).numpy()


def run_stream(monitor: DriftMonitor, probs: np.ndarray, emb: np.ndarray, batch: int = 32) -> list[DriftReport]:
    reports: list[DriftReport] = []
    for start in range(0, len(probs), batch):
        reports += monitor.observe_all(probs[start : start + batch], emb[start : start + batch])
    return reports


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--windows", type=int, nargs="+", default=[100, 200, 500])
    parser.add_argument("--consecutive", type=int, nargs="+", default=[2, 3])
    parser.add_argument("--alpha", type=float, default=0.01)
    parser.add_argument("--splits", type=int, default=20, help="random train/reference/stream splits")
    parser.add_argument("--lead", type=int, default=1000, help="movie sentences before the switch")
    parser.add_argument("--mix", type=float, nargs="+", default=[1.0, 0.5, 0.25], help="amazon share after")
    args = parser.parse_args()
    torch.set_num_threads(int(os.environ.get("TORCH_THREADS", "2")))

    settings = Settings()
    data = settings.data_dir / "sentiment"
    movie_texts, movie_y = read_vader(data / "vader_movie_snippets.tsv")
    amazon_texts, _ = read_vader(data / "vader_amazon_snippets.tsv")
    cache = settings.cache_dir / "benchmarks" / "drift"
    tag = hashlib.sha1("\n".join(movie_texts + amazon_texts).encode()).hexdigest()[:12]
    movie_x = embed(movie_texts, cache / f"movie-{tag}.npy")
    amazon_x = embed(amazon_texts, cache / f"amazon-{tag}.npy")
    n = len(movie_texts)
    print(f"movie {n} sentences, amazon {len(amazon_texts)}; {args.splits} splits; alpha {args.alpha}")

    # per (window, k): counters over all splits
    rows: dict[tuple[int, int], dict[str, list[float]]] = {}
    accuracy = []
    for split in range(args.splits):
        rng = np.random.default_rng(split)
        order = rng.permutation(n)
        train, ref, pool = np.split(order, [int(0.3 * n), int(0.65 * n)])
        head = fit_softmax(movie_x[train], movie_y[train])
        ref_probs = predict(head, movie_x[ref])
        accuracy.append(float((ref_probs.argmax(1) == movie_y[ref]).mean()))
        profile = ReferenceProfile.build(ref_probs, movie_x[ref], LABELS)
        pool_probs, amazon_probs = predict(head, movie_x[pool]), predict(head, amazon_x)
        for window in args.windows:
            for k in args.consecutive:
                stats = rows.setdefault((window, k), {})
                policy = TriggerPolicy(consecutive=k, cooldown_s=3600.0, rearm_windows=2)
                monitor = DriftMonitor(profile, window=window, alpha=args.alpha, policy=policy)
                reports = run_stream(monitor, pool_probs, movie_x[pool])
                stats.setdefault("windows", []).append(len(reports))
                stats.setdefault("drifted", []).append(sum(r.drifted for r in reports))
                stats.setdefault("requests", []).append(sum(r.should_retrain for r in reports))
                stats.setdefault("events", []).append(len(pool))
                for mix in args.mix:
                    lead = rng.choice(len(pool), args.lead, replace=False)
                    after = 3 * len(amazon_x)
                    from_amazon = rng.random(after) < mix
                    src_a = rng.choice(len(amazon_x), after)
                    src_m = rng.choice(len(pool), after)
                    probs = np.concatenate(
                        [
                            pool_probs[lead],
                            np.where(from_amazon[:, None], amazon_probs[src_a], pool_probs[src_m]),
                        ]
                    )
                    emb = np.concatenate(
                        [
                            movie_x[pool][lead],
                            np.where(from_amazon[:, None], amazon_x[src_a], movie_x[pool][src_m]),
                        ]
                    )
                    monitor = DriftMonitor(profile, window=window, alpha=args.alpha, policy=policy)
                    fired = [r for r in run_stream(monitor, probs, emb) if r.should_retrain]
                    late = [r.events_seen - args.lead for r in fired if r.events_seen > args.lead]
                    stats.setdefault(f"delay@{mix}", []).append(late[0] if late else np.inf)
        print(f"split {split + 1}/{args.splits} done", flush=True)

    print(f"\nclassifier accuracy on the reference pool: {np.mean(accuracy):.3f} (3 classes)")
    header = "window  k  windows  drifted-window-rate  retrain-requests/10k-events"
    header += "".join(f"  delay@mix{m:g} median [min..max]" for m in args.mix)
    print(header)
    for (window, k), s in sorted(rows.items()):
        rate = sum(s["drifted"]) / sum(s["windows"])
        per10k = 1e4 * sum(s["requests"]) / sum(s["events"])
        line = f"{window:6d} {k:2d} {int(sum(s['windows'])):8d}  {rate:19.4f}  {per10k:27.2f}"
        for m in args.mix:
            d = np.asarray(s[f"delay@{m}"])
            missed = int(np.isinf(d).sum())
            ok = d[np.isfinite(d)]
            cell = f"{np.median(ok):.0f} [{ok.min():.0f}..{ok.max():.0f}]" if len(ok) else "-"
            cell += f" missed {missed}" if missed else ""
            line += f"  {cell:>31}"
        print(line)


if __name__ == "__main__":
    main()
