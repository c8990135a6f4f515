"""Records of the model lifecycle: drift reports, retrain requests, model updates.

Topics (names from :class:`channelpulse.config.Settings`): ``drift.reports`` (one per completed
drift window), ``retrain.requests`` (from a drift trigger or ``channelpulse retrain``),
``model.updates`` (what the retrainer decided and what now serves). All keyed by model name.
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

_CONFIG = ConfigDict(frozen=True, extra="forbid", allow_inf_nan=False)


class DriftReportRecord(BaseModel):
    """One completed drift window of one model version."""

    model_config = _CONFIG

    model: str
    version: str
    window_index: int = Field(ge=0)
    events_seen: int = Field(ge=0)
    drifted: bool
    should_retrain: bool
    state: str = Field(description="Trigger state: armed, cooldown or watching (models/drift/trigger.py).")
    p_value: float = Field(ge=0.0, le=1.0, description="Family-wise (Bonferroni) p-value of the window.")
    statistics: dict[str, Any]
    reported_at: AwareDatetime
    episode_id: str | None = Field(default=None, description="The drift episode open after this window, if any.")


class RetrainRequest(BaseModel):
    """Ask the retrainer to train a candidate for ``model`` (it decides whether to promote it)."""

    model_config = _CONFIG

    request_id: str = Field(min_length=1, max_length=128)
    model: str
    source: Literal["drift", "manual"]
    reason: str
    serving_version: str | None = None
    requested_at: AwareDatetime
    episode_id: str | None = Field(
        default=None, max_length=128, description="Drift requests: the episode (one shift, as one worker saw it)."
    )
    episode_started_at: AwareDatetime | None = Field(
        default=None, description="When the episode's first drifted window was evaluated."
    )
    evidence: float | None = Field(
        default=None, ge=0.0, description="-log10 of the largest p-value of the drifted windows behind the request."
    )
    trigger: Literal["new", "reminder", "escalation"] | None = Field(
        default=None,
        description="new: an episode opened; reminder: still in force after a cooldown; escalation: a "
        "stronger episode replaced the open one (``supersedes``).",
    )
    supersedes: str | None = Field(default=None, max_length=128, description="Escalation: the episode it replaces.")


class ModelUpdate(BaseModel):
    """What happened to a model: a candidate promoted or rejected, a rollback or a manual promote."""

    model_config = _CONFIG

    model: str
    action: Literal["promoted", "rejected", "rolled_back", "skipped"]
    version: str | None = Field(description="The version now serving.")
    candidate_version: str | None = None
    previous_version: str | None = None
    request_id: str | None = None
    detail: str
    metrics: dict[str, float] = Field(default_factory=dict)
    announced_at: AwareDatetime
    short_of_rows: bool = Field(
        default=False, description="Skipped for too few labelled rows: the retrainer tries again (no cooldown)."
    )


def now_utc() -> datetime:
    return datetime.now(timezone.utc)
