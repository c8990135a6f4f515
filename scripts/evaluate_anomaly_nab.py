"""NAB score of the sensor anomaly detector on the artificial NAB series (and of two references).

Each series is replayed reading by reading through SensorWindow + the detector (no look-ahead: the
window scored at a reading holds nothing later), and the detections are scored with NAB's standard
profile (models/anomaly/nab.py). Detectors compared:

* ``anomaly``       the shipped model (meta.json of the newest version), alerts after episode
                    suppression: what the service raises;
* ``anomaly-raw``   the same model's raw per-reading flags, no suppression;
* ``zscore``        plain z-score of the value against the window's mean/std (|z| >= 3), same window
                    width and the same suppression; ``zscore-raw`` without suppression;
* ``null``          never detects (normalised score 0 by definition).

Usage: .venv/bin/python scripts/evaluate_anomaly_nab.py [--data DIR] [--repository DIR] [--json OUT]
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np

from channelpulse.config import Settings
from models.anomaly.baseline import ZScoreDetector
from models.anomaly.detector import AnomalyDetector, shipped_params
from models.anomaly.nab import NabFileScore, score_detections, total
from models.anomaly.nab_corpus import load_corpus
from models.anomaly.replay import replay

DETECTORS = ("anomaly", "anomaly-raw", "zscore", "zscore-raw", "null")


def _fmt(score: NabFileScore) -> str:
    norm = score.normalised
    return f"{norm:7.1f}" if norm is not None else f"{'n/a':>7}"


def main() -> int:
    settings = Settings()
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, default=settings.data_dir / "sensors" / "nab_artificial")
    parser.add_argument("--repository", type=Path, default=settings.model_repository_source)
    parser.add_argument(
        "--cooldown", type=int, default=settings.anomaly_cooldown, help="quiet readings that re-arm the alert"
    )
    parser.add_argument("--json", type=Path, default=None, help="also write the results here")
    args = parser.parse_args()

    params = shipped_params(args.repository)
    detector = AnomalyDetector(params)
    baseline = ZScoreDetector()
    corpus = load_corpus(args.data)
    results: dict[str, dict[str, NabFileScore]] = {name: {} for name in DETECTORS}
    started = time.perf_counter()
    for series in corpus:
        ours = replay(series.values, detector.score, params.width, args.cooldown)
        zscore = replay(series.values, baseline.score, params.width, args.cooldown)
        detections = {
            "anomaly": ours.episode_starts,
            "anomaly-raw": ours.flags,
            "zscore": zscore.episode_starts,
            "zscore-raw": zscore.flags,
            "null": np.zeros(len(series.values), dtype=bool),
        }
        for name, flags in detections.items():
            results[name][series.name] = score_detections(flags, series.windows)
    elapsed = time.perf_counter() - started

    readings = sum(len(s.values) for s in corpus)
    print(
        f"NAB standard profile (TP 1, FP 0.11, FN 1); {len(corpus)} series, {readings} readings, "
        f"window {params.width}, cooldown {args.cooldown}; {elapsed:.1f} s"
    )
    print("normalised score per series (n/a: no labelled window), raw score and false positives in brackets")
    print(f"{'series':36s}" + "".join(f"{name:>22s}" for name in DETECTORS))
    for series in corpus:
        cells = []
        for name in DETECTORS:
            s = results[name][series.name]
            cells.append(f"{_fmt(s)} ({s.raw:+6.2f}, {s.false_positives:3d})")
        print(f"{series.name:36s}" + "".join(f"{c:>22s}" for c in cells))
    totals = {name: total(results[name].values()) for name in DETECTORS}
    print(
        f"{'TOTAL (normalised)':36s}"
        + "".join(f"{_fmt(t)} ({t.raw:+6.2f}, {t.false_positives:3d})".rjust(22) for t in totals.values())
    )
    detected = ", ".join(f"{name} {t.detected_windows}/{t.windows}" for name, t in totals.items())
    print(f"windows detected: {detected}")
    if args.json:
        payload = {
            "parameters": params.to_dict(),
            "cooldown": args.cooldown,
            "totals": {name: {**vars(t), "normalised": t.normalised} for name, t in totals.items()},
            "series": {
                name: {f: {**vars(s), "normalised": s.normalised} for f, s in per.items()}
                for name, per in results.items()
            },
        }
        args.json.write_text(json.dumps(payload, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
