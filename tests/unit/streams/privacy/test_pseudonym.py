from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest
from pydantic import SecretStr

from channelpulse.config import Settings
from channelpulse.streams.privacy.keys import MissingPseudonymKey, all_pseudonymizers, current_pseudonymizer, key_file
from channelpulse.streams.privacy.pseudonym import Pseudonymizer

KEY = b"0123456789abcdef-secret"


def test_a_pseudonym_is_stable_and_carries_the_key_id() -> None:
    p = Pseudonymizer("k1", KEY)
    first = p.pseudonym("u-1")
    assert first == Pseudonymizer("k1", KEY).pseudonym("u-1")
    assert first.startswith("k1:") and len(first) == 3 + 32
    assert "u-1" not in first
    assert p.pseudonym("u-2") != first


def test_other_keys_give_other_pseudonyms() -> None:
    a = Pseudonymizer("k1", KEY).pseudonym("u-1")
    b = Pseudonymizer("k1", KEY + b"x").pseudonym("u-1")
    assert a.split(":")[1] != b.split(":")[1]


def test_the_key_is_not_in_the_repr_and_weak_keys_or_odd_ids_are_refused() -> None:
    assert KEY.decode() not in repr(Pseudonymizer("k1", KEY))
    with pytest.raises(ValueError, match="at least 16 bytes"):
        Pseudonymizer("k1", b"short")
    with pytest.raises(ValueError, match="key id"):
        Pseudonymizer("k:1", KEY)


def test_a_row_gets_pseudonyms_for_its_identifier_columns_only() -> None:
    p = Pseudonymizer("k1", KEY)
    row = {"user_id": "u-1", "session_id": "s-9", "author": "@sam", "item_id": "sku-42", "text": "hi"}
    out = p.row(row)
    assert out == {
        **row, "user_id": p.pseudonym("u-1"), "session_id": p.pseudonym("s-9"), "author": p.pseudonym("@sam")
    }
    assert p.row({"user_id": None})["user_id"] is None
    assert row["user_id"] == "u-1"  # the caller's row is not changed


def test_the_setting_wins_and_without_it_a_local_key_is_made_once(tmp_path: Path) -> None:
    configured = Settings(state_dir=tmp_path, pseudonym_key=SecretStr(KEY.decode()), pseudonym_key_id="k2")
    assert current_pseudonymizer(configured) == Pseudonymizer("k2", KEY)
    assert not key_file(configured).exists()

    local = Settings(state_dir=tmp_path)
    made = current_pseudonymizer(local)
    assert key_file(local).exists()
    assert stat.S_IMODE(os.stat(key_file(local)).st_mode) == 0o600
    assert current_pseudonymizer(local) == made
    assert made.key != KEY


def test_retired_keys_are_listed_after_the_current_one(tmp_path: Path) -> None:
    settings = Settings(
        state_dir=tmp_path, pseudonym_key=SecretStr(KEY.decode()), pseudonym_key_id="k2",
        pseudonym_retired_keys=SecretStr("k1=an-older-secret-key, k0=the-oldest-secret-key"),
    )
    assert [p.key_id for p in all_pseudonymizers(settings)] == ["k2", "k1", "k0"]
    with pytest.raises(ValueError, match="id=key"):
        all_pseudonymizers(settings.model_copy(update={"pseudonym_retired_keys": SecretStr("nokey")}))


def test_secrets_reach_child_processes_but_not_the_repr(tmp_path: Path) -> None:
    settings = Settings(state_dir=tmp_path, pseudonym_key=SecretStr(KEY.decode()))
    assert settings.to_env()["CHANNELPULSE_PSEUDONYM_KEY"] == KEY.decode()
    assert KEY.decode() not in repr(settings) and KEY.decode() not in str(settings.model_dump())


def test_an_existing_cluster_needs_the_key_setting(tmp_path: Path) -> None:
    remote = Settings(state_dir=tmp_path, kafka_bootstrap="kafka.example:9093")
    with pytest.raises(MissingPseudonymKey, match="CHANNELPULSE_PSEUDONYM_KEY must be set"):
        current_pseudonymizer(remote)
    assert not key_file(remote).exists()
    configured = remote.model_copy(update={"pseudonym_key": SecretStr(KEY.decode())})
    assert current_pseudonymizer(configured).key == KEY
