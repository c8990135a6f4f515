"""ONNX Runtime backends of the sentiment classifier, built at load time from its torch weights.

The classifier (fp32 on CPU) is exported once with torch's TorchScript exporter (opset 17, dynamic
batch and length; outputs ``logits`` and ``embedding``), and quantized with ONNX Runtime's dynamic
quantization (int8 weights per output channel, uint8 activations quantized at run time, MatMul nodes
only: per-tensor weights and int8 word embeddings cost far more accuracy for no speed). The files live
in a cache folder keyed by the weights' hash and the library versions, so a restart reuses them and
nothing but the fp16 safetensors is committed.
"""

from __future__ import annotations

import hashlib
import logging
import os
import shutil
import tempfile
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

EXPORT_RECIPE = "opset17-torchscript-v1;int8=dynamic-qint8-per-channel-matmul-v1"
FP32_FILE = "classifier.onnx"
INT8_FILE = "classifier.int8.onnx"
INPUTS = ("input_ids", "attention_mask")
OUTPUTS = ("logits", "embedding")


def onnxruntime_available() -> bool:
    """ONNX Runtime and the onnx package (the exporter needs it) import."""
    try:
        import onnx  # noqa: F401
        import onnxruntime  # noqa: F401
    except ImportError:
        return False
    return True


def default_cache_root() -> Path:
    """``$CHANNELPULSE_CACHE_DIR/sentiment-onnx`` (default ``~/.cache/channelpulse/sentiment-onnx``)."""
    base = os.environ.get("CHANNELPULSE_CACHE_DIR") or str(Path.home() / ".cache" / "channelpulse")
    return Path(base) / "sentiment-onnx"


def cache_key(weight_files: list[Path]) -> str:
    """Hash of the weight files' bytes, the export recipe and the torch / onnxruntime versions."""
    import onnxruntime

    digest = hashlib.sha256(f"{EXPORT_RECIPE}|{torch.__version__}|{onnxruntime.__version__}".encode())
    for path in sorted(weight_files):
        digest.update(path.name.encode())
        with path.open("rb") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                digest.update(block)
    return digest.hexdigest()[:20]


def export_fp32(module: torch.nn.Module, path: Path, example_tokens: int = 16) -> Path:
    """``module`` (ids, mask) -> (logits, embedding) as an fp32 ONNX graph at ``path``."""
    module = module.eval().to("cpu").float()
    ids = torch.ones((2, example_tokens), dtype=torch.int64)
    mask = torch.ones((2, example_tokens), dtype=torch.int64)
    axes = {0: "batch", 1: "tokens"}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(
            module,
            (ids, mask),
            str(path),
            input_names=list(INPUTS),
            output_names=list(OUTPUTS),
            dynamic_axes={"input_ids": axes, "attention_mask": axes, "logits": {0: "batch"}, "embedding": {0: "batch"}},
            opset_version=17,
            dynamo=False,
        )
    return path


def quantize_int8(source: Path, target: Path) -> Path:
    """Dynamic int8 quantization of the MatMul weights of ``source`` (per output channel)."""
    from onnx import TensorProto
    from onnxruntime.quantization import QuantType, quantize_dynamic

    root = logging.getLogger()
    level = root.level
    root.setLevel(max(level, logging.ERROR))  # it logs every tensor it leaves alone, and a pre-processing hint
    try:
        quantize_dynamic(
            str(source),
            str(target),
            weight_type=QuantType.QInt8,
            per_channel=True,
            op_types_to_quantize=["MatMul"],
            extra_options={"DefaultTensorType": TensorProto.FLOAT},
        )
    finally:
        root.setLevel(level)
    return target


def cached_graphs(module: torch.nn.Module, weight_files: list[Path], cache_root: Path | None = None) -> dict[str, Path]:
    """The fp32 and int8 graphs of ``module`` (keys ``fp32``, ``int8``), exported into the cache on the
    first call for these weights; the folder appears complete or not at all."""
    folder = (cache_root or default_cache_root()) / cache_key(weight_files)
    graphs = {"fp32": folder / FP32_FILE, "int8": folder / INT8_FILE}
    if all(p.is_file() for p in graphs.values()):
        return graphs
    folder.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{folder.name}-", dir=folder.parent))
    try:
        quantize_int8(export_fp32(module, staging / FP32_FILE), staging / INT8_FILE)
        try:
            staging.rename(folder)
        except OSError:  # another process finished the same export first
            if not all(p.is_file() for p in graphs.values()):
                raise
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return graphs


@dataclass
class OnnxBackend:
    """An ONNX Runtime CPU session of one graph with ``threads`` intra-op threads (one inter-op) that
    sleep rather than spin between calls: the cores are shared with the workers, Kafka and torch."""

    session: Any
    path: Path

    @classmethod
    def open(cls, path: Path, threads: int) -> OnnxBackend:
        import onnxruntime as ort

        options = ort.SessionOptions()
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        options.log_severity_level = 3
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        return cls(ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"]), path)

    def __call__(self, input_ids: np.ndarray, attention_mask: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        logits, embedding = self.session.run(list(OUTPUTS), {"input_ids": input_ids, "attention_mask": attention_mask})
        embedding = np.asarray(embedding, dtype=np.float32)
        embedding /= np.maximum(np.linalg.norm(embedding, axis=1, keepdims=True), 1e-12)
        return np.asarray(logits, dtype=np.float32), embedding
