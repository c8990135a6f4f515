"""Labelled sentences: :class:`TextDataset`, loaders for the VADER TSVs and user tables, and the
fixed hash split.

The split is deterministic and independent of row order: a sentence goes to the test split when
``sha1(group) mod 1000 < test_fraction * 1000``. The group is the id up to its first ``_`` for the
VADER files (so all sentences of one amazon review land in the same split; movie ids have no ``_``),
the ``id`` column of a table when it has one, else the text itself.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import polars as pl

from channelpulse.models.contract import SENTIMENT_LABELS
from channelpulse.models.sentiment.labels import RatingScale, names_to_labels, ratings_to_labels

DEFAULT_TEST_FRACTION = 0.2


@dataclass(frozen=True)
class TextDataset:
    """Sentences with integer labels (indices into SENTIMENT_LABELS) and split groups."""

    texts: tuple[str, ...]
    labels: np.ndarray
    groups: tuple[str, ...]
    source: str = ""

    def __post_init__(self) -> None:
        labels = np.asarray(self.labels, dtype=np.int64)
        object.__setattr__(self, "labels", labels)
        if not len(self.texts) == len(labels) == len(self.groups):
            raise ValueError("texts, labels and groups must have the same length")
        if labels.size and (labels.min() < 0 or labels.max() >= len(SENTIMENT_LABELS)):
            raise ValueError("labels must be indices into SENTIMENT_LABELS")

    @classmethod
    def from_texts(cls, texts: Sequence[str], labels: Sequence[int] | np.ndarray, source: str = "") -> TextDataset:
        """A dataset whose split groups are the texts themselves."""
        return cls(tuple(texts), np.asarray(labels, dtype=np.int64), tuple(texts), source)

    def __len__(self) -> int:
        return len(self.texts)

    def subset(self, indices: Sequence[int] | np.ndarray, source: str | None = None) -> TextDataset:
        idx = np.asarray(indices, dtype=np.int64)
        return TextDataset(
            tuple(self.texts[i] for i in idx),
            self.labels[idx],
            tuple(self.groups[i] for i in idx),
            self.source if source is None else source,
        )

    def label_counts(self) -> dict[str, int]:
        counts = np.bincount(self.labels, minlength=len(SENTIMENT_LABELS))
        return {name: int(n) for name, n in zip(SENTIMENT_LABELS, counts, strict=True)}

    def describe(self) -> dict[str, object]:
        """Source, size and label counts (what meta.json records about training data)."""
        return {"source": self.source, "rows": len(self), "labels": self.label_counts()}

    @staticmethod
    def concat(parts: Sequence[TextDataset]) -> TextDataset:
        if not parts:
            raise ValueError("nothing to concatenate")
        return TextDataset(
            tuple(t for p in parts for t in p.texts),
            np.concatenate([p.labels for p in parts]),
            tuple(g for p in parts for g in p.groups),
            " + ".join(p.source for p in parts),
        )


def load_vader(path: Path) -> TextDataset:
    """A VADER sentence file: tab-separated ``id \\t mean_rating \\t text``, no header, any line ends."""
    ids: list[str] = []
    ratings: list[float] = []
    texts: list[str] = []
    with Path(path).open(encoding="utf-8") as handle:
        for lineno, line in enumerate(handle, 1):
            line = line.rstrip("\r\n")
            if not line.strip():
                continue
            parts = line.split("\t", 2)
            if len(parts) != 3:
                raise ValueError(f"{path}:{lineno}: expected 'id<TAB>rating<TAB>text'")
            ids.append(parts[0])
            ratings.append(float(parts[1]))
            texts.append(parts[2])
    labels = ratings_to_labels(np.asarray(ratings), "vader")
    return TextDataset(tuple(texts), labels, tuple(i.split("_", 1)[0] for i in ids), Path(path).name)


def load_table(path: Path, rating_scale: RatingScale = "vader") -> TextDataset:
    """A CSV or Parquet table with a ``text`` column and either ``label`` (negative|neutral|positive)
    or a numeric ``rating`` on ``rating_scale`` ("vader": -4..4, "stars5": 1..5); optional ``id``."""
    path = Path(path)
    frame = pl.read_parquet(path) if path.suffix.lower() == ".parquet" else pl.read_csv(path)
    if "text" not in frame.columns:
        raise ValueError(f"{path}: no 'text' column (columns: {frame.columns})")
    frame = frame.filter(pl.col("text").is_not_null())
    texts = [str(t) for t in frame["text"].to_list()]
    if "label" in frame.columns:
        labels = names_to_labels([str(v) for v in frame["label"].to_list()])
    elif "rating" in frame.columns:
        labels = ratings_to_labels(frame["rating"].cast(pl.Float64).to_numpy(), rating_scale)
    else:
        raise ValueError(f"{path}: needs a 'label' or a 'rating' column (columns: {frame.columns})")
    groups = [str(g) for g in frame["id"].to_list()] if "id" in frame.columns else texts
    return TextDataset(tuple(texts), labels, tuple(groups), path.name)


def load_dataset(path: Path, rating_scale: RatingScale = "vader") -> TextDataset:
    """``.tsv`` files as VADER sentence files, ``.csv``/``.parquet`` as tables."""
    suffix = Path(path).suffix.lower()
    if suffix == ".tsv":
        return load_vader(path)
    if suffix in (".csv", ".parquet"):
        return load_table(path, rating_scale)
    raise ValueError(f"{path}: unsupported file type {suffix!r} (use .tsv, .csv or .parquet)")


def in_test_split(group: str, test_fraction: float = DEFAULT_TEST_FRACTION) -> bool:
    """Whether ``group`` belongs to the test split (sha1 of the group, fixed for ever)."""
    bucket = int.from_bytes(hashlib.sha1(group.encode("utf-8")).digest()[:8], "big") % 1000
    return bucket < round(test_fraction * 1000)


def split_indices(
    data: TextDataset, test_fraction: float = DEFAULT_TEST_FRACTION
) -> tuple[np.ndarray, np.ndarray]:
    """Row indices of the fixed (train, test) split of ``data`` by hashed group."""
    if not 0.0 < test_fraction < 1.0:
        raise ValueError("test_fraction must lie strictly between 0 and 1")
    mask = np.array([in_test_split(g, test_fraction) for g in data.groups], dtype=bool)
    return np.flatnonzero(~mask), np.flatnonzero(mask)


def split(data: TextDataset, test_fraction: float = DEFAULT_TEST_FRACTION) -> tuple[TextDataset, TextDataset]:
    """The fixed (train, test) split of ``data`` by hashed group."""
    train_idx, test_idx = split_indices(data, test_fraction)
    return (
        data.subset(train_idx, f"{data.source} [train split]"),
        data.subset(test_idx, f"{data.source} [test split]"),
    )
