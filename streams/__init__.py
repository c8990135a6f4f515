"""The streaming side: Faust agents (thin Kafka adapters) around the Kafka-agnostic pipeline."""
