"""Scorers: the one interface the pipeline scores through, and its adapters (Triton, in-process)."""
