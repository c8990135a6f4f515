"""Reading and rewriting the ``version_policy`` of a Triton ``config.pbtxt`` (protobuf text format).

Only that one field is touched; the rest of the file is kept byte for byte. Policies:
``latest: { num_versions: N }`` (Triton's default when the field is absent), ``all: {}`` and
``specific: { versions: [1, 3] }``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

PolicyKind = Literal["latest", "all", "specific"]

_FIELD = re.compile(r"(?m)^[ \t]*version_policy\s*:?\s*\{")


@dataclass(frozen=True)
class VersionPolicy:
    kind: PolicyKind
    num_versions: int = 1
    versions: tuple[int, ...] = ()

    def served(self, available: list[int]) -> list[int]:
        """The versions Triton serves under this policy, given the version folders present."""
        ordered = sorted(available)
        if self.kind == "all":
            return ordered
        if self.kind == "latest":
            return ordered[-self.num_versions :] if self.num_versions > 0 else []
        return [v for v in ordered if v in self.versions]


def _block(text: str) -> tuple[int, int] | None:
    """Start and end offsets of the top-level ``version_policy { ... }`` field, braces included."""
    match = _FIELD.search(_strip_comments(text))
    if match is None:
        return None
    depth = 0
    for i in range(match.end() - 1, len(text)):
        if text[i] == "{":
            depth += 1
        elif text[i] == "}":
            depth -= 1
            if depth == 0:
                return match.start(), i + 1
    raise ValueError("config.pbtxt: unbalanced braces in version_policy")


def _strip_comments(text: str) -> str:
    """Text with ``# ...`` comments blanked out (same length, so offsets still match)."""
    return re.sub(r"#[^\n]*", lambda m: " " * len(m.group(0)), text)


def parse_version_policy(text: str) -> VersionPolicy:
    """The version policy of a config.pbtxt (``latest 1`` when it has none)."""
    span = _block(text)
    if span is None:
        return VersionPolicy("latest", 1)
    body = _strip_comments(text[span[0] : span[1]])
    if re.search(r"\bspecific\b", body):
        numbers = re.search(r"versions\s*:\s*\[([^\]]*)\]", body)
        if numbers:
            versions = tuple(int(v) for v in re.findall(r"\d+", numbers.group(1)))
        else:  # repeated scalar form: versions: 1 versions: 2
            versions = tuple(int(v) for v in re.findall(r"versions\s*:\s*(\d+)", body))
        return VersionPolicy("specific", versions=versions)
    if re.search(r"\ball\b", body):
        return VersionPolicy("all")
    latest = re.search(r"num_versions\s*:\s*(\d+)", body)
    return VersionPolicy("latest", int(latest.group(1)) if latest else 1)


def render_specific(versions: list[int]) -> str:
    return "version_policy: { specific: { versions: [" + ", ".join(str(v) for v in versions) + "] } }"


def with_specific_versions(text: str, versions: list[int]) -> str:
    """``text`` with its version policy replaced by (or, when absent, extended with) a specific one."""
    if not versions:
        raise ValueError("a specific version policy needs at least one version")
    span = _block(text)
    policy = render_specific(sorted(set(versions)))
    if span is None:
        return text.rstrip("\n") + "\n" + policy + "\n"
    block = text[span[0] : span[1]]
    indent = block[: len(block) - len(block.lstrip(" \t"))]
    return text[: span[0]] + indent + policy + text[span[1] :]
