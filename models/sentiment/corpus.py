"""All shared sentiment sources with their train / validation / test splits (the data of version 2).

* SST-2 (GLUE train phrases): validation and test are the full sentences of a sha1 20% (halved by
  a second sha1); training is every phrase that is not a token span of a held-out sentence.
* SemEval-2017 4A: train 2013train + 2015train + 2016train + 2016devtest; validation 2013dev +
  2016dev; test 2016test (the headline figure), 2013test, 2014test, 2015test, 2014sarcasm,
  sms2013, livejournal2014. Deduplicated by id; no validation or test id is trained on and no
  test id is validated on.
* TFNS finance: test = a 15% stratified slice (seeded); validation = 10% of the rest, stratified.
* VADER movie (its current 9,785 rows): test = the fixed sha1 20% split of version 1 (by id);
  validation = 10% of the rest, stratified.
* VADER amazon: test only (all rows), the cross-domain check; never trained or validated on.

Paths are relative to the shared data root (``../shared/data``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from channelpulse.models.sentiment.data import TextDataset, load_vader, split
from channelpulse.models.sentiment.sources import (
    dedupe_by_id,
    drop_ids,
    load_semeval,
    load_sst2,
    load_tfns,
    sst2_sentence_split,
    stratified_split,
    text_bucket,
)

SST2_FILE = "sentiment_train/sst2_glue_train/train.tsv"
SEMEVAL_DIR = "sentiment_train/semeval2017_task4a/Subtask_A"
TFNS_FILE = "sentiment_train/twitter_financial_news_sentiment/sent_train.csv"
MOVIE_FILE = "sentiment/vader_movie_snippets.tsv"
AMAZON_FILE = "sentiment/vader_amazon_snippets.tsv"

SEMEVAL_TRAIN = ("twitter-2013train-A.txt", "twitter-2015train-A.txt", "twitter-2016train-A.txt",
                 "twitter-2016devtest-A.txt")
SEMEVAL_VALIDATION = ("twitter-2013dev-A.txt", "twitter-2016dev-A.txt")
SEMEVAL_TEST = {
    "semeval_2016test": "twitter-2016test-A.txt",
    "semeval_2013test": "twitter-2013test-A.txt",
    "semeval_2014test": "twitter-2014test-A.txt",
    "semeval_2015test": "twitter-2015test-A.txt",
    "semeval_2014sarcasm": "twitter-2014sarcasm-A.txt",
    "semeval_sms2013": "sms-2013test-A.tsv",
    "semeval_livejournal2014": "livejournal-2014test-A.tsv",
}

SST2_HELD_FRACTION = 0.2  # of the full sentences; half validation, half test
FINANCE_TEST_FRACTION = 0.15
VALIDATION_FRACTION = 0.1
MOVIE_TEST_FRACTION = 0.2
SEED = 0


@dataclass(frozen=True)
class Corpus:
    """Per-source datasets of each split (keys: sst2, semeval, finance, movie, amazon, semeval_*)."""

    train: dict[str, TextDataset] = field(default_factory=dict)
    validation: dict[str, TextDataset] = field(default_factory=dict)
    test: dict[str, TextDataset] = field(default_factory=dict)

    def describe(self) -> dict[str, dict[str, object]]:
        return {
            split_name: {name: data.describe() for name, data in part.items()}
            for split_name, part in (("train", self.train), ("validation", self.validation), ("test", self.test))
        }


def _concat_dedup(datasets: list[TextDataset], source: str) -> TextDataset:
    data = dedupe_by_id(TextDataset.concat(datasets))
    return TextDataset(data.texts, data.labels, data.groups, source)


def semeval_splits(folder: Path) -> tuple[TextDataset, TextDataset, dict[str, TextDataset]]:
    """``(train, validation, tests)`` of SemEval-2017 4A (see the module table)."""
    folder = Path(folder)
    tests = {name: dedupe_by_id(load_semeval(folder / f)) for name, f in SEMEVAL_TEST.items()}
    test_ids = {g for data in tests.values() for g in data.groups}
    validation = drop_ids(_concat_dedup([load_semeval(folder / f) for f in SEMEVAL_VALIDATION],
                                        "semeval 2013dev+2016dev"), test_ids)
    held = test_ids | set(validation.groups)
    train = drop_ids(_concat_dedup([load_semeval(folder / f) for f in SEMEVAL_TRAIN],
                                   "semeval 2013train+2015train+2016train+2016devtest"), held)
    return train, validation, tests


def sst2_splits(path: Path) -> tuple[TextDataset, TextDataset, TextDataset]:
    """``(train, validation, test)`` of SST-2: sentence-level held-out sentences split in halves."""
    train, held = sst2_sentence_split(load_sst2(path), SST2_HELD_FRACTION)
    to_test = [i for i, t in enumerate(held.texts) if text_bucket("test:" + t) < 0.5]
    to_val = sorted(set(range(len(held))) - set(to_test))
    return (train, held.subset(to_val, f"{held.source} [validation half]"),
            held.subset(to_test, f"{held.source} [test half]"))


def load_corpus(root: Path, seed: int = SEED) -> Corpus:
    """Every shared sentiment source under ``root`` (the shared data folder) with its splits."""
    root = Path(root)
    corpus = Corpus()
    corpus.train["sst2"], corpus.validation["sst2"], corpus.test["sst2"] = sst2_splits(root / SST2_FILE)
    corpus.train["semeval"], corpus.validation["semeval"], tests = semeval_splits(root / SEMEVAL_DIR)
    corpus.test.update(tests)
    finance, corpus.test["finance"] = stratified_split(load_tfns(root / TFNS_FILE), FINANCE_TEST_FRACTION, seed)
    corpus.train["finance"], corpus.validation["finance"] = stratified_split(finance, VALIDATION_FRACTION, seed + 1)
    movie_rest, corpus.test["movie"] = split(load_vader(root / MOVIE_FILE), MOVIE_TEST_FRACTION)
    corpus.train["movie"], corpus.validation["movie"] = stratified_split(movie_rest, VALIDATION_FRACTION, seed + 1)
    corpus.test["amazon"] = load_vader(root / AMAZON_FILE)
    return corpus
