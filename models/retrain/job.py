"""What a retrain is asked to do (:class:`RetrainJob`) and what came of it (:class:`RetrainOutcome`)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import timedelta
from typing import Any, Literal

from channelpulse.models.retrain.decision import PromotionPolicy

Action = Literal["promoted", "rejected", "skipped"]


@dataclass(frozen=True)
class RetrainJob:
    """One retrain request, transport-free (the Kafka RetrainRequest maps onto it)."""

    request_id: str
    model: str
    reason: str = ""
    lake_kind: str = "review"
    """Lake kind holding the labelled feedback (review events: text + 1-5 star rating)."""
    lookback: timedelta = timedelta(days=7)
    """Feedback filed in the lake during this long before the job runs is used."""
    max_rows: int = 20_000
    """At most this many (the newest) labelled rows."""
    min_rows: int = 300
    """Fewer labelled rows than this: skip (nothing is trained)."""
    eval_fraction: float = 0.3
    """Share of the labelled rows held out to compare candidate and serving version."""
    policy: PromotionPolicy = field(default_factory=PromotionPolicy)


@dataclass(frozen=True)
class RetrainOutcome:
    """The result; field names follow channelpulse.schemas.lifecycle.ModelUpdate."""

    job: RetrainJob
    action: Action
    detail: str
    version: int | None
    """The version serving after the job."""
    previous_version: int | None
    """The version serving before the job."""
    candidate_version: int | None = None
    """Registry version the candidate got (only a promoted candidate is added to the registry)."""
    candidate_metrics: dict[str, float] = field(default_factory=dict)
    serving_metrics: dict[str, float] = field(default_factory=dict)
    rows: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0
    short_of_rows: bool = False
    """Skipped because the lake held too few labelled (or evaluation) rows: worth trying again later."""

    @property
    def metrics(self) -> dict[str, float]:
        """Flat numbers for a ModelUpdate: ``candidate_<metric>``, ``serving_<metric>``, ``rows_<part>``."""
        out = {f"candidate_{k}": v for k, v in self.candidate_metrics.items()}
        out.update({f"serving_{k}": v for k, v in self.serving_metrics.items()})
        out.update({f"rows_{k}": float(v) for k, v in self.rows.items()})
        out["seconds"] = self.seconds
        return out

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["job"]["lookback"] = self.job.lookback.total_seconds()
        return data
