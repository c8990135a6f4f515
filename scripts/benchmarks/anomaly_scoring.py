"""In-process cost of AnomalyDetector.score (what one Triton execute() spends), per batch size.

Usage: .venv/bin/python scripts/benchmarks/anomaly_scoring.py [--repeats N]
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from channelpulse.config import Settings
from models.anomaly.detector import AnomalyDetector, shipped_params


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeats", type=int, default=20)
    args = parser.parse_args()
    params = shipped_params(Settings().model_repository_source)
    detector = AnomalyDetector(params)
    rng = np.random.default_rng(0)
    phase = np.arange(params.width) % max(params.season, 1)
    print(f"window width {params.width}; median of {args.repeats} calls")
    for kind, base in (
        ("plain", 50.0 + rng.normal(0.0, 1.0, params.width)),
        ("seasonal", np.where(phase < params.season // 3, 80.0, 20.0) + rng.normal(0.0, 1.0, params.width)),
    ):
        for batch in (1, 16, 64):
            windows = np.repeat(base[None, :], batch, axis=0).astype(np.float32)
            detector.score(windows)
            times = []
            for _ in range(args.repeats):
                started = time.perf_counter()
                detector.score(windows)
                times.append(time.perf_counter() - started)
            ms = 1000 * float(np.median(times))
            print(f"{kind:9s} batch {batch:3d}: {ms:8.2f} ms per call, {1000 * ms / batch:8.1f} us per window")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
