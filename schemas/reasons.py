"""Turn a failed validation of an input payload into one clear sentence: which field, what is wrong.

These reasons end up in dead letters, read by people, so they name the field, say what was
expected and show (a short rendering of) what was received.
"""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError
from pydantic_core import ErrorDetails

from channelpulse.schemas.fields import pattern_meaning

MAX_LISTED = 3
"""Most problems spelt out in one reason; the rest are counted."""

_SHOWN_CHARS = 40


def describe_json_error(raw: bytes, detail: str) -> str:
    """Why ``raw`` could not be parsed as JSON (bad UTF-8 is told apart from bad JSON)."""
    if raw.startswith(b"\xef\xbb\xbf"):
        return "payload starts with a UTF-8 byte order mark, which JSON does not allow"
    try:
        raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        return f"payload is not valid UTF-8: byte 0x{raw[exc.start]:02x} at offset {exc.start} ({exc.reason})"
    return f"payload is not valid JSON: {detail}"


def describe_validation_error(kind: str, raw: bytes, exc: ValidationError) -> str:
    """One sentence naming the problems of a ``kind`` payload: every missing field, then up to
    :data:`MAX_LISTED` other problems (the rest are counted)."""
    errors = exc.errors(include_url=False)
    first = errors[0]
    if first["type"] == "json_invalid":
        ctx = first.get("ctx") or {}
        return describe_json_error(raw, str(ctx.get("error", first["msg"])))
    if not first["loc"]:  # the payload itself: valid JSON of the wrong type
        return f"payload is JSON but not an object (got {_json_type(first['input'])})"
    missing = [f"'{_field_path(e['loc'])}'" for e in errors if e["type"] == "missing"]
    others = [e for e in errors if e["type"] != "missing"]
    parts = [f"missing field{'s' if len(missing) > 1 else ''} {', '.join(missing)}"] if missing else []
    parts += [_describe_field(error) for error in others[:MAX_LISTED]]
    more = len(others) - MAX_LISTED
    if more > 0:
        parts.append(f"and {more} more problem{'s' if more > 1 else ''}")
    return f"invalid {kind} event: " + "; ".join(parts)


def _describe_field(error: ErrorDetails) -> str:
    field = _field_path(error["loc"])
    kind = error["type"]
    message = error["msg"]
    if kind == "string_pattern_mismatch":
        message = pattern_meaning((error.get("ctx") or {}).get("pattern"), error["input"]) or message
    elif kind == "finite_number":
        message = "must be a finite number (NaN and Infinity are not allowed)"
    return f"field '{field}': {message} (got {_show(error['input'])})"


def _field_path(loc: tuple[int | str, ...]) -> str:
    path = ""
    for part in loc:
        path += f"[{part}]" if isinstance(part, int) else (f".{part}" if path else str(part))
    return path


def _json_type(value: Any) -> str:
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, (int, float)):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if value is None:
        return "null"
    if isinstance(value, (list, tuple)):
        return "an array"
    if isinstance(value, dict):
        return "an object"
    return type(value).__name__


def _show(value: Any) -> str:
    """A short rendering of a received value, with its JSON type."""
    if isinstance(value, str):
        if len(value) > _SHOWN_CHARS:
            return f"a string of {len(value)} characters starting {value[:_SHOWN_CHARS]!r}"
        return f"the string {value!r}"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        text = repr(value)
        return f"the number {text if len(text) <= _SHOWN_CHARS else text[:_SHOWN_CHARS] + '...'}"
    if isinstance(value, (list, tuple)):
        return f"an array of {len(value)} item{'s' if len(value) != 1 else ''}"
    return _json_type(value)


def describe_scoring_failure(model: str, server_message: str) -> str:
    """Why a valid event was dead-lettered: the model failed on it alone (the server's own words)."""
    return f"model {model!r} failed on this event (alone, after splitting its batch): {server_message}"
