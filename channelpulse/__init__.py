"""ChannelPulse: score live customer events from Kafka with models on Triton, observed in Prometheus."""

__version__ = "0.1.0"
