"""The ``--rates`` option: fixed offered rates, absolute (events/s) or relative to the measured maximum."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class RateSpec:
    """One fixed rate: ``value`` events/s, or ``value`` times the pipeline's maximum when ``relative``."""

    value: float
    relative: bool

    @property
    def label(self) -> str:
        return f"{self.value:g}x" if self.relative else f"{self.value:g}/s"

    def resolve(self, max_rate: float | None) -> float | None:
        """Events per second; None for a relative rate whose maximum is unknown."""
        if not self.relative:
            return self.value
        if max_rate is None or max_rate <= 0:
            return None
        return self.value * max_rate


def parse_rates(text: str) -> list[RateSpec]:
    """``"0.25x,0.5x,200"``: ``Nx`` is N times the maximum sustainable rate, a plain number events/s."""
    specs = []
    for part in (p.strip().lower() for p in text.split(",")):
        if not part:
            continue
        relative = part.endswith("x")
        try:
            value = float(part[:-1] if relative else part)
        except ValueError as exc:
            raise ValueError(f"bad rate {part!r}: use events/s (200) or a share of the maximum (0.5x)") from exc
        if not value > 0:
            raise ValueError(f"rate {part!r} must be positive")
        specs.append(RateSpec(value, relative))
    if not specs:
        raise ValueError("no rate given")
    return specs
