"""The exported JSON Schemas are valid JSON Schema documents that accept valid records and reject
broken ones (checked with a small validator for the keywords pydantic emits; no extra dependency)."""

from __future__ import annotations

import copy
import json
import re
from pathlib import Path
from typing import Any

import pytest
from pydantic import BaseModel

from channelpulse.cli import main
from channelpulse.schemas.events import EVENT_MODELS, EXAMPLES, EventKind
from channelpulse.schemas.export import JSON_SCHEMA_DIALECT, export_json_schemas
from channelpulse.schemas.validation import Invalid, encode, parse_event

_IGNORED = {"$schema", "title", "description", "default", "examples", "format", "$defs"}
_TYPES: dict[str, Any] = {
    "string": str,
    "integer": int,
    "number": (int, float),
    "boolean": bool,
    "null": type(None),
    "array": list,
    "object": dict,
}


def problems(value: Any, schema: dict[str, Any], root: dict[str, Any], at: str = "$") -> list[str]:
    """Why ``value`` does not satisfy ``schema`` (empty when it does)."""
    found: list[str] = []
    for keyword, rule in schema.items():
        if keyword in _IGNORED:
            continue
        if keyword == "$ref":
            name = rule.removeprefix("#/$defs/")
            found += problems(value, root["$defs"][name], root, at)
        elif keyword == "anyOf":
            if all(problems(value, option, root, at) for option in rule):
                found.append(f"{at}: matches no option of anyOf")
        elif keyword == "type":
            wanted = _TYPES[rule]
            is_bool = isinstance(value, bool)
            if not isinstance(value, wanted) or (is_bool and rule != "boolean"):
                found.append(f"{at}: not of type {rule}")
        elif keyword == "enum":
            if value not in rule:
                found.append(f"{at}: not one of {rule}")
        elif keyword == "const":
            if value != rule:
                found.append(f"{at}: not {rule!r}")
        elif keyword == "required":
            found += [
                f"{at}: missing {name}" for name in rule if isinstance(value, dict) and name not in value
            ]
        elif keyword == "properties":
            if isinstance(value, dict):
                for name, sub in rule.items():
                    if name in value:
                        found += problems(value[name], sub, root, f"{at}.{name}")
        elif keyword == "additionalProperties":
            if isinstance(value, dict):
                extra = set(value) - set(schema.get("properties", {}))
                if rule is False and extra:
                    found.append(f"{at}: unexpected {sorted(extra)}")
                elif isinstance(rule, dict):
                    for name in extra:
                        found += problems(value[name], rule, root, f"{at}.{name}")
        elif keyword == "propertyNames":
            if isinstance(value, dict):
                for name in value:
                    found += problems(name, rule, root, f"{at}[{name!r}]")
        elif keyword == "items":
            if isinstance(value, list):
                for i, item in enumerate(value):
                    found += problems(item, rule, root, f"{at}[{i}]")
        elif keyword in ("minLength", "minItems"):
            if isinstance(value, (str, list)) and len(value) < rule:
                found.append(f"{at}: shorter than {rule}")
        elif keyword in ("maxLength", "maxItems"):
            if isinstance(value, (str, list)) and len(value) > rule:
                found.append(f"{at}: longer than {rule}")
        elif keyword == "pattern":
            if isinstance(value, str) and re.search(rule, value) is None:
                found.append(f"{at}: does not match {rule}")
        elif keyword in ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum"):
            if isinstance(value, (int, float)) and not isinstance(value, bool):
                ok = {
                    "minimum": value >= rule,
                    "maximum": value <= rule,
                    "exclusiveMinimum": value > rule,
                    "exclusiveMaximum": value < rule,
                }[keyword]
                if not ok:
                    found.append(f"{at}: {keyword} {rule} violated")
        else:
            raise AssertionError(f"the test validator does not know the keyword {keyword!r} (at {at})")
    return found


@pytest.fixture(scope="module")
def exported(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict[str, Any]]:
    directory = tmp_path_factory.mktemp("schemas") / "nested" / "out"
    paths = export_json_schemas(directory)
    assert sorted(p.name for p in directory.iterdir()) == sorted(p.name for p in paths)
    return {p.name.removesuffix(".schema.json"): json.loads(p.read_text(encoding="utf-8")) for p in paths}


def test_one_schema_file_per_input_and_output_model(exported: dict[str, dict[str, Any]]) -> None:
    expected = {m.__name__ for m in EVENT_MODELS.values()} | {
        "SentimentScore",
        "Recommendation",
        "AnomalyScore",
        "ChannelWindow",
        "Alert",
        "DeadLetter",
    }
    assert set(exported) == expected
    for name, schema in exported.items():
        assert schema["$schema"] == JSON_SCHEMA_DIALECT
        assert schema["title"] == name and schema["type"] == "object"


@pytest.mark.parametrize("kind", list(EventKind))
def test_input_schema_accepts_the_example_and_rejects_broken_ones(
    kind: EventKind, exported: dict[str, dict[str, Any]]
) -> None:
    schema = exported[EVENT_MODELS[kind].__name__]
    example = schema["examples"][0]
    assert example == EXAMPLES[kind]
    assert problems(example, schema, schema) == []
    assert not isinstance(parse_event(kind, json.dumps(example).encode()), Invalid)
    assert problems({**example, "future_field": 1}, schema, schema) == []  # extra fields allowed
    for name in schema["required"]:
        broken = copy.deepcopy(example)
        del broken[name]
        assert problems(broken, schema, schema) == [f"$: missing {name}"]
        broken[name] = True  # a boolean is never a valid value of any required field
        assert problems(broken, schema, schema), name


def test_input_schema_rejects_naive_timestamps(exported: dict[str, dict[str, Any]]) -> None:
    schema = exported["ClickEvent"]
    naive = {**EXAMPLES[EventKind.CLICK], "occurred_at": "2024-05-01T12:00:00"}
    assert any("occurred_at" in p for p in problems(naive, schema, schema))


def test_output_schemas_accept_encoded_records_and_reject_broken_ones(
    outputs: dict[str, BaseModel], exported: dict[str, dict[str, Any]]
) -> None:
    for name, record in outputs.items():
        schema = exported[name]
        body = json.loads(encode(record))
        assert problems(body, schema, schema) == [], name
        assert set(schema["required"]) == set(body), name  # every field is always written
        assert problems({**body, "unexpected": 1}, schema, schema), name
        first = schema["required"][0]
        assert problems({**body, first: [1.5]}, schema, schema), name


def test_cli_export_writes_the_files(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["schemas", "export", str(tmp_path)]) == 0
    printed = capsys.readouterr().out.split()
    assert len(printed) == 11
    assert {Path(p).name for p in printed} == {p.name for p in tmp_path.iterdir()}
    assert all(json.loads(Path(p).read_text())["$schema"] == JSON_SCHEMA_DIALECT for p in printed)
