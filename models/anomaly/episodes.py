"""Anomaly episodes: one alert per anomaly, not one per flagged reading.

The Triton model flags each reading on its own (it is stateless). :class:`EpisodeTracker` is the
per-sensor memory that turns those raw flags into episode starts: a flag opens an episode only when
the sensor has had more than ``cooldown`` readings since its previous flag; later flags extend the
open episode and are suppressed. It must see every reading (flagged or not), in order.
"""

from __future__ import annotations

from typing import Any


class EpisodeTracker:
    """Suppression state of one sensor: ``observe(flag) -> True`` only for the first flag of an episode."""

    def __init__(self, cooldown: int) -> None:
        if cooldown < 0:
            raise ValueError("need cooldown >= 0")
        self.cooldown = cooldown
        self.readings = 0
        self.last_flag_at: int | None = None
        self.episodes = 0

    def observe(self, flag: bool) -> bool:
        """Record the flag of the next reading; True when it opens a new episode."""
        self.readings += 1
        if not flag:
            return False
        opens = self.last_flag_at is None or self.readings - self.last_flag_at > self.cooldown
        self.last_flag_at = self.readings
        if opens:
            self.episodes += 1
        return opens

    @property
    def in_episode(self) -> bool:
        """Whether a flag on the next reading would be suppressed (the last flag was recent)."""
        return self.last_flag_at is not None and self.readings + 1 - self.last_flag_at <= self.cooldown

    def to_dict(self) -> dict[str, Any]:
        return {
            "cooldown": self.cooldown,
            "readings": self.readings,
            "last_flag_at": self.last_flag_at,
            "episodes": self.episodes,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> EpisodeTracker:
        tracker = cls(int(data["cooldown"]))
        tracker.readings = int(data["readings"])
        last = data.get("last_flag_at")
        tracker.last_flag_at = None if last is None else int(last)
        tracker.episodes = int(data.get("episodes", 0))
        return tracker
