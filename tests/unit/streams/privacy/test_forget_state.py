from __future__ import annotations

from channelpulse.streams.privacy.forget import forget_user_state


def test_forgetting_deletes_only_that_users_state() -> None:
    users: dict[bytes, object] = {b"u-1": {"history": ["a"]}, b"u-2": {"history": ["b"]}}
    assert forget_user_state(users, b"u-1") is True
    assert users == {b"u-2": {"history": ["b"]}}
    assert forget_user_state(users, b"u-1") is False
    assert users == {b"u-2": {"history": ["b"]}}
