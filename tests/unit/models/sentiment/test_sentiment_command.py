"""`channelpulse train sentiment-head` (version 1 format): a version folder from a CSV plus an evaluation-only TSV."""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl
import pytest

from channelpulse.cli import main
from channelpulse.models.contract import SENTIMENT_LABELS
from channelpulse.models.sentiment.data import TextDataset
from channelpulse.models.sentiment.model import SentimentModel


def test_train_sentiment_writes_a_loadable_version(
    separable: TextDataset, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    table = tmp_path / "reviews.csv"
    labels = [SENTIMENT_LABELS[i] for i in separable.labels]
    pl.DataFrame({"text": list(separable.texts), "label": labels}).write_csv(table)
    other = tmp_path / "other.tsv"
    rows = [f"{i}\t{3.0 if i % 2 else -3.0}\t{'I adore it!' if i % 2 else 'A waste of money.'}" for i in range(1, 11)]
    other.write_text("\n".join(rows) + "\n", encoding="utf-8")  # ids 2, 3, 7 and 8 hash into its test split
    out = tmp_path / "repo" / "sentiment" / "7"

    code = main(["train", "sentiment-head", "--data", str(table), "--eval", str(other), "--out", str(out),
                 "--epochs", "40", "--device", "cpu", "--quiet"])

    assert code == 0
    printed = json.loads(capsys.readouterr().out)
    meta = json.loads((out / "meta.json").read_text())
    assert printed["metrics"] == meta["metrics"]
    assert meta["version"] == "7" and meta["training"]["config"]["max_iter"] == 40
    assert meta["metrics"]["holdout"]["accuracy"] >= 0.8
    assert meta["metrics"]["holdout"]["rows"] == meta["training"]["holdout"]["rows"]
    assert meta["metrics"]["other.tsv [test split]"]["rows"] == 4  # only its hash-test split is evaluated
    assert [f["use"] for f in meta["data_files"]] == ["train", "eval"]
    assert meta["arguments"]["data"] == [str(table)]
    probs, _ = SentimentModel.load(out, device="cpu").predict(["The camera was absolutely superb, I loved it!"])
    assert probs[0].argmax() == SENTIMENT_LABELS.index("positive")


def test_train_reports_bad_data_without_a_traceback(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "bad.csv"
    pl.DataFrame({"body": ["x"]}).write_csv(bad)
    assert main(["train", "sentiment-head", "--data", str(bad), "--out", str(tmp_path / "v")]) == 2
    assert "no 'text' column" in capsys.readouterr().err
    assert not (tmp_path / "v").exists()
