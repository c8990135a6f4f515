"""The privacy-forget agent: erasure requests (streams/privacy/forget.py) delete the user's state; the
user-state changelog gets the tombstone."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from typing import Any

import faust

from channelpulse.streams.privacy.forget import forget_user_state
from channelpulse.streams.producer_metadata import ChangelogMetadata

log = logging.getLogger(__name__)


class ForgetAgent:
    """The agent of the forget topic; ``users`` is the user-state table."""

    def __init__(self, users: Any, metadata: ChangelogMetadata) -> None:
        self.users = users
        self.metadata = metadata

    async def agent(self, stream: faust.StreamT) -> AsyncIterator[None]:
        """Erasure requests (streams/privacy/forget.py): delete the user's state; the changelog gets
        the tombstone."""
        async for event in stream.events():
            if event.message.key:
                await self.metadata.ensure_loaded()
                deleted = forget_user_state(self.users, event.message.key)
                log.info("privacy: erasure request applied, user state %s", "deleted" if deleted else "absent")
            yield None
