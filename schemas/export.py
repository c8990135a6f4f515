"""Write the wire contract as JSON Schema (draft 2020-12) files, for producers in other languages."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Literal

from pydantic import BaseModel

from channelpulse.schemas.events import EVENT_MODELS
from channelpulse.schemas.outputs import Alert, AnomalyScore, ChannelWindow, DeadLetter, Recommendation, SentimentScore

JSON_SCHEMA_DIALECT = "https://json-schema.org/draft/2020-12/schema"

Mode = Literal["validation", "serialization"]

INPUT_MODELS: tuple[type[BaseModel], ...] = tuple(EVENT_MODELS.values())
OUTPUT_MODELS: tuple[type[BaseModel], ...] = (
    SentimentScore,
    Recommendation,
    AnomalyScore,
    ChannelWindow,
    Alert,
    DeadLetter,
)


def json_schema(model: type[BaseModel], mode: Mode) -> dict[str, object]:
    """The JSON Schema of one model: what it accepts (inputs) or what it writes (outputs)."""
    return {"$schema": JSON_SCHEMA_DIALECT, **model.model_json_schema(mode=mode)}


def export_json_schemas(directory: Path) -> list[Path]:
    """Write ``<Name>.schema.json`` for every input and output model into ``directory`` (created if
    missing, existing files overwritten); returns the paths written, inputs first.

    Input schemas describe what is accepted (extra properties allowed: they are ignored); output
    schemas describe what ChannelPulse writes (no extra properties).
    """
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    models: list[tuple[type[BaseModel], Mode]] = [(m, "validation") for m in INPUT_MODELS]
    models += [(m, "serialization") for m in OUTPUT_MODELS]
    for model, mode in models:
        path = directory / f"{model.__name__}.schema.json"
        schema = json_schema(model, mode)
        path.write_text(json.dumps(schema, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
        written.append(path)
    return written
