"""A retrain candidate fine-tuned on several GPUs (or CPU processes): torchrun + DDP.

:func:`fine_tune_distributed` is the retrainer's side: it writes the feedback rows and the budget
to a folder next to the candidate, runs ``python -m torch.distributed.run --standalone
--nproc-per-node N -m channelpulse.models.retrain.distributed ...`` (this module's :func:`main`, one process per
rank) and returns the meta that rank 0 wrote with the candidate. Each rank runs
:func:`channelpulse.models.retrain.candidate.fine_tune_candidate` in torchrun's process group
(models/sentiment/distributed.py): same rows, same plan, its share of every step's batches.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import tempfile
from dataclasses import asdict
from pathlib import Path

from channelpulse.models.retrain.candidate import RetrainBudget, fine_tune_candidate
from channelpulse.models.sentiment.data import TextDataset
from channelpulse.models.sentiment.distributed import process_group, torchrun_command
from channelpulse.models.sentiment.model import META_FILE

ROWS_FILE = "rows.json"
BUDGET_FILE = "budget.json"


def fine_tune_distributed(
    data: TextDataset,
    out_dir: Path,
    base_version: Path,
    budget: RetrainBudget,
    nproc: int,
    *,
    device: str | None = None,
) -> dict[str, object]:
    """The candidate of :func:`fine_tune_candidate` trained by ``nproc`` torchrun processes on this
    machine (``device``: None = a GPU per rank when CUDA is there, else the CPU); its meta.
    RuntimeError when the job fails (its ranks' output goes to this process's stdout/stderr)."""
    out_dir = Path(out_dir)
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="ddp-job-", dir=out_dir.parent) as tmp:
        job = Path(tmp)
        rows = {"texts": list(data.texts), "labels": data.labels.tolist(), "groups": list(data.groups),
                "source": data.source}
        (job / ROWS_FILE).write_text(json.dumps(rows), encoding="utf-8")
        (job / BUDGET_FILE).write_text(json.dumps(asdict(budget)), encoding="utf-8")
        args = ["--job", str(job), "--base", str(base_version), "--out", str(out_dir)]
        if device is not None:
            args += ["--device", device]
        code = subprocess.run(torchrun_command(nproc, __name__, args), check=False).returncode
    if code != 0 or not (out_dir / META_FILE).is_file():
        raise RuntimeError(f"distributed fine-tune on {nproc} processes failed (exit {code})")
    meta: dict[str, object] = json.loads((out_dir / META_FILE).read_text(encoding="utf-8"))
    return meta


def main(argv: list[str] | None = None) -> int:
    """One rank of the job :func:`fine_tune_distributed` starts."""
    parser = argparse.ArgumentParser(description="one rank of a distributed sentiment retrain candidate")
    parser.add_argument("--job", type=Path, required=True, help=f"folder with {ROWS_FILE} and {BUDGET_FILE}")
    parser.add_argument("--base", type=Path, required=True, help="the serving classifier version folder")
    parser.add_argument("--out", type=Path, required=True, help="candidate folder (rank 0 writes it)")
    parser.add_argument("--device", default=None, help="cpu, or cuda (a GPU per rank); default: cuda if there")
    args = parser.parse_args(argv)
    rows = json.loads((args.job / ROWS_FILE).read_text(encoding="utf-8"))
    data = TextDataset(tuple(rows["texts"]), rows["labels"], tuple(rows["groups"]), rows["source"])
    budget = RetrainBudget(**json.loads((args.job / BUDGET_FILE).read_text(encoding="utf-8")))
    with process_group(args.device) as device:
        fine_tune_candidate(data, args.out, args.base, budget, device=device, progress=False)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
