"""Local runners for the real services: Apache Kafka (KRaft), Triton Inference Server, Prometheus."""
