"""Loading VADER files and user tables, and the fixed hash split."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import polars as pl
import pytest

from channelpulse.models.sentiment.data import TextDataset, in_test_split, load_dataset, load_table, load_vader, split
from channelpulse.models.sentiment.labels import NEGATIVE, NEUTRAL, POSITIVE


def test_vader_file_with_crlf_and_blank_lines(tmp_path: Path) -> None:
    path = tmp_path / "snippets.tsv"
    path.write_bytes(
        b"7_1\t-1.25\tit broke, twice.\r\n7_2\t0.1\tthe box is blue\r\n\r\n8_1\t2.5\tlove it\ttabs\r\n"
    )
    data = load_vader(path)
    assert data.texts == ("it broke, twice.", "the box is blue", "love it\ttabs")
    assert data.labels.tolist() == [NEGATIVE, NEUTRAL, POSITIVE]
    assert data.groups == ("7", "7", "8")  # sentences of one review share a split group
    assert data.source == "snippets.tsv"


def test_vader_file_rejects_malformed_lines(tmp_path: Path) -> None:
    path = tmp_path / "bad.tsv"
    path.write_text("1\t0.5\tfine\n2\tno rating column\n", encoding="utf-8")
    with pytest.raises(ValueError, match=r"bad.tsv:2"):
        load_vader(path)


def test_csv_with_labels_and_parquet_with_star_ratings(tmp_path: Path) -> None:
    csv = tmp_path / "labelled.csv"
    pl.DataFrame({"text": ["great", "meh", "bad"], "label": ["positive", "Neutral", "negative"]}).write_csv(csv)
    labelled = load_dataset(csv)
    assert labelled.texts == ("great", "meh", "bad")
    assert labelled.labels.tolist() == [POSITIVE, NEUTRAL, NEGATIVE]
    assert labelled.groups == labelled.texts  # no id column: the text is the split group

    parquet = tmp_path / "stars.parquet"
    pl.DataFrame({"id": [10, 11, 12], "text": ["a", "b", "c"], "rating": [5, 3, 1]}).write_parquet(parquet)
    stars = load_table(parquet, rating_scale="stars5")
    assert stars.labels.tolist() == [POSITIVE, NEUTRAL, NEGATIVE]
    assert stars.groups == ("10", "11", "12")


def test_tables_need_text_and_a_label_or_rating(tmp_path: Path) -> None:
    no_text = tmp_path / "no_text.csv"
    pl.DataFrame({"body": ["x"], "label": ["positive"]}).write_csv(no_text)
    with pytest.raises(ValueError, match="no 'text' column"):
        load_table(no_text)
    no_label = tmp_path / "no_label.csv"
    pl.DataFrame({"text": ["x"], "stars": [4]}).write_csv(no_label)
    with pytest.raises(ValueError, match="'label' or a 'rating'"):
        load_table(no_label)
    with pytest.raises(ValueError, match="unsupported file type"):
        load_dataset(tmp_path / "data.json")


def test_split_is_fixed_disjoint_keeps_groups_together_and_ignores_order() -> None:
    groups = [f"review{i // 3}" for i in range(3000)]
    data = TextDataset(tuple(f"s{i}" for i in range(3000)), np.zeros(3000, dtype=np.int64), tuple(groups))
    train, test = split(data, 0.2)
    assert set(train.texts).isdisjoint(test.texts) and len(train) + len(test) == 3000
    assert set(test.groups).isdisjoint(train.groups)
    assert 0.15 < len(test) / 3000 < 0.25
    shuffled = data.subset(np.random.default_rng(1).permutation(3000))
    assert set(split(shuffled, 0.2)[1].texts) == set(test.texts)
    assert all(in_test_split(g, 0.2) for g in test.groups)


def test_dataset_checks_lengths_and_label_range() -> None:
    with pytest.raises(ValueError, match="same length"):
        TextDataset(("a", "b"), np.array([0]), ("a", "b"))
    with pytest.raises(ValueError, match="indices into SENTIMENT_LABELS"):
        TextDataset.from_texts(["a"], [3])
    both = TextDataset.concat([TextDataset.from_texts(["a"], [0], "x"), TextDataset.from_texts(["b"], [2], "y")])
    assert both.label_counts() == {"negative": 1, "neutral": 0, "positive": 1} and both.source == "x + y"
