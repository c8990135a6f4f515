"""No secret of the settings in any log line, whoever logs it.

Client libraries log what they were given: kafka-python's KafkaAdminClient logs its whole
configuration at DEBUG (``sasl_plain_password`` included), and kafka-python and aiokafka log each
request they send at DEBUG, the SASL PLAIN ``auth_bytes`` (user and password) among them. The CLI
keeps those loggers at WARNING, but that is a level, not a guarantee. :func:`install` wraps the
logging module's record factory, so every record made in the process, by any logger and whatever
handlers Faust's worker sets up later, has each secret value replaced by ``[redacted]`` in its
message and its traceback before any handler sees it.
"""

from __future__ import annotations

import logging
import traceback
from collections.abc import Callable, Iterable
from typing import Any

from pydantic import SecretStr

from channelpulse.config import Settings

REDACTED = "[redacted]"


def secret_values(settings: Settings) -> list[str]:
    """Every secret of ``settings``: each SecretStr setting's value and, for the ``id=key,...`` list
    of retired pseudonym keys, each key too."""
    found = []
    for name in type(settings).model_fields:
        value = getattr(settings, name)
        if isinstance(value, SecretStr) and value.get_secret_value():
            found.append(value.get_secret_value())
    if settings.pseudonym_retired_keys is not None:
        for entry in settings.pseudonym_retired_keys.get_secret_value().split(","):
            key = entry.partition("=")[2].strip()
            if key:
                found.append(key)
    return found


class SecretRedaction:
    """Replaces the given secrets in log records (the longest first, so no part of one is left)."""

    def __init__(self, secrets: Iterable[str]) -> None:
        self.secrets = sorted({s for s in secrets if s}, key=len, reverse=True)

    def redact(self, text: str) -> str:
        for secret in self.secrets:
            text = text.replace(secret, REDACTED)
        return text

    def apply(self, record: logging.LogRecord) -> None:
        """Redact ``record`` in place: its message (formatted now, arguments dropped) and its traceback."""
        try:
            message = record.getMessage()
        except (TypeError, ValueError):  # arguments that do not fit the format: keep both, redacted
            message = f"{record.msg} {record.args!r}"
        clean = self.redact(message)
        if clean != message:
            record.msg, record.args = clean, None
        if record.exc_info and record.exc_info[0] is not None:
            text = "".join(traceback.format_exception(*record.exc_info)).rstrip("\n")
            if self.redact(text) != text:
                record.exc_text = self.redact(text)  # formatters print exc_text when it is set
        if record.stack_info:
            record.stack_info = self.redact(record.stack_info)

    def wrap(self, factory: Callable[..., logging.LogRecord]) -> Callable[..., logging.LogRecord]:
        def make(*args: Any, **kwargs: Any) -> logging.LogRecord:
            record = factory(*args, **kwargs)
            self.apply(record)
            return record

        return make


def install(settings: Settings) -> None:
    """Redact the secrets of ``settings`` from every log record this process makes from now on."""
    redaction = SecretRedaction(secret_values(settings))
    if redaction.secrets:
        logging.setLogRecordFactory(redaction.wrap(logging.getLogRecordFactory()))
