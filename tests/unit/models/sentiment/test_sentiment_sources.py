"""Parsers and splits of the shared sentiment sources, on small fixtures written like the real files."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from channelpulse.models.sentiment.data import TextDataset
from channelpulse.models.sentiment.labels import NEGATIVE, NEUTRAL, POSITIVE
from channelpulse.models.sentiment.sources import (
    decode_semeval_text,
    dedupe_by_id,
    drop_ids,
    load_semeval,
    load_sst2,
    load_tfns,
    sentence_rows,
    sst2_sentence_split,
    stratified_split,
)

SST2_SENTENCES = [
    ("a gorgeous , witty , seductive movie", 1),
    ("the plot is a dull mess from start to finish", 0),
    ("one of the most moving films of the year", 1),
    ("it never finds its footing and the jokes fall flat", 0),
    ("an intelligent and warm story about growing old", 1),
    ("clumsy , tedious and far too long", 0),
]


def _sst2_file(tmp_path: Path) -> Path:
    rows = []
    for sentence, label in SST2_SENTENCES:
        tokens = sentence.split()
        rows.append((sentence, label))
        rows.append((" ".join(tokens[1:4]), label))  # phrases of the sentence, as in the treebank
        rows.append((" ".join(tokens[-3:]), label))
    rows.append(("a gorgeous , witty , seductive movie", 1))  # exact duplicate
    path = tmp_path / "train.tsv"
    path.write_text("sentence\tlabel\n" + "".join(f"{t} \t{y}\n" for t, y in rows), encoding="utf-8")
    return path


def test_sst2_loads_deduplicated_phrases_with_labels(tmp_path: Path) -> None:
    data = load_sst2(_sst2_file(tmp_path))
    assert len(data) == 18
    assert data.texts[0] == "a gorgeous , witty , seductive movie"  # the space before the tab is stripped
    assert data.labels[0] == POSITIVE and data.labels[3] == NEGATIVE


def test_sentence_rows_are_the_rows_no_other_row_contains(tmp_path: Path) -> None:
    data = load_sst2(_sst2_file(tmp_path))
    rows = sentence_rows(data)
    assert sorted(data.texts[r] for r in rows) == sorted(s for s, _ in SST2_SENTENCES)


def test_a_token_inside_a_word_does_not_count_as_containment() -> None:
    data = TextDataset.from_texts(["the movie", "themovie is bad"], [POSITIVE, NEGATIVE])
    assert sorted(sentence_rows(data).tolist()) == [0, 1]


@pytest.mark.parametrize("fraction", [0.3, 0.5, 0.7])
def test_no_sst2_sentence_straddles_train_and_validation(tmp_path: Path, fraction: float) -> None:
    data = load_sst2(_sst2_file(tmp_path))
    train, validation = sst2_sentence_split(data, fraction, min_tokens=2)
    assert 0 < len(validation) < len(SST2_SENTENCES)
    assert set(validation.texts) <= {s for s, _ in SST2_SENTENCES}  # whole sentences only
    for sentence in validation.texts:
        padded = f" {sentence} "
        assert not any(f" {phrase} " in padded for phrase in train.texts), sentence
    kept_sentences = {s for s, _ in SST2_SENTENCES} - set(validation.texts)
    assert kept_sentences <= set(train.texts)  # the other sentences and their phrases still train


SEMEVAL_ROWS = [
    "111\tpositive\tI\\u2019m going to Chapel Hill on Sat\\u002c :)",
    '222\tnegative\t"Why is \\""""Happy Day\\"""" trending? smh"',
    "333\tneutral\tOrder it in store before Tuesday",
]


def test_semeval_decodes_escapes_and_unwraps_csv_quotes() -> None:
    assert decode_semeval_text("I\\u2019m here\\u002c ok") == "I\u2019m here, ok"
    assert decode_semeval_text('"Why is \\""""Happy Day\\"""" trending?"') == 'Why is ""Happy Day"" trending?'
    assert decode_semeval_text('"He said ""hi"""') == 'He said "hi"'


