"""Parsers of the shared sentiment training sources (../shared/data/sentiment_train/README.md) and
their honest splits.

* SST-2 (GLUE train phrases): :func:`load_sst2`, :func:`sst2_sentence_split` (validation = whole
  sentences; every phrase contained in a validation sentence is dropped from training).
* SemEval-2017 Task 4A: :func:`load_semeval` (one file: tabs, no CSV quoting, JSON escapes, the
  record that spans two lines), :func:`dedupe_by_id`, :func:`drop_ids`.
* Twitter Financial News Sentiment: :func:`load_tfns`, :func:`stratified_split` (seeded).

Every loader returns a :class:`TextDataset` whose groups are the ids that splits must respect.
"""

from __future__ import annotations

import csv
import hashlib
import re
from collections.abc import Iterable
from pathlib import Path

import numpy as np

from channelpulse.models.sentiment.data import TextDataset
from channelpulse.models.sentiment.labels import NEGATIVE, NEUTRAL, POSITIVE, names_to_labels

_UNICODE_ESCAPE = re.compile(r"\\u([0-9a-fA-F]{4})")


def text_bucket(key: str) -> float:
    """A fixed pseudo-random number in [0, 1) of ``key`` (sha1; independent of row order)."""
    return int.from_bytes(hashlib.sha1(key.encode("utf-8")).digest()[:8], "big") / 2.0**64


# --- SST-2 -------------------------------------------------------------------------------------


def load_sst2(path: Path) -> TextDataset:
    """GLUE SST-2 ``train.tsv``: header ``sentence\\tlabel``, no quoting, 1 = positive, 0 = negative.
    Groups are the (stripped) phrases themselves; exact duplicates are kept once."""
    texts: list[str] = []
    labels: list[int] = []
    seen: set[str] = set()
    with Path(path).open(encoding="utf-8", newline="") as handle:
        header = handle.readline().rstrip("\r\n").split("\t")
        if header != ["sentence", "label"]:
            raise ValueError(f"{path}: expected the header 'sentence<TAB>label', got {header}")
        for lineno, line in enumerate(handle, 2):
            line = line.rstrip("\r\n")
            if not line:
                continue
            text, sep, label = line.rpartition("\t")
            text = text.strip()
            if not sep or label not in ("0", "1"):
                raise ValueError(f"{path}:{lineno}: expected 'sentence<TAB>0|1'")
            if not text or text in seen:
                continue
            seen.add(text)
            texts.append(text)
            labels.append(POSITIVE if label == "1" else NEGATIVE)
    return TextDataset(tuple(texts), np.asarray(labels), tuple(texts), Path(path).name)


def _spans(tokens: tuple[str, ...]) -> Iterable[tuple[str, ...]]:
    for i in range(len(tokens)):
        for j in range(i + 1, len(tokens) + 1):
            yield tokens[i:j]


def sentence_rows(data: TextDataset, min_tokens: int = 1) -> np.ndarray:
    """Indices of the rows no other row contains (token-wise): SST's full sentences, since every
    phrase of the treebank is a contiguous token span of its sentence. Uses an inverted index of
    token trigrams (bigrams/unigrams for shorter rows) so each row is only compared with the rows
    sharing its rarest n-gram."""
    tokens = [tuple(t.split()) for t in data.texts]
    index: dict[tuple[str, ...], list[int]] = {}
    for row, toks in enumerate(tokens):
        for n in (1, 2, 3):
            for gram in {toks[i : i + n] for i in range(len(toks) - n + 1)}:
                index.setdefault(gram, []).append(row)
    padded = [f" {' '.join(t)} " for t in tokens]
    keep = []
    for row, toks in enumerate(tokens):
        if len(toks) < min_tokens:
            continue
        n = min(3, len(toks))
        grams = [toks[i : i + n] for i in range(len(toks) - n + 1)] or [toks]
        candidates = min((index.get(g, []) for g in grams), key=len)
        contained = any(
            other != row and len(tokens[other]) > len(toks) and padded[row] in padded[other] for other in candidates
        )
        if not contained:
            keep.append(row)
    return np.asarray(keep, dtype=np.int64)


def sst2_sentence_split(
    data: TextDataset, validation_fraction: float = 0.12, min_tokens: int = 4
) -> tuple[TextDataset, TextDataset]:
    """``(train, validation)`` of SST-2 with no sentence straddling the two.

    Validation: the full sentences (:func:`sentence_rows`, at least ``min_tokens`` tokens) whose
    sha1 bucket is below ``validation_fraction``. Training: every other row except those that are
    a token span of a validation sentence (its phrases), so nothing of a validation sentence is
    trained on."""
    sentences = sentence_rows(data, min_tokens)
    chosen = [int(r) for r in sentences if text_bucket(data.texts[r]) < validation_fraction]
    held_spans: set[tuple[str, ...]] = set()
    for row in chosen:
        held_spans.update(_spans(tuple(data.texts[row].split())))
    train = [i for i, t in enumerate(data.texts) if tuple(t.split()) not in held_spans]
    return (
        data.subset(train, f"{data.source} [sentence-split train]"),
        data.subset(chosen, f"{data.source} [validation sentences]"),
    )


