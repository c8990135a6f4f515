"""Which pseudonym keys are in force: CHANNELPULSE_PSEUDONYM_KEY (production: one secret shared by
every worker and by ``channelpulse privacy forget``), or, when it is unset and the local broker is
used (no CHANNELPULSE_KAFKA_BOOTSTRAP), a key generated once into ``<state_dir>/pseudonym.key``
(the local stack and the demo, whose processes share that folder). Against an existing cluster an
unset key is an error: workers on several machines would each make their own. Retired keys (after
a rotation) only serve erasure: their pseudonyms are still in the lake."""

from __future__ import annotations

import logging
import os
import secrets
import uuid
from pathlib import Path

from channelpulse.config import Settings
from channelpulse.streams.privacy.pseudonym import Pseudonymizer

log = logging.getLogger(__name__)

KEY_FILE = "pseudonym.key"


class MissingPseudonymKey(ValueError):
    """CHANNELPULSE_PSEUDONYM_KEY is unset where a local key would not be shared."""


def key_file(settings: Settings) -> Path:
    return settings.state_dir / KEY_FILE


def _state_dir_key(path: Path) -> bytes:
    """The key in ``path``, generated there first if missing (atomically, readable by the owner only)."""
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex}")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as out:
            out.write(secrets.token_hex(32) + "\n")
        try:
            os.link(tmp, path)  # fails if another process made it meanwhile: theirs wins
        except FileExistsError:
            pass
        finally:
            tmp.unlink()
    key = path.read_text().strip()
    if not key:
        raise ValueError(f"the pseudonym key file {path} is empty")
    return key.encode("utf-8")


def require_key(settings: Settings) -> None:
    """Raise :class:`MissingPseudonymKey` when the key is unset and a local one would not do."""
    if settings.pseudonym_key is None and settings.kafka_bootstrap is not None:
        raise MissingPseudonymKey(
            "CHANNELPULSE_PSEUDONYM_KEY must be set when using an existing Kafka cluster "
            "(CHANNELPULSE_KAFKA_BOOTSTRAP): one secret shared by every worker and by `channelpulse privacy forget`"
        )


def current_pseudonymizer(settings: Settings) -> Pseudonymizer:
    """The pseudonymizer new lake rows are written with."""
    require_key(settings)
    if settings.pseudonym_key is not None:
        key = settings.pseudonym_key.get_secret_value().encode("utf-8")
    else:
        path = key_file(settings)
        log.warning(
            "CHANNELPULSE_PSEUDONYM_KEY is unset: pseudonyms use the local key in %s (fine for the local "
            "stack; in production set the key, the same for every worker)", path,
        )
        key = _state_dir_key(path)
    return Pseudonymizer(settings.pseudonym_key_id, key)


def retired_pseudonymizers(settings: Settings) -> list[Pseudonymizer]:
    """The keys of CHANNELPULSE_PSEUDONYM_RETIRED_KEYS (``id=key,id=key``)."""
    if settings.pseudonym_retired_keys is None:
        return []
    found = []
    for entry in settings.pseudonym_retired_keys.get_secret_value().split(","):
        key_id, sep, key = entry.strip().partition("=")
        if not sep or not key:
            raise ValueError("CHANNELPULSE_PSEUDONYM_RETIRED_KEYS must be 'id=key' pairs separated by commas")
        found.append(Pseudonymizer(key_id.strip(), key.strip().encode("utf-8")))
    return found


def all_pseudonymizers(settings: Settings) -> list[Pseudonymizer]:
    """The current key first, then the retired ones (what erasure must look for)."""
    current = current_pseudonymizer(settings)
    return [current, *(p for p in retired_pseudonymizers(settings) if p.key_id != current.key_id)]
