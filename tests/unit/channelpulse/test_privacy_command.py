from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

import pytest
from pydantic import SecretStr

from channelpulse import cli
from channelpulse.config import Settings
from channelpulse.streams.lake import LakeWriter, read_lake
from channelpulse.streams.privacy.pseudonym import Pseudonymizer

T0 = datetime(2024, 5, 1, 12, 0, tzinfo=timezone.utc)
OLD = Pseudonymizer("k1", b"the-old-secret-key-1")
NEW = Pseudonymizer("k2", b"the-new-secret-key-2")


def test_forget_removes_the_users_rows_under_current_and_retired_keys(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    for p in (OLD, NEW):  # rows written before and after a rotation
        with LakeWriter(tmp_path / "lake", pseudonymize=p.row) as writer:
            writer.extend("click", [{"user_id": "u-1", "item_id": "a"}, {"user_id": "u-2", "item_id": "b"}], at=T0)
    settings = Settings(
        state_dir=tmp_path, pseudonym_key=SecretStr("the-new-secret-key-2"), pseudonym_key_id="k2",
        pseudonym_retired_keys=SecretStr("k1=the-old-secret-key-1"),
    )
    monkeypatch.setattr(cli, "Settings", lambda: settings)

    assert cli.main(["privacy", "forget", "u-1", "--lake-only"]) == 0
    assert "lake: removed 2 rows (click 2)" in capsys.readouterr().out
    assert sorted(read_lake(tmp_path / "lake", "click")["user_id"]) == sorted(
        [OLD.pseudonym("u-2"), NEW.pseudonym("u-2")]
    )

    assert cli.main(["privacy", "forget", "nobody", "--lake-only"]) == 0
    assert "lake: removed 0 rows (none)" in capsys.readouterr().out


def test_forget_without_the_key_on_an_existing_cluster_is_a_clear_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    settings = Settings(state_dir=tmp_path, kafka_bootstrap="kafka.example:9093")
    monkeypatch.setattr(cli, "Settings", lambda: settings)
    assert cli.main(["privacy", "forget", "u-1", "--lake-only"]) == 2
    assert "error: CHANNELPULSE_PSEUDONYM_KEY must be set" in capsys.readouterr().out
