"""False-alert and detection rates of NegativeSurgeDetector on simulated channel windows.

Stationary channels: every window's negatives ~ Binomial(n, p0) (and an over-dispersed channel whose
share itself wanders uniformly in [0.05, 0.45]); surges: 30 calm windows, 5 at p0 + lift, 20 calm.
Counts alerts with the default SurgeParams.

Usage: .venv/bin/python scripts/benchmarks/surge_alerts.py [--runs N]
"""

from __future__ import annotations

import argparse
from datetime import datetime, timedelta, timezone
from typing import Any

import numpy as np

from channelpulse.models.analytics.surge import NegativeSurgeDetector

T0 = datetime(2024, 1, 1, tzinfo=timezone.utc)


def windows(shares: np.ndarray, n: int, rng: np.random.Generator) -> list[dict[str, Any]]:
    out = []
    for i, share in enumerate(shares):
        start = T0 + timedelta(minutes=i)
        negatives = int(rng.binomial(n, share))
        out.append(
            {
                "channel": "sim",
                "window_start": start,
                "window_end": start + timedelta(minutes=1),
                "counts": {"clicks": 0, "reviews": n, "social": 0, "sensors": 0},
                "negative_share": negatives / n,
            }
        )
    return out


def alerts(stream: list[dict[str, Any]]) -> int:
    detector = NegativeSurgeDetector()
    return sum(detector.update(w) is not None for w in stream)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=40)
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    print(f"{'p0':>5s} {'n':>5s} | false alerts in {args.runs} x 300 calm windows | surges (of {args.runs}) alerted")
    for p0, n in ((0.05, 20), (0.1, 25), (0.15, 60), (0.3, 200), (0.02, 500)):
        false = sum(alerts(windows(np.full(300, p0), n, rng)) for _ in range(args.runs))
        row = []
        for lift in (0.15, 0.3):
            shares = np.concatenate([np.full(30, p0), np.full(5, p0 + lift), np.full(20, p0)])
            found = [alerts(windows(shares, n, rng)) for _ in range(args.runs)]
            row.append(f"+{lift:.2f}: {sum(f >= 1 for f in found):3d} (max {max(found)} per surge)")
        print(f"{p0:5.2f} {n:5d} | {false:41d} | " + ", ".join(row))
    wandering = sum(alerts(windows(rng.uniform(0.05, 0.45, 300), 200, rng)) for _ in range(args.runs))
    print(f"over-dispersed channel (share ~ U[0.05, 0.45], n 200): {wandering} alerts in {args.runs} x 300 windows")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
