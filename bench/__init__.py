"""`channelpulse bench`: throughput and end-to-end latency of the real pipelines, measured in the same
run against their limits (the model alone, Triton alone, a bare aiokafka loop), plus worker scaling,
consumer-lag drain and the CPU speed of the sentiment model's runtimes."""

if __name__ != "channelpulse.bench":  # the folder is importable under one name only (pyproject.toml)
    raise ImportError(f"bench/ is the package channelpulse.bench: import channelpulse.bench, not {__name__}")
