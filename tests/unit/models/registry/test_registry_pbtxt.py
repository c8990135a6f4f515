from __future__ import annotations

import pytest

from channelpulse.models.registry import VersionPolicy, parse_version_policy, with_specific_versions

CONFIG = """# a comment that says version_policy: {{ all: {{}} }}
name: "sentiment"
backend: "python"
max_batch_size: 64
{policy}
instance_group [ {{ count: 1 kind: KIND_CPU }} ]
"""


@pytest.mark.parametrize(
    ("policy", "expected"),
    [
        ("", VersionPolicy("latest", 1)),
        ("version_policy: { latest: { num_versions: 2 } }", VersionPolicy("latest", 2)),
        ("version_policy { all { } }", VersionPolicy("all")),
        ("version_policy: {\n  specific: {\n    versions: [1, 3]\n  }\n}", VersionPolicy("specific", versions=(1, 3))),
        ("version_policy: { specific: { versions: 4 versions: 2 } }", VersionPolicy("specific", versions=(4, 2))),
    ],
)
def test_parse_each_policy_form(policy: str, expected: VersionPolicy) -> None:
    assert parse_version_policy(CONFIG.format(policy=policy)) == expected


def test_policies_pick_served_versions() -> None:
    assert VersionPolicy("latest", 1).served([3, 1, 2]) == [3]
    assert VersionPolicy("latest", 2).served([3, 1, 2]) == [2, 3]
    assert VersionPolicy("all").served([2, 1]) == [1, 2]
    assert VersionPolicy("specific", versions=(2, 9)).served([1, 2, 3]) == [2]


def test_rewrite_replaces_only_the_policy() -> None:
    text = CONFIG.format(policy="  version_policy: {\n    latest: { num_versions: 1 }\n  }")
    out = with_specific_versions(text, [2])
    assert "  version_policy: { specific: { versions: [2] } }\n" in out
    assert out.replace("  version_policy: { specific: { versions: [2] } }", "") == text.replace(
        "  version_policy: {\n    latest: { num_versions: 1 }\n  }", ""
    )
    assert parse_version_policy(out) == VersionPolicy("specific", versions=(2,))
    again = with_specific_versions(out, [1])
    assert again.count("version_policy:") == 2  # the comment and the one field
    assert parse_version_policy(again).versions == (1,)


def test_rewrite_appends_when_absent_and_rejects_nothing() -> None:
    text = CONFIG.format(policy="")
    out = with_specific_versions(text, [3, 1, 3])
    assert out.startswith(text.rstrip("\n"))
    assert parse_version_policy(out).versions == (1, 3)
    with pytest.raises(ValueError):
        with_specific_versions(text, [])
