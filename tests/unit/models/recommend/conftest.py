"""A small generated click stream and a recommender version trained on it, shared by the tests."""

from __future__ import annotations

import zlib
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from channelpulse.models.recommend.synthetic import generate_clicks
from channelpulse.models.recommend.training import train_version

SMALL: dict[str, int] = {"n_users": 300, "n_items": 200, "n_events": 15_000, "seed": 3}


def bag_of_words(texts: Sequence[str]) -> np.ndarray:
    """A cheap deterministic text embedder (hashed word counts) standing in for the sentence encoder."""
    out = np.zeros((len(texts), 128), dtype=np.float32)
    for row, text in enumerate(texts):
        for word in text.lower().replace(".", " ").replace(",", " ").split():
            out[row, zlib.crc32(word.encode()) % 128] += 1.0
    return out


@pytest.fixture(scope="session")
def small_stream() -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    return generate_clicks(SMALL["n_users"], SMALL["n_items"], SMALL["n_events"], SMALL["seed"])


@pytest.fixture(scope="session")
def small_version(
    small_stream: tuple[list[dict[str, Any]], list[dict[str, Any]]], tmp_path_factory: pytest.TempPathFactory
) -> tuple[Path, dict[str, Any]]:
    catalog, events = small_stream
    out = tmp_path_factory.mktemp("recommender") / "1"
    report = train_version(events, catalog, out, embed=bag_of_words, extra_meta={"data": SMALL})
    return out, report