# --- SemEval-2017 Task 4A ----------------------------------------------------------------------


def decode_semeval_text(raw: str) -> str:
    """A SemEval text field as written: JSON-style escapes (``\\u2019``, ``\\u002c``, ``\\"``)
    decoded, and a field wrapped in quotes by a CSV writer (``"..."`` with ``""`` inside) unwrapped."""
    text = _UNICODE_ESCAPE.sub(lambda m: chr(int(m.group(1), 16)), raw)
    text = text.replace('\\"', '"').replace("\\\\", "\\")
    if len(text) >= 2 and text.startswith('"') and text.endswith('"'):
        text = text[1:-1].replace('""', '"')
    return text.strip()


def load_semeval(path: Path) -> TextDataset:
    """One SemEval-2017 4A file: ``id \\t label \\t text`` (twitter-*.txt, an empty 4th column in
    2016test) or ``id \\t id2 \\t label \\t text`` (sms/livejournal .tsv, grouped by ``id/id2``). Split on tabs only (no
    CSV quoting); a line that does not start with ``id \\t`` continues the previous record's text
    (the 2016test record that spans two lines). Groups are the ids."""
    path = Path(path)
    with_id2 = path.suffix == ".tsv"
    records: list[list[str]] = []
    with path.open(encoding="utf-8", newline="") as handle:
        for lineno, line in enumerate(handle, 1):
            line = line.rstrip("\r\n")
            parts = line.split("\t")
            if with_id2:  # neither column alone is unique (livejournal: "null" ids); together they are
                starts = len(parts) >= 4 and bool(parts[1].strip())
            else:
                starts = len(parts) >= 3 and parts[0].strip().isdigit()
            if not starts:
                if not records:
                    raise ValueError(f"{path}:{lineno}: continuation line before any record")
                records[-1][-1] += "\n" + parts[0]
                continue
            if with_id2:
                records.append([f"{parts[0].strip()}/{parts[1].strip()}", parts[2].strip(), parts[3]])
            else:
                records.append([parts[0].strip(), parts[1].strip(), parts[2]])
    if not records:
        raise ValueError(f"{path}: no records")
    texts = tuple(decode_semeval_text(r[2]) for r in records)
    labels = names_to_labels([r[1] for r in records])
    return TextDataset(texts, labels, tuple(r[0] for r in records), path.name)


def dedupe_by_id(data: TextDataset) -> TextDataset:
    """The first row of each group (id); later duplicates are dropped."""
    seen: set[str] = set()
    keep = []
    for i, g in enumerate(data.groups):
        if g not in seen:
            seen.add(g)
            keep.append(i)
    return data.subset(keep)


def drop_ids(data: TextDataset, ids: set[str]) -> TextDataset:
    """``data`` without the rows whose group (id) is in ``ids``."""
    return data.subset([i for i, g in enumerate(data.groups) if g not in ids])


# --- Twitter Financial News Sentiment ----------------------------------------------------------

TFNS_LABELS = {"0": NEGATIVE, "1": POSITIVE, "2": NEUTRAL}  # Bearish, Bullish, Neutral


def load_tfns(path: Path) -> TextDataset:
    """TFNS ``sent_train.csv``: header ``text,label`` (0 bearish, 1 bullish, 2 neutral), real CSV
    with quoted multi-line fields. Groups are ``row<N>`` (the file has no ids)."""
    texts: list[str] = []
    labels: list[int] = []
    with Path(path).open(encoding="utf-8", newline="") as handle:
        reader = csv.reader(handle)
        header = next(reader, None)
        if header != ["text", "label"]:
            raise ValueError(f"{path}: expected the header 'text,label', got {header}")
        for row in reader:
            if not row:
                continue
            if len(row) != 2 or row[1] not in TFNS_LABELS:
                raise ValueError(f"{path}:{reader.line_num}: expected 'text,0|1|2'")
            texts.append(row[0].strip())
            labels.append(TFNS_LABELS[row[1]])
    return TextDataset(tuple(texts), np.asarray(labels), tuple(f"row{i}" for i in range(len(texts))), Path(path).name)


def stratified_split(data: TextDataset, fraction: float, seed: int = 0) -> tuple[TextDataset, TextDataset]:
    """``(rest, held_out)``: ``round(fraction * n_class)`` rows of each class, drawn with ``seed``."""
    if not 0.0 < fraction < 1.0:
        raise ValueError("fraction must lie strictly between 0 and 1")
    rng = np.random.default_rng(seed)
    held: list[int] = []
    for label in np.unique(data.labels):
        rows = np.flatnonzero(data.labels == label)
        held.extend(rng.choice(rows, size=round(fraction * len(rows)), replace=False).tolist())
    mask = np.zeros(len(data), dtype=bool)
    mask[held] = True
    return (
        data.subset(np.flatnonzero(~mask), f"{data.source} [train]"),
        data.subset(np.flatnonzero(mask), f"{data.source} [held-out {fraction:g}, seed {seed}]"),
    )
