"""No logging call of the project formats a user identifier or an event's text (docs/operations.md,
Privacy): the arguments of every ``log.<level>(...)`` call are scanned for those fields."""

from __future__ import annotations

import ast
from pathlib import Path

from channelpulse.config import REPO_ROOT

PACKAGES = ("channelpulse", "models", "schemas", "streams", "bench")
LEVELS = {"debug", "info", "warning", "error", "exception", "critical", "log"}
PERSONAL = {"user_id", "session_id", "author", "text", "texts", "title", "description"}


def personal_fields_logged(path: Path) -> list[str]:
    found = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in LEVELS):
            continue
        target = node.func.value
        if not (isinstance(target, ast.Name) and target.id in {"log", "logger", "logging"}):
            continue
        for arg in [*node.args, *(k.value for k in node.keywords)]:
            for sub in ast.walk(arg):
                name = sub.attr if isinstance(sub, ast.Attribute) else sub.id if isinstance(sub, ast.Name) else None
                if name in PERSONAL:
                    found.append(f"{path.relative_to(REPO_ROOT) if path.is_relative_to(REPO_ROOT) else path.name}"
                                 f":{node.lineno} logs {name}")
    return found


def test_no_logging_call_formats_an_identifier_or_a_text() -> None:
    offenders = [
        hit for package in PACKAGES for path in sorted((REPO_ROOT / package).rglob("*.py"))
        for hit in personal_fields_logged(path)
    ]
    assert offenders == []


def test_the_scan_sees_a_logged_user_id_and_text(tmp_path: Path) -> None:
    module = tmp_path / "m.py"
    module.write_text(
        "log.info('user %s', event.user_id)\nlogger.warning('%s', text)\nlog.info('%d', len(rows))\n"
    )
    assert personal_fields_logged(module) == ["m.py:1 logs user_id", "m.py:2 logs text"]
