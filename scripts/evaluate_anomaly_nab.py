"""NAB v1.1 evaluation of the sensor anomaly detector on the NAB series in ../shared/data.

Replays the 23 real development series (sensors/nab_real) and the 11 artificial ones
(sensors/nab_artificial) reading by reading, without look-ahead, through the served version 7 of the
anomaly model (models/anomaly/online.py, parameters from models/repository/anomaly/7/meta.json), the
previous version 6 (same code, its own meta.json), version 1 (models/anomaly/detector.py) and NAB's
windowed Gaussian, and scores them with NAB's rules
(models/anomaly/nab.py) under NAB's three profiles (sensors/nab_real/profiles.json):

* "score": anomaly_score at the threshold NAB's optimiser picks on that corpus for that profile;
* "flags": is_anomaly as the model emits it (what users get; windowed Gaussian: score >= 1.0).

Normalised so the null detector scores 0 and the perfect one 100 on that corpus. With
``--nab-results DIR`` (the results/ folder of a clone of github.com/numenta/NAB), also checks the
scorer and the windowed Gaussian against NAB's published per-file results for these series.

Usage: .venv/bin/python scripts/evaluate_anomaly_nab.py [--data DIR] [--per-file] [--json OUT]
       [--nab-results NAB/results] [--skip-v1]
"""

from __future__ import annotations

import argparse
import json
import time
from dataclasses import asdict
from pathlib import Path

from tqdm import tqdm

from channelpulse.config import Settings
from channelpulse.models.anomaly.evaluation import (
    CorpusResult,
    Detections,
    check_published,
    replay_online,
    replay_v1,
    replay_windowed_gaussian,
    score_corpus,
)
from channelpulse.models.anomaly.nab import PROFILE_NAMES, load_profiles
from channelpulse.models.anomaly.nab_corpus import load_corpus
from channelpulse.models.anomaly.online import OnlineDetector, OnlineParams

SHORT = {"standard": "standard", "reward_low_FP_rate": "low FP", "reward_low_FN_rate": "low FN"}


def main() -> int:
    settings = Settings()
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument(
        "--data", type=Path, default=settings.data_dir / "sensors", help="folder with nab_real/ and nab_artificial/"
    )
    parser.add_argument(
        "--meta",
        type=Path,
        default=settings.model_repository_source / "anomaly" / "7" / "meta.json",
        help="meta.json of the online detector to evaluate (default: the served version 7)",
    )
    parser.add_argument(
        "--previous-meta",
        type=Path,
        default=settings.model_repository_source / "anomaly" / "6" / "meta.json",
        help="meta.json of the previous online detector, evaluated beside it (default: version 6)",
    )
    parser.add_argument("--per-file", action="store_true", help="also print the standard-profile score per series")
    parser.add_argument("--skip-v1", action="store_true", help="leave out version 1 (its replay is the slow part)")
    parser.add_argument("--nab-results", type=Path, default=None, help="NAB's results/ folder, to check the scorer")
    parser.add_argument("--json", type=Path, default=None, help="also write the results here")
    args = parser.parse_args()

    profiles = load_profiles(args.data / "nab_real" / "profiles.json")
    detector = OnlineDetector(OnlineParams.from_meta(args.meta))
    previous = OnlineDetector(OnlineParams.from_meta(args.previous_meta))
    names = [f"online (v{json.loads(m.read_text()).get('version', '?')})" for m in (args.meta, args.previous_meta)]
    corpora = {"real": load_corpus(args.data / "nab_real"), "artificial": load_corpus(args.data / "nab_artificial")}
    payload: dict[str, object] = {"parameters": detector.params.to_dict(), "state_size": detector.state_size}
    for corpus_name, corpus in corpora.items():
        started = time.perf_counter()
        outputs: dict[str, list[Detections]] = {names[0]: replay_online(corpus, detector)}
        online_s = time.perf_counter() - started
        outputs[names[1]] = replay_online(corpus, previous)
        if not args.skip_v1:
            outputs["v1"] = [replay_v1(s) for s in tqdm(corpus, desc=f"v1 on {corpus_name}", leave=False)]
        outputs["windowedGaussian"] = [replay_windowed_gaussian(s) for s in corpus]
        results = {d: {p: score_corpus(corpus, out, profiles[p]) for p in PROFILE_NAMES} for d, out in outputs.items()}
        readings = sum(len(s.values) for s in corpus)
        windows = sum(len(s.windows) for s in corpus)
        print(
            f"\n{corpus_name}: {len(corpus)} series, {readings} readings, {windows} windows; "
            f"{names[0]} replay {online_s:.2f} s ({readings / online_s:,.0f} readings/s)"
        )
        header = "".join(f"{SHORT[p] + ' score':>16s}{SHORT[p] + ' flags':>16s}" for p in PROFILE_NAMES)
        print(f"{'detector':20s}{header}")
        for name, per_profile in results.items():
            cells = "".join(f"{per_profile[p].score:16.1f}{per_profile[p].flags:16.1f}" for p in PROFILE_NAMES)
            print(f"{name:20s}{cells}")
        thresholds = ", ".join(
            f"{name} {'/'.join(f'{per_profile[p].threshold:.4g}' for p in PROFILE_NAMES)}"
            for name, per_profile in results.items()
        )
        print(f"optimised thresholds (standard/low FP/low FN): {thresholds}")
        if args.per_file:
            print_per_file(corpus_name, results)
        payload[corpus_name] = {
            name: {
                p: {
                    "threshold": r.threshold,
                    "score": r.score,
                    "flags": r.flags,
                    "files": {f: {**asdict(s), "normalised": s.normalised} for f, s in r.score_files.items()},
                    "flag_files": {f: {**asdict(s), "normalised": s.normalised} for f, s in r.flag_files.items()},
                }
                for p, r in per_profile.items()
            }
            for name, per_profile in results.items()
        }
    if args.nab_results:
        check = check_published(args.nab_results, corpora["real"] + corpora["artificial"], profiles)
        print(
            f"\nscorer check against NAB's published results ({check.files} files, 3 profiles): "
            f"windowed Gaussian rows equal {check.rows_equal}/{check.rows} (max difference "
            f"{check.max_row_difference:.1e}); max |file score - published|: our scorer on NAB's scores "
            f"{check.max_scorer_difference:.1e}, on our windowed Gaussian {check.max_detector_difference:.1e}, "
            f"null detector {check.max_null_difference:.1e}"
        )
        payload["published_check"] = asdict(check)
    if args.json:
        args.json.write_text(json.dumps(payload, indent=2) + "\n")
    return 0


def print_per_file(corpus_name: str, results: dict[str, dict[str, CorpusResult]]) -> None:
    print(
        f"per series ({corpus_name}, standard profile): raw score at the optimised threshold "
        "[windows found, FPs] | flags [FPs]"
    )
    names = list(results)
    files = list(next(iter(results.values()))["standard"].score_files)
    print(f"{'series':52s}" + "".join(f"{n:>34s}" for n in names))
    for f in files:
        cells = []
        for n in names:
            r = results[n]["standard"]
            s, g = r.score_files[f], r.flag_files[f]
            found = f"{s.detected_windows}/{s.windows},{s.false_positives:3d}"
            cells.append(f"{s.raw:+6.2f} [{found}] | {g.raw:+6.2f} [{g.false_positives:3d}]")
        print(f"{f[:52]:52s}" + "".join(f"{c:>34s}" for c in cells))


if __name__ == "__main__":
    raise SystemExit(main())
