"""How tests/integration/test_lifecycle.py's phases were chosen (docs/lifecycle.md, section 9).

For candidate phases of 1,000 rows: the drift p-value of each window of 200 against the served
version 2's profile, and what the retrainer would decide on them (its own SentimentTrainer from
version 2 on a 70/30 split: candidate and serving macro-F1, paired bootstrap win rate).

    .venv/bin/python scripts/lifecycle_phases.py [--seed 9] [PHASE ...]   # ~2 min per phase on 2 cores
"""

from __future__ import annotations

import argparse
import json
import tempfile
from collections.abc import Callable
from pathlib import Path

import numpy as np

from channelpulse.config import REPO_ROOT, Settings
from channelpulse.models.drift.compare import compare_window
from channelpulse.models.drift.profile import ReferenceProfile, prediction_scores
from channelpulse.models.retrain.decision import paired_win_rate
from channelpulse.models.retrain.feedback import eval_split
from channelpulse.models.retrain.trainers import SentimentTrainer, metrics_of
from channelpulse.models.sentiment.classifier import load_classifier, predict_texts
from channelpulse.models.sentiment.corpus import AMAZON_FILE, MOVIE_FILE, Corpus, load_corpus
from channelpulse.models.sentiment.data import TextDataset, load_vader
from channelpulse.models.sentiment.evaluate import classification_metrics

SERVED = REPO_ROOT / "models" / "repository" / "sentiment" / "2"
WINDOW = 200


def phases(corpus: Corpus, root: Path, rng: np.random.Generator) -> dict[str, Callable[[], TextDataset]]:
    def take(data: TextDataset, n: int, labels: set[int] | None = None) -> TextDataset:
        rows = rng.permutation(len(data))
        if labels is not None:
            rows = rows[np.isin(data.labels[rows], sorted(labels))]
        return data.subset(rows[:n])

    def by_class(data: TextDataset, counts: list[int]) -> TextDataset:
        return TextDataset.concat([take(data, n, {k}) for k, n in enumerate(counts)])

    def shuffled(data: TextDataset) -> TextDataset:
        return data.subset(rng.permutation(len(data)))

    tweets, finance = corpus.train["semeval"], corpus.train["finance"]
    return {
        "tweets_natural": lambda: shuffled(take(tweets, 1000)),
        "tweets_neg40": lambda: shuffled(by_class(tweets, [400, 300, 300])),
        "tweets_neg55": lambda: shuffled(by_class(tweets, [550, 250, 200])),
        "tweets_finance_neg": lambda: shuffled(
            TextDataset.concat([by_class(tweets, [300, 200, 200]), by_class(finance, [150, 100, 50])])
        ),
        "movie6_neutral_amazon3_amazon1": lambda: shuffled(TextDataset.concat([
            take(load_vader(root / MOVIE_FILE), 600),
            take(load_vader(root / AMAZON_FILE), 300, {1}),
            take(load_vader(root / AMAZON_FILE), 100, {0, 2}),
        ])),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("phase", nargs="*", help="phases to measure (default: all)")
    parser.add_argument("--seed", type=int, default=9)
    args = parser.parse_args()
    root = Settings().data_dir
    reference = ReferenceProfile.load(SERVED)
    model, tokenizer, meta = load_classifier(SERVED, "cpu")
    table = phases(load_corpus(root), root, np.random.default_rng(args.seed))
    macro_f1 = lambda p, y: classification_metrics(p, y)["macro_f1"]  # noqa: E731
    for name in args.phase or list(table):
        data = table[name]()
        probs, embeddings = predict_texts(model, tokenizer, data.texts, max_length=int(meta.get("max_length", 128)))
        p_values = [
            compare_window(reference, probs[w].argmax(axis=1), prediction_scores(probs[w]),
                           reference.project(embeddings[w])).p_value
            for w in (slice(s, s + WINDOW) for s in range(0, len(data) - WINDOW + 1, WINDOW))
        ]
        fit, held = eval_split(data, 0.3)
        trainer = SentimentTrainer(progress=False)
        with tempfile.TemporaryDirectory() as tmp:
            trainer.train(fit, Path(tmp) / "candidate", SERVED)
            candidate, serving = trainer.predict([Path(tmp) / "candidate", SERVED], held)
        new, old = metrics_of(candidate, held.labels)["macro_f1"], metrics_of(serving, held.labels)["macro_f1"]
        win = paired_win_rate(candidate.argmax(axis=1), serving.argmax(axis=1), held.labels, macro_f1, 1000)
        print(json.dumps({"phase": name, "p": [f"{p:.0e}" for p in p_values], "eval_rows": len(held),
                          "candidate": round(new, 4), "serving": round(old, 4), "gain": round(new - old, 4),
                          "win_rate": win}), flush=True)


if __name__ == "__main__":
    main()
