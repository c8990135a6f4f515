"""`channelpulse bench --model-speed`: the sentiment classifier's speed under every runtime this machine
offers (models/sentiment/runtime.py), against torch fp32 of the same model, in one run.

* Model: ``--model-dir`` (a classifier folder), else the serving version (live repository, else
  models/repository) when it is a fine-tuned classifier.
* Sentences: a labelled held-out mix the training never sees, short tweets and longer reviews in a
  seeded random arrival order: SemEval-2017 4A ``twitter-2016test`` and the VADER amazon review
  sentences (a seeded sample of 800 of each), from ../shared/data.
* Baseline: ``torch-fp32`` as a plain server runs it, each batch of ``batch_max_size`` sentences
  padded to its longest. Candidates: every runtime, each with length-bucketed dynamic padding
  (``torch-fp32`` too, so the gain of bucketing and of the runtime can be told apart).
* Speed: the same batches (the first ``speed_rows`` sentences of the mix) through every runtime,
  interleaved batch by batch so load from other work falls on all alike; sentences/s = sentences /
  the sum of the per-batch medians. Accuracy: binary accuracy (neutral rows excluded) of each runtime
  on every held-out sentence; agreement with torch fp32 (argmax, probabilities, embedding cosine).
* Machine: ISA flags (/proc/cpuinfo), load averages at start and end, threads.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import numpy as np
import torch
from tqdm.auto import tqdm

from channelpulse.bench import report as reporting
from channelpulse.bench.hardware import describe_hardware, load_average
from channelpulse.bench.limits import latest_version_dir
from channelpulse.config import Settings
from channelpulse.models.contract import SENTIMENT_MODEL
from channelpulse.models.sentiment.classifier import is_classifier_dir, read_meta
from channelpulse.models.sentiment.data import TextDataset, load_vader
from channelpulse.models.sentiment.evaluate import binary_accuracy
from channelpulse.models.sentiment.runtime import SentimentRuntime, default_threads, load_runtime
from channelpulse.models.sentiment.runtime_backends import CUDA_FP16, TORCH_FP32
from channelpulse.models.sentiment.runtime_onnx import onnxruntime_available
from channelpulse.models.sentiment.runtime_select import ISA_FLAGS, cpu_candidates, cpu_flags, isa_label
from channelpulse.models.sentiment.sources import dedupe_by_id, load_semeval

BASELINE = "torch-fp32-padded"
"""torch fp32, every batch padded to its longest sentence: the model as a plain server runs it."""
TWEETS_FILE = "sentiment_train/semeval2017_task4a/Subtask_A/twitter-2016test-A.txt"
REVIEWS_FILE = "sentiment/vader_amazon_snippets.tsv"
SEED = 0


@dataclass(frozen=True)
class Sizes:
    tweets: int
    reviews: int | None
    speed_rows: int
    reps: int


FULL = Sizes(tweets=800, reviews=800, speed_rows=384, reps=3)
QUICK = Sizes(tweets=120, reviews=120, speed_rows=128, reps=1)


def sentiment_version_dir(settings: Settings) -> Path:
    """The serving version (live repository), else the newest one shipped in models/repository."""
    for repository in (settings.model_repository, settings.model_repository_source):
        found = latest_version_dir(repository, SENTIMENT_MODEL)
        if found is not None and (found / "meta.json").exists():
            return found
    raise FileNotFoundError(
        f"no sentiment version in {settings.model_repository} or {settings.model_repository_source}"
    )


def held_out(data_dir: Path, sizes: Sizes = FULL, seed: int = SEED) -> TextDataset:
    """Tweets (a seeded sample of SemEval 2016test) and review sentences (VADER amazon), shuffled."""
    rng = np.random.default_rng(seed)
    tweets = dedupe_by_id(load_semeval(data_dir / TWEETS_FILE))
    tweets = tweets.subset(np.sort(rng.permutation(len(tweets))[: sizes.tweets]), "semeval twitter-2016test")
    reviews = load_vader(data_dir / REVIEWS_FILE)
    if sizes.reviews is not None:
        reviews = reviews.subset(np.sort(rng.permutation(len(reviews))[: sizes.reviews]), reviews.source)
    mixed = TextDataset.concat([tweets, reviews])
    return mixed.subset(rng.permutation(len(mixed)), f"{tweets.source} ({len(tweets)}) + {reviews.source} "
                        f"({len(reviews)}), shuffled (seed {seed})")


def batches_of(texts: list[str], size: int) -> list[list[str]]:
    return [texts[i : i + size] for i in range(0, len(texts), size)]


def time_batches(
    runtimes: dict[str, SentimentRuntime], batches: list[list[str]], reps: int
) -> dict[str, dict[str, float]]:
    """Seconds each runtime needs for all ``batches`` (``median``: the sum of each batch's median of
    ``reps`` calls; ``best``: of each batch's fastest call, what it does when the machine's other load
    leaves it alone), the runtimes interleaved call by call after one untimed call each."""
    for rt in runtimes.values():
        rt.predict(batches[0])
    totals = {name: {"median": 0.0, "best": 0.0} for name in runtimes}
    with tqdm(total=len(batches) * reps * len(runtimes), desc="timing", unit="batch", leave=False) as bar:
        for batch in batches:
            times: dict[str, list[float]] = {name: [] for name in runtimes}
            for _ in range(reps):
                for name, rt in runtimes.items():
                    started = time.perf_counter()
                    rt.predict(batch)
                    times[name].append(time.perf_counter() - started)
                    bar.update()
            for name in runtimes:
                totals[name]["median"] += float(np.median(times[name]))
                totals[name]["best"] += min(times[name])
    return totals


def predict_all(rt: SentimentRuntime, texts: list[str], batch: int, desc: str) -> tuple[np.ndarray, np.ndarray]:
    """Probabilities and embeddings of every text, ``batch`` sentences a call in arrival order."""
    probs, embeddings = [], []
    for chunk in tqdm(batches_of(texts, batch), desc=desc, unit="batch", leave=False):
        p, e = rt.predict(chunk)
        probs.append(p)
        embeddings.append(e)
    return np.concatenate(probs), np.concatenate(embeddings)


def candidate_runtimes() -> list[str]:
    """Every runtime this machine can run (cuda-fp16 only with a CUDA device)."""
    out = cpu_candidates(cpu_flags(), onnxruntime_available())
    return [*out, CUDA_FP16] if torch.cuda.is_available() else out


def figures_for(
    seconds: dict[str, float], rows: int, base: dict[str, float], bucketed_fp32: dict[str, float],
    accuracy: float, base_accuracy: float, agreement: dict[str, float],
) -> dict[str, Any]:
    """One runtime's line: speed (from median calls; ``*_best`` from the fastest call of each batch)
    against the baseline and against bucketed torch fp32, accuracy lost, agreement."""
    return {
        "sentences_per_s": round(rows / seconds["median"], 1),
        "sentences_per_s_best": round(rows / seconds["best"], 1),
        "seconds": round(seconds["median"], 3),
        "speedup": round(base["median"] / seconds["median"], 2),
        "speedup_best": round(base["best"] / seconds["best"], 2),
        "speedup_vs_bucketed_torch_fp32": round(bucketed_fp32["median"] / seconds["median"], 2),
        "binary_accuracy": round(accuracy, 4),
        "accuracy_drop_points": round((base_accuracy - accuracy) * 100, 2),
        **agreement,
    }


def agreement_with(reference: tuple[np.ndarray, np.ndarray], got: tuple[np.ndarray, np.ndarray]) -> dict[str, float]:
    """How close a runtime's outputs are to torch fp32's on the same sentences."""
    cosine = (got[1] * reference[1]).sum(axis=1)
    return {
        "argmax_agreement": round(float((got[0].argmax(1) == reference[0].argmax(1)).mean()), 4),
        "max_abs_prob_diff": round(float(np.abs(got[0] - reference[0]).max()), 4),
        "min_embedding_cosine": round(float(cosine.min()), 5),
    }


def measure(
    settings: Settings, quick: bool = False, model_dir: Path | None = None, threads: int | None = None
) -> dict[str, Any]:
    """The model-speed section of the report (``threads``: default the usable cores, as served)."""
    sizes = QUICK if quick else FULL
    version_dir = Path(model_dir) if model_dir is not None else sentiment_version_dir(settings)
    if not is_classifier_dir(version_dir):
        raise ValueError(f"{version_dir} is not a fine-tuned classifier folder (models/sentiment/classifier.py); "
                         "pass --model-dir")
    threads = threads or default_threads()
    batch = settings.batch_max_size
    data = held_out(settings.data_dir, sizes)
    texts = list(data.texts)
    names = candidate_runtimes()
    load_s: dict[str, float] = {}
    runtimes: dict[str, SentimentRuntime] = {}
    for name in tqdm(names, desc="loading runtimes", unit="runtime", leave=False):
        started = time.perf_counter()
        runtimes[name] = load_runtime(version_dir, name, "cuda" if name == CUDA_FP16 else "cpu",
                                      threads=threads, max_rows=batch)
        load_s[name] = round(time.perf_counter() - started, 2)
    fp32 = runtimes[TORCH_FP32]
    timed = {BASELINE: SentimentRuntime(fp32.backend, fp32.tokenizer, TORCH_FP32, fp32.dim, fp32.max_length,
                                        batch, bucketing=False), **runtimes}
    speed_texts = texts[: sizes.speed_rows]
    seconds = time_batches(timed, batches_of(speed_texts, batch), sizes.reps)
    outputs = {name: predict_all(rt, texts, batch, f"accuracy {name}") for name, rt in runtimes.items()}
    accuracy = {name: binary_accuracy(out[0], data.labels) for name, out in outputs.items()}
    base = outputs[TORCH_FP32]
    figures = {
        BASELINE: figures_for(seconds[BASELINE], len(speed_texts), seconds[BASELINE], seconds[TORCH_FP32],
                              accuracy[TORCH_FP32], accuracy[TORCH_FP32], agreement_with(base, base)),
    }
    for name in runtimes:
        figures[name] = figures_for(seconds[name], len(speed_texts), seconds[BASELINE], seconds[TORCH_FP32],
                                    accuracy[name], accuracy[TORCH_FP32], agreement_with(base, outputs[name]))
    within = [n for n in runtimes if figures[n]["accuracy_drop_points"] <= reporting.MAX_ACCURACY_DROP_POINTS]
    best = max(within or list(runtimes), key=lambda n: figures[n]["speedup"])
    tokens = [len(ids) for ids in fp32.token_ids(speed_texts)]
    flags = cpu_flags()
    return {
        "model_dir": str(version_dir),
        "model_version": str(read_meta(version_dir).get("version")),
        "batch": batch,
        "threads": threads,
        "reps_per_batch": sizes.reps,
        "speed_sentences": len(speed_texts),
        "speed_tokens": {"mean": round(float(np.mean(tokens)), 1), "p50": int(np.median(tokens)),
                         "p90": int(np.percentile(tokens, 90)), "max": int(max(tokens))},
        "held_out": {"rows": len(data), "polar_rows": int((data.labels != 1).sum()), "source": data.source},
        "isa": {"label": isa_label(flags), "flags": [f for f in ISA_FLAGS if f in flags],
                "all_cpu_flags": " ".join(sorted(flags))},
        "load_s": load_s,
        "runtimes": figures,
        "best": {"runtime": best, **{k: figures[best][k] for k in ("speedup", "accuracy_drop_points")}},
    }


def run_model_speed(
    settings: Settings, out_dir: Path, quick: bool, command: str, model_dir: Path | None = None,
    threads: int | None = None,
) -> dict[str, Any]:
    """Measure, write ``model_speed.json`` to ``out_dir`` and print the summary."""
    report: dict[str, Any] = {
        "command": command,
        "mode": "quick" if quick else "full",
        "started_at": datetime.now(timezone.utc).isoformat(),
        "hardware": describe_hardware(),
    }
    started = time.perf_counter()
    report["model_speed"] = measure(settings, quick, model_dir, threads)
    report["seconds"] = round(time.perf_counter() - started, 1)
    report["hardware"]["load_average_end"] = load_average()
    report["targets"] = reporting.targets(report)
    path = reporting.write_json(report, out_dir, "model_speed.json")
    for line in reporting.summary_lines(report):
        print(line)
    print(f"[bench] wrote {path}", flush=True)
    return report
