"""The Kafka-agnostic processing of micro-batches: raw records in, records to produce out.

The Faust agents (streams/agents.py) only move bytes between Kafka and these functions, so every
rule here (validation, dead-lettering, scoring, state updates) is testable without a broker.
"""
