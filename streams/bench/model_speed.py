"""`channelpulse bench --model-speed`: the CPU speed of the sentiment model (raw MiniLM encoder + the
serving version's head) under plain torch fp32, ONNX Runtime fp32 and ONNX Runtime dynamic int8, on
the same inputs (batch 64, 32 tokens, 2 threads), and each runtime's accuracy on the held-out
sentences (the fixed test split of /work/shared/data/sentiment)."""

from __future__ import annotations

import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import numpy as np
import torch

from channelpulse.config import Settings
from models.contract import SENTIMENT_MODEL
from models.sentiment.data import TextDataset, load_vader, split
from streams.bench import report as reporting
from streams.bench.hardware import describe_hardware
from streams.bench.limits import latest_version_dir
from streams.bench.onnx_runtimes import (
    EncoderWithHead,
    Predict,
    export_onnx,
    onnx_predict,
    quantize_int8,
    torch_predict,
)

BATCH = 64
TOKENS = 32
THREADS = 2
EVAL_MAX_TOKENS = 128
RUNTIMES = ("torch_fp32", "onnxruntime_fp32", "onnxruntime_int8")
VADER_FILES = ("vader_movie_snippets.tsv", "vader_amazon_snippets.tsv")


def sentiment_version_dir(settings: Settings) -> Path:
    """The serving version (live repository), else the newest one shipped in models/repository."""
    for repository in (settings.model_repository, settings.model_repository_source):
        found = latest_version_dir(repository, SENTIMENT_MODEL)
        if found is not None and (found / "meta.json").exists():
            return found
    raise FileNotFoundError(
        f"no sentiment version in {settings.model_repository} or {settings.model_repository_source}"
    )


def held_out(data_dir: Path) -> TextDataset:
    """The test split of both VADER sentence files."""
    return TextDataset.concat([split(load_vader(data_dir / "sentiment" / name))[1] for name in VADER_FILES])


def time_batches(runtimes: dict[str, Predict], ids: np.ndarray, mask: np.ndarray, reps: int) -> dict[str, list[float]]:
    """Seconds per call of each runtime on the same batch, interleaved so that load from other work on
    the machine falls on every runtime alike (after two untimed calls each)."""
    for predict in runtimes.values():
        for _ in range(2):
            predict(ids, mask)
    times: dict[str, list[float]] = {name: [] for name in runtimes}
    for _ in range(reps):
        for name, predict in runtimes.items():
            started = time.perf_counter()
            predict(ids, mask)
            times[name].append(time.perf_counter() - started)
    return times


def accuracy(predict: Predict, tokenizer: Any, texts: list[str], labels: np.ndarray) -> float:
    """Share of ``texts`` whose most probable label is the true one (batches of similar length)."""
    order = np.argsort([len(t) for t in texts], kind="stable")
    predicted = np.empty(len(texts), dtype=np.int64)
    for start in range(0, len(texts), BATCH):
        idx = order[start : start + BATCH]
        enc = tokenizer([texts[i] for i in idx], padding=True, truncation=True, max_length=EVAL_MAX_TOKENS,
                        return_tensors="np")
        probs = predict(enc["input_ids"].astype(np.int64), enc["attention_mask"].astype(np.int64))
        predicted[idx] = probs.argmax(axis=1)
    return float((predicted == labels).mean())


def measure(settings: Settings, quick: bool = False, workdir: Path | None = None) -> dict[str, Any]:
    """The model-speed section of the report."""
    from models.sentiment.model import SentimentModel

    torch.set_num_threads(THREADS)
    version_dir = sentiment_version_dir(settings)
    model = SentimentModel.load(version_dir, device="cpu")
    tokenizer = model.encoder.tokenizer
    module = EncoderWithHead(model.encoder.model, model.head).eval()
    test = held_out(settings.data_dir)
    n_eval = 256 if quick else len(test)
    texts, labels = list(test.texts[:n_eval]), test.labels[:n_eval]
    enc = tokenizer(list(test.texts[:BATCH]), padding="max_length", truncation=True, max_length=TOKENS,
                    return_tensors="np")
    ids, mask = enc["input_ids"].astype(np.int64), enc["attention_mask"].astype(np.int64)
    with tempfile.TemporaryDirectory(dir=workdir) as tmp:
        fp32 = export_onnx(module, ids, mask, Path(tmp) / "sentiment.onnx")
        int8 = quantize_int8(fp32, Path(tmp) / "sentiment.int8.onnx")
        runtimes = {
            "torch_fp32": torch_predict(module),
            "onnxruntime_fp32": onnx_predict(fp32, THREADS),
            "onnxruntime_int8": onnx_predict(int8, THREADS),
        }
        times = time_batches(runtimes, ids, mask, reps=5 if quick else 30)
        accuracies = {name: accuracy(p, tokenizer, texts, labels) for name, p in runtimes.items()}
        reference = model.predict(texts[:BATCH], batch_size=BATCH)[0]
        sub = tokenizer(texts[:BATCH], padding=True, truncation=True, max_length=EVAL_MAX_TOKENS, return_tensors="np")
        ours = runtimes["torch_fp32"](sub["input_ids"].astype(np.int64), sub["attention_mask"].astype(np.int64))
        sizes = {"onnxruntime_fp32": fp32.stat().st_size, "onnxruntime_int8": int8.stat().st_size}
    base_ms = float(np.median(times["torch_fp32"])) * 1000
    figures: dict[str, Any] = {}
    for name in RUNTIMES:
        ms = float(np.median(times[name])) * 1000
        figures[name] = {
            "batch_ms": round(ms, 2),
            "batch_p90_ms": round(float(np.percentile(times[name], 90)) * 1000, 2),
            "sentences_per_s": round(BATCH / ms * 1000, 1),
            "speedup": round(base_ms / ms, 2),
            "accuracy": round(accuracies[name], 4),
            "accuracy_drop_points": round((accuracies["torch_fp32"] - accuracies[name]) * 100, 2),
            **({"file_mib": round(sizes[name] / 2**20, 1)} if name in sizes else {}),
        }
    within = [n for n in RUNTIMES[1:] if figures[n]["accuracy_drop_points"] <= 1.0] or list(RUNTIMES[1:])
    best = max(within, key=lambda n: figures[n]["speedup"])
    return {
        "version_dir": str(version_dir),
        "encoder": model.meta.get("encoder", {}).get("checkpoint"),
        "batch": BATCH,
        "tokens": TOKENS,
        "threads": THREADS,
        "timed_calls": len(times["torch_fp32"]),
        "held_out": {"sentences": n_eval, "of": len(test), "source": test.source, "eval_max_tokens": EVAL_MAX_TOKENS},
        "torch_graph_vs_model_max_abs_diff": float(np.abs(ours - reference).max()),
        "runtimes": figures,
        "best": {"runtime": best, **{k: figures[best][k] for k in ("speedup", "accuracy_drop_points")}},
    }


def run_model_speed(settings: Settings, out_dir: Path, quick: bool, command: str) -> dict[str, Any]:
    """Measure, write ``model_speed.json`` to ``out_dir`` and print the summary."""
    report: dict[str, Any] = {
        "command": command,
        "mode": "quick" if quick else "full",
        "started_at": datetime.now(timezone.utc).isoformat(),
        "hardware": describe_hardware(),
        "model_speed": measure(settings, quick),
    }
    report["targets"] = reporting.targets(report)
    path = reporting.write_json(report, out_dir, "model_speed.json")
    for line in reporting.summary_lines(report):
        print(line)
    print(f"[bench] wrote {path}", flush=True)
    return report
