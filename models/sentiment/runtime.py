"""The served sentiment classifier: a fine-tuned classifier folder (models/sentiment/classifier.py)
run by the fastest backend this machine offers, with length-bucketed dynamic padding.

``SentimentRuntime.predict(texts) -> (probs [n, 3], embeddings [n, dim])``, both float32 in input
order: the same outputs as ``classifier.predict_texts`` with torch fp32 (softmax of the
temperature-scaled logits, and the L2-normalised mean-pooled embedding), whatever the backend.

Which backend (models/sentiment/runtime_backends.py): ``torch-fp32``, ``torch-bf16`` (CPU autocast),
``onnx-fp32``, ``onnx-int8`` (ONNX Runtime, models/sentiment/runtime_onnx.py), ``cuda-fp16``, or
``auto``: a short measured check of every candidate on this machine
(models/sentiment/runtime_select.py). :func:`load_runtime` builds one from a version folder.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
from transformers import PreTrainedTokenizerBase

from channelpulse.models.contract import SENTIMENT_LABELS
from channelpulse.models.sentiment.classifier import (
    DEFAULT_MAX_LENGTH,
    ENCODER_DIR,
    HEAD_FILE,
    META_FILE,
    load_classifier,
)
from channelpulse.models.sentiment.runtime_backends import ONNX_FP32, ONNX_INT8, RUNTIMES, Backend, TorchBackend
from channelpulse.models.sentiment.runtime_batching import (
    DEFAULT_OVERHEAD_TOKENS,
    pad_rows,
    plan_buckets,
    plan_in_order,
)
from channelpulse.models.sentiment.runtime_onnx import OnnxBackend, cached_graphs, onnxruntime_available
from channelpulse.models.sentiment.runtime_select import Selection, choose_runtime, cpu_flags, isa_label

log = logging.getLogger(__name__)

RUNTIME_ENV = "CHANNELPULSE_SENTIMENT_RUNTIME"
AUTO = "auto"
SETTINGS = (AUTO, *RUNTIMES)
DEFAULT_MAX_ROWS = 64


def softmax(logits: np.ndarray) -> np.ndarray:
    shifted = logits - logits.max(axis=1, keepdims=True)
    e = np.exp(shifted)
    return (e / e.sum(axis=1, keepdims=True)).astype(np.float32)


@dataclass
class SentimentRuntime:
    """Tokenize, bucket by length, run ``backend`` per bucket, softmax, restore the input order."""

    backend: Backend
    tokenizer: PreTrainedTokenizerBase
    runtime: str
    dim: int
    max_length: int = DEFAULT_MAX_LENGTH
    max_rows: int = DEFAULT_MAX_ROWS
    bucketing: bool = True
    overhead_tokens: int = DEFAULT_OVERHEAD_TOKENS
    selection: Selection | None = field(default=None, repr=False)

    def token_ids(self, texts: Sequence[str]) -> list[list[int]]:
        """Token ids of each text (special tokens added, truncated to ``max_length``), unpadded."""
        encoded = self.tokenizer(list(texts), truncation=True, max_length=self.max_length, padding=False)
        return [list(ids) for ids in encoded["input_ids"]]

    def predict(self, texts: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
        """Calibrated probabilities ``[n, 3]`` and embeddings ``[n, dim]`` of ``texts`` (float32)."""
        probs = np.zeros((len(texts), len(SENTIMENT_LABELS)), np.float32)
        embeddings = np.zeros((len(texts), self.dim), np.float32)
        if len(texts) == 0:
            return probs, embeddings
        ids = self.token_ids(texts)
        lengths = [len(seq) for seq in ids]
        if self.bucketing:
            buckets = plan_buckets(lengths, self.max_rows, self.overhead_tokens)
        else:
            buckets = plan_in_order(lengths, self.max_rows)
        pad_id = int(self.tokenizer.pad_token_id or 0)
        for bucket in buckets:
            logits, embedding = self.backend(*pad_rows(ids, bucket, pad_id))
            probs[bucket.indices] = softmax(logits)
            embeddings[bucket.indices] = embedding
        return probs, embeddings


def weight_files(version_dir: Path) -> list[Path]:
    """The files the exported graphs are made from (encoder weights, head, meta.json's temperature)."""
    version_dir = Path(version_dir)
    encoder = version_dir / ENCODER_DIR
    return [*sorted(encoder.glob("*.safetensors")), encoder / "config.json", version_dir / HEAD_FILE,
            version_dir / META_FILE]


def default_threads() -> int:
    """The cores this process may use."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)


def requested_runtime(setting: str | None = None) -> str:
    """``setting``, else $CHANNELPULSE_SENTIMENT_RUNTIME, else ``auto``; an unknown name is an error."""
    value = (setting or os.environ.get(RUNTIME_ENV) or AUTO).strip().lower()
    if value not in SETTINGS:
        raise ValueError(f"sentiment runtime {value!r} is not one of {', '.join(SETTINGS)}")
    return value


class BackendFactory:
    """Builds each backend of one loaded classifier (exporting the ONNX graphs on first need)."""

    def __init__(self, version_dir: Path, module: torch.nn.Module, threads: int, cache_root: Path | None) -> None:
        self.version_dir = Path(version_dir)
        self.module = module
        self.threads = threads
        self.cache_root = cache_root
        self._graphs: dict[str, Path] | None = None

    def graphs(self) -> dict[str, Path]:
        if self._graphs is None:
            self._graphs = cached_graphs(self.module, weight_files(self.version_dir), self.cache_root)
        return self._graphs

    def build(self, runtime: str, device: str = "cpu") -> Backend:
        if runtime in (ONNX_FP32, ONNX_INT8):
            return OnnxBackend.open(self.graphs()["fp32" if runtime == ONNX_FP32 else "int8"], self.threads)
        return TorchBackend.build(self.module, runtime, device)


def load_runtime(
    version_dir: Path,
    runtime: str | None = None,
    device: str = "cpu",
    *,
    threads: int | None = None,
    cache_root: Path | None = None,
    bucketing: bool = True,
    max_rows: int = DEFAULT_MAX_ROWS,
) -> SentimentRuntime:
    """The classifier in ``version_dir`` under ``runtime`` (see :func:`requested_runtime`) on ``device``
    (``cpu`` or ``cuda[:i]``). A runtime this machine cannot run (onnxruntime missing, no CUDA) falls
    back to the best one it can, and :attr:`SentimentRuntime.selection` says why."""
    threads = threads or default_threads()
    if device == "cpu":
        torch.set_num_threads(threads)
    module, tokenizer, meta = load_classifier(Path(version_dir), device="cpu", dtype=torch.float32)
    factory = BackendFactory(Path(version_dir), module, threads, cache_root)
    flags = cpu_flags()
    dim = int(module.dim)

    def make(name: str) -> SentimentRuntime:
        return SentimentRuntime(
            factory.build(name, device), tokenizer, name, dim, int(meta.get("max_length", DEFAULT_MAX_LENGTH)),
            max_rows, bucketing,
        )

    selection = choose_runtime(
        requested_runtime(runtime),
        make,
        device=device,
        flags=flags,
        have_onnxruntime=onnxruntime_available(),
        have_cuda=torch.cuda.is_available(),
    )
    chosen = selection.runtime_object
    chosen.selection = selection
    log.info("sentiment runtime %s", selection.describe())
    return chosen


def runtime_info(rt: SentimentRuntime) -> dict[str, Any]:
    """What to record about a loaded runtime (metrics labels, logs, bench JSON)."""
    sel = rt.selection
    return {
        "runtime": rt.runtime,
        "isa": sel.isa if sel else isa_label(cpu_flags()),
        **(sel.to_dict() if sel else {}),
    }
