"""Labelled data from the event lake: review events whose star rating is the label
(1-2 negative, 3 neutral, 4-5 positive; see channelpulse.models.sentiment.labels)."""

from __future__ import annotations

import hashlib

import numpy as np
import polars as pl

from channelpulse.models.sentiment.data import TextDataset
from channelpulse.models.sentiment.labels import ratings_to_labels

TEXT_COLUMN = "text"
RATING_COLUMN = "rating"
ID_COLUMN = "event_id"


def labelled_reviews(
    frame: pl.DataFrame,
    *,
    text_column: str = TEXT_COLUMN,
    rating_column: str = RATING_COLUMN,
    id_column: str = ID_COLUMN,
    max_rows: int | None = None,
) -> TextDataset:
    """Rows with a non-blank text and a 1-5 star rating, one per event id (the last one seen),
    the newest ``max_rows`` of them; split groups are the event ids (else the texts)."""
    if frame.is_empty() or text_column not in frame.columns or rating_column not in frame.columns:
        return TextDataset.from_texts([], [], source="lake: no labelled reviews")
    rows = frame.filter(
        pl.col(text_column).is_not_null()
        & (pl.col(text_column).str.strip_chars() != "")
        & pl.col(rating_column).is_not_null()
        & pl.col(rating_column).is_between(1, 5)
    )
    if id_column in rows.columns:
        rows = rows.unique(subset=[id_column], keep="last", maintain_order=True)
    if max_rows is not None:
        rows = rows.tail(max_rows)
    texts = [str(t) for t in rows[text_column].to_list()]
    labels = ratings_to_labels(rows[rating_column].cast(pl.Float64).to_numpy(), "stars5")
    groups = [str(g) for g in rows[id_column].to_list()] if id_column in rows.columns else texts
    return TextDataset(tuple(texts), labels, tuple(groups), f"lake: {len(texts)} rated reviews")


def in_eval_slice(group: str, fraction: float, salt: str = "retrain-eval") -> bool:
    """Whether ``group`` is in the evaluation slice: a salted sha1 bucket, so the slice is fixed
    for a group and independent of the hash split the trainer applies inside its training rows."""
    digest = hashlib.sha1(f"{salt}:{group}".encode()).digest()
    return int.from_bytes(digest[:8], "big") % 10_000 < round(fraction * 10_000)


def eval_split(data: TextDataset, fraction: float) -> tuple[TextDataset, TextDataset]:
    """(training rows, evaluation rows) of ``data``; the evaluation rows are never trained on."""
    if not 0.0 < fraction < 1.0:
        raise ValueError("the evaluation fraction must lie strictly between 0 and 1")
    mask = np.array([in_eval_slice(g, fraction) for g in data.groups], dtype=bool)
    return data.subset(np.flatnonzero(~mask), f"{data.source} [fit]"), data.subset(
        np.flatnonzero(mask), f"{data.source} [eval]"
    )
