"""The worker's half of an erasure request: drop one user's state from the user-state table.

Requests arrive on CHANNELPULSE_TOPIC_PRIVACY_FORGET keyed by the raw user id, the key the clicks
carry. That topic has as many partitions as the inputs, so Faust's assignor gives each of its
partitions to the worker that owns the same click partition, and with it the user's state: that
worker deletes the key, and Faust writes the tombstone to the table's changelog.
"""

from __future__ import annotations

from collections.abc import MutableMapping
from typing import Any


def forget_user_state(users: MutableMapping[bytes, Any], key: bytes) -> bool:
    """Delete ``key`` from the user-state table; False when it held nothing for it."""
    if key not in users:
        return False
    del users[key]
    return True