def test_semeval_file_with_a_record_over_two_lines_and_a_trailing_column(tmp_path: Path) -> None:
    path = tmp_path / "twitter-2016test-A.txt"
    path.write_text(
        "1\tneutral\t\" @SkyNews: Kanye West: run for president!\n\"\t\n2\tpositive\tlove it\t\n", encoding="utf-8"
    )
    data = load_semeval(path)
    assert data.groups == ("1", "2")
    assert data.texts == ("@SkyNews: Kanye West: run for president!", "love it")
    assert data.labels.tolist() == [NEUTRAL, POSITIVE]


def test_semeval_tsv_uses_both_id_columns(tmp_path: Path) -> None:
    path = tmp_path / "livejournal-2014test-A.tsv"
    path.write_text("463584\tLJ1\tnegative\tWhat is this ?\n463584\tLJ2\tneutral\tA title ?\nnull\tLJ3\tpositive\t:D\n",
                    encoding="utf-8")
    data = load_semeval(path)
    assert data.groups == ("463584/LJ1", "463584/LJ2", "null/LJ3")
    assert data.labels.tolist() == [NEGATIVE, NEUTRAL, POSITIVE]


def test_semeval_dedupe_and_drop_ids_leave_no_test_id_in_train(tmp_path: Path) -> None:
    train_file = tmp_path / "twitter-train-A.txt"
    train_file.write_text("\n".join([*SEMEVAL_ROWS, SEMEVAL_ROWS[0]]) + "\n", encoding="utf-8")
    test_file = tmp_path / "twitter-test-A.txt"
    test_file.write_text(SEMEVAL_ROWS[2] + "\n", encoding="utf-8")
    train = dedupe_by_id(load_semeval(train_file))
    assert train.groups == ("111", "222", "333")
    test = load_semeval(test_file)
    train = drop_ids(train, set(test.groups))
    assert train.groups == ("111", "222") and not set(train.groups) & set(test.groups)


def test_semeval_rejects_a_continuation_before_any_record(tmp_path: Path) -> None:
    path = tmp_path / "bad-A.txt"
    path.write_text("no id here\n", encoding="utf-8")
    with pytest.raises(ValueError, match="continuation line"):
        load_semeval(path)


def test_tfns_reads_quoted_multiline_fields_and_maps_labels(tmp_path: Path) -> None:
    path = tmp_path / "sent_train.csv"
    path.write_bytes(
        b'text,label\r\n$BYND - JPMorgan reels in expectations,0\r\n"Stocks rally,\r\nagain",1\r\nFed meets,2\r\n'
    )
    data = load_tfns(path)
    assert data.texts == ("$BYND - JPMorgan reels in expectations", "Stocks rally,\r\nagain", "Fed meets")
    assert data.labels.tolist() == [NEGATIVE, POSITIVE, NEUTRAL]


def test_tfns_rejects_an_unknown_label(tmp_path: Path) -> None:
    path = tmp_path / "sent_train.csv"
    path.write_text("text,label\nhello,7\n", encoding="utf-8")
    with pytest.raises(ValueError, match=r"expected 'text,0\|1\|2'"):
        load_tfns(path)


def test_stratified_split_is_seeded_disjoint_and_keeps_class_shares() -> None:
    labels = np.array([NEGATIVE] * 20 + [NEUTRAL] * 60 + [POSITIVE] * 20)
    data = TextDataset(tuple(f"t{i}" for i in range(100)), labels, tuple(f"row{i}" for i in range(100)))
    rest, held = stratified_split(data, 0.15, seed=3)
    again = stratified_split(data, 0.15, seed=3)[1]
    other = stratified_split(data, 0.15, seed=4)[1]
    assert held.texts == again.texts and held.texts != other.texts
    assert held.label_counts() == {"negative": 3, "neutral": 9, "positive": 3}
    assert not set(rest.groups) & set(held.groups) and len(rest) + len(held) == 100
