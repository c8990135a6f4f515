"""The wire contract of ChannelPulse: pydantic v2 models of every input event and output record,
JSON (UTF-8) on the wire.

- :mod:`channelpulse.schemas.events`: the input events (clicks, reviews, social, sensors, catalog).
- :mod:`channelpulse.schemas.outputs`: the records ChannelPulse publishes (scores, windows, alerts, dead letters).
- :mod:`channelpulse.schemas.validation`: ``parse_event`` (never raises), ``encode``, ``output_key``.
- :mod:`channelpulse.schemas.export`: the same contract as JSON Schema files (``channelpulse schemas export DIR``).
"""

if __name__ != "channelpulse.schemas":  # the folder is importable under one name only (pyproject.toml)
    raise ImportError(f"schemas/ is the package channelpulse.schemas: import channelpulse.schemas, not {__name__}")
