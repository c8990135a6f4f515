"""`channelpulse schemas export DIR`."""

from __future__ import annotations

import argparse
from pathlib import Path

from channelpulse.config import Settings
from channelpulse.schemas.export import export_json_schemas


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = sub.add_parser(
        "schemas",
        help="work with the wire contract (the JSON of every input event and output record)",
        description="The wire contract: every Kafka value ChannelPulse reads or writes is a UTF-8 JSON "
        "object described by a pydantic model in the schemas package.",
    )
    actions = parser.add_subparsers(dest="action", required=True)
    export = actions.add_parser(
        "export",
        help="write one JSON Schema file per input and output model",
        description="Write <Name>.schema.json (JSON Schema draft 2020-12) for each input event "
        "(ClickEvent, ReviewEvent, SocialEvent, SensorEvent, CatalogItem) and each output record "
        "(SentimentScore, Recommendation, AnomalyScore, ChannelWindow, Alert, DeadLetter) into DIR, "
        "creating DIR if needed and overwriting files of the same name. Input schemas allow extra "
        "properties (ChannelPulse ignores them); output schemas do not.",
    )
    export.add_argument("directory", metavar="DIR", type=Path, help="folder to write the schema files into")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace, settings: Settings) -> int:
    for path in export_json_schemas(args.directory):
        print(path)
    return 0
