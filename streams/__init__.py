"""The streaming side: Faust agents (thin Kafka adapters) around the Kafka-agnostic pipeline."""

if __name__ != "channelpulse.streams":  # the folder is importable under one name only (pyproject.toml)
    raise ImportError(f"streams/ is the package channelpulse.streams: import channelpulse.streams, not {__name__}")
