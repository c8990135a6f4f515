"""Per-domain quality of a sentiment version folder (either format) on the shared sources' honest
splits (models/sentiment/corpus.py): binary accuracy (neutral rows excluded; the larger of p(neg)
and p(pos)), three-class macro-F1 (domains with neutral rows) and ECE (15 bins, max-prob), as a
markdown table and JSON. Prints lscpu flags and the load average (the CPU is shared).

    .venv/bin/python scripts/evaluate_sentiment.py models/repository/sentiment/2 \\
        [--split test|validation|both] [--max-rows N] [--json out.json]

``--max-rows`` draws a seeded sample of each set (a quick look; the table in docs/models.md uses all rows).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import time
from pathlib import Path

import numpy as np

from channelpulse.config import Settings
from channelpulse.models.sentiment.corpus import load_corpus
from channelpulse.models.sentiment.data import TextDataset
from channelpulse.models.sentiment.evaluate import evaluate_domains

TARGETS = {  # issue 9
    ("sst2", "binary_accuracy"): 0.90,
    ("semeval_2016test", "binary_accuracy"): 0.90,
    ("semeval_2016test", "macro_f1"): 0.70,
    ("finance", "macro_f1"): 0.80,
    ("amazon", "binary_accuracy"): 0.88,
}


def _cpu_flags() -> str:
    try:
        text = subprocess.run(["lscpu"], capture_output=True, text=True, check=True).stdout
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    flags = next((line.split(":", 1)[1].split() for line in text.splitlines() if line.startswith("Flags")), [])
    keep = ("avx2", "avx512f", "avx512bw", "avx512_vnni", "avx512_bf16", "avx_vnni", "amx_tile", "amx_bf16", "amx_int8")
    return " ".join(f for f in flags if f in keep)


def _sample(data: TextDataset, rows: int | None) -> TextDataset:
    if rows is None or rows >= len(data):
        return data
    return data.subset(np.sort(np.random.default_rng(0).choice(len(data), rows, replace=False)))


def table(results: dict[str, dict[str, float]]) -> str:
    lines = ["| domain | rows | binary acc. | macro-F1 | ECE | target |", "|---|---|---|---|---|---|"]
    for name, m in results.items():
        base = name.split(":", 1)[-1]
        goals = [f"{metric.replace('_accuracy', '').replace('_', '-')} >= {goal}"
                 for (domain, metric), goal in TARGETS.items() if domain == base]
        f1 = f"{m['macro_f1']:.3f}" if "macro_f1" in m else "-"
        lines.append(f"| {name} | {int(m['rows'])} | {m['binary_accuracy']:.3f} | {f1} | {m['ece']:.3f} | "
                     f"{', '.join(goals) or '-'} |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("version_dir", type=Path)
    parser.add_argument("--split", choices=("test", "validation", "both"), default="test")
    parser.add_argument("--max-rows", type=int, default=None, help="seeded sample per set (default: all)")
    parser.add_argument("--data-root", type=Path, default=None, help="shared data (default CHANNELPULSE_DATA_DIR)")
    parser.add_argument("--device", default=None)
    parser.add_argument("--json", type=Path, default=None, help="also write the figures here")
    args = parser.parse_args()

    corpus = load_corpus(args.data_root or Settings().data_dir)
    sets: dict[str, TextDataset] = {}
    if args.split in ("validation", "both"):
        sets.update({f"validation:{n}": _sample(d, args.max_rows) for n, d in corpus.validation.items()})
    if args.split in ("test", "both"):
        sets.update({n: _sample(d, args.max_rows) for n, d in corpus.test.items()})
    started = time.perf_counter()
    results = evaluate_domains(args.version_dir, sets, args.device)
    seconds = time.perf_counter() - started
    rows = sum(len(d) for d in sets.values())
    print(table(results))
    print(f"\n{rows} rows in {seconds:.0f} s ({rows / seconds:.1f} rows/s); load average "
          f"{' '.join(f'{x:.1f}' for x in os.getloadavg())}; CPU flags: {_cpu_flags()}")
    if args.json:
        args.json.write_text(json.dumps({"version_dir": str(args.version_dir), "results": results}, indent=2) + "\n")


if __name__ == "__main__":
    main()
