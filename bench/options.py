"""What one bench run does: durations, offered rates, pipelines, where the report goes."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from channelpulse.bench.rates import RateSpec, parse_rates
from channelpulse.bench.workload import PIPELINES

DEFAULT_RATES = "0.25x,0.5x,0.75x"
QUICK_DURATION_S = 2.0


@dataclass(frozen=True)
class BenchOptions:
    """``duration_s`` is the length of each timed phase (a drain is sized to last about that long)."""

    duration_s: float = 15.0
    rates: list[RateSpec] = field(default_factory=lambda: parse_rates(DEFAULT_RATES))
    pipelines: list[str] = field(default_factory=lambda: list(PIPELINES))
    quick: bool = False
    out_dir: Path = Path("bench-results")
    scaling: bool = True
    learning_refresh_s: float = 0.0
    """> 0: also the click pipeline with the recommender learning (refresh every this many seconds)
    against learning off (bench/learning.py)."""

    def __post_init__(self) -> None:
        unknown = [p for p in self.pipelines if p not in PIPELINES]
        if unknown:
            raise ValueError(f"unknown pipeline(s) {', '.join(unknown)}; choose from {', '.join(PIPELINES)}")
        if not self.pipelines:
            raise ValueError("no pipeline selected")
        if self.duration_s <= 0:
            raise ValueError("duration must be positive")

    @property
    def drain_timeout_s(self) -> float:
        """How long a backlog sized for ``duration_s`` may take before the phase gives up."""
        return 60.0 if self.quick else max(60.0, 6 * self.duration_s)

    @property
    def settle_timeout_s(self) -> float:
        """How long warm-up (first model calls) or a rebalance may take before the phase gives up."""
        return 45.0 if self.quick else 120.0

    @property
    def limit_duration_s(self) -> float:
        return min(1.0, self.duration_s) if self.quick else self.duration_s

    def scaling_pipelines(self, measured: list[str]) -> list[str]:
        """Pipelines for one-vs-two workers and the lag drain (the first is the lag drain's): all
        measured ones, or in a quick run only the cheapest (the dead-letter path when measured)."""
        if not self.quick or not measured:
            return measured
        return ["deadletter"] if "deadletter" in measured else measured[:1]
