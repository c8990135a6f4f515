"""The data flow is visible in the imports: the wire contract and the models know nothing of Kafka,
Triton transport, the worker or the stack; only the thin adapters in streams/ tie them together."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from channelpulse.config import REPO_ROOT

OURS = ("channelpulse", "infra", "models", "schemas", "streams")
ALLOWED = {
    "schemas": {"schemas"},
    "models": {"models"},
    "infra": {"infra", "channelpulse"},
}


def imported_packages(path: Path) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module.split(".")[0])
    return found & set(OURS)


@pytest.mark.parametrize("package", sorted(ALLOWED))
def test_a_package_imports_only_its_layer(package: str) -> None:
    offenders = {
        str(path.relative_to(REPO_ROOT)): sorted(imported_packages(path) - ALLOWED[package])
        for path in sorted((REPO_ROOT / package).rglob("*.py"))
        if imported_packages(path) - ALLOWED[package]
    }
    assert offenders == {}


def test_the_import_scan_sees_function_level_imports(tmp_path: Path) -> None:
    module = tmp_path / "m.py"
    module.write_text("def f():\n    from streams.lake import read_lake\n    import numpy\n")
    assert imported_packages(module) == {"streams"}
