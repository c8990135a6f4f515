"""The sentiment model as one graph (MiniLM encoder, mean pooling, L2 norm, the linear head, softmax)
and its three CPU runtimes: plain torch fp32, ONNX Runtime fp32, ONNX Runtime with dynamic int8
weights (onnxruntime.quantization.quantize_dynamic)."""

from __future__ import annotations

import logging
import warnings
from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch

Predict = Callable[[np.ndarray, np.ndarray], np.ndarray]
"""(input_ids int64 [n, t], attention_mask int64 [n, t]) -> probabilities float32 [n, 3]."""


class EncoderWithHead(torch.nn.Module):
    """Token ids and mask in, sentiment probabilities out: what SentimentModel.predict computes."""

    def __init__(self, encoder: torch.nn.Module, head: torch.nn.Module) -> None:
        super().__init__()
        self.encoder = encoder
        self.head = head

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
        hidden = self.encoder(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state
        mask = attention_mask.unsqueeze(-1).to(hidden.dtype)
        pooled = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1e-9)
        embedding = torch.nn.functional.normalize(pooled, dim=-1)
        return torch.softmax(self.head(embedding), dim=-1)


def torch_predict(module: EncoderWithHead) -> Predict:
    module = module.eval()

    @torch.inference_mode()
    def predict(input_ids: np.ndarray, attention_mask: np.ndarray) -> np.ndarray:
        out = module(torch.from_numpy(input_ids), torch.from_numpy(attention_mask))
        return out.float().numpy()

    return predict


def export_onnx(module: EncoderWithHead, input_ids: np.ndarray, attention_mask: np.ndarray, path: Path) -> Path:
    """The graph in ONNX (opset 17, dynamic batch and sequence length), via the TorchScript exporter."""
    axes = {0: "batch", 1: "tokens"}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(
            module.eval(),
            (torch.from_numpy(input_ids), torch.from_numpy(attention_mask)),
            str(path),
            input_names=["input_ids", "attention_mask"],
            output_names=["probs"],
            dynamic_axes={"input_ids": axes, "attention_mask": axes, "probs": {0: "batch"}},
            opset_version=17,
            dynamo=False,
        )
    return path


def quantize_int8(source: Path, target: Path) -> Path:
    """Dynamic quantization: int8 weights (QInt8) of MatMul/Gemm, activations quantized at run time."""
    from onnxruntime.quantization import QuantType, quantize_dynamic

    root = logging.getLogger()
    level = root.level
    root.setLevel(max(level, logging.WARNING))  # it logs every tensor it leaves alone at INFO
    try:
        quantize_dynamic(str(source), str(target), weight_type=QuantType.QInt8)
    finally:
        root.setLevel(level)
    return target


def onnx_predict(path: Path, threads: int) -> Predict:
    """An ONNX Runtime CPU session with ``threads`` intra-op threads (one inter-op)."""
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    options.log_severity_level = 3
    session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])

    def predict(input_ids: np.ndarray, attention_mask: np.ndarray) -> np.ndarray:
        (probs,) = session.run(["probs"], {"input_ids": input_ids, "attention_mask": attention_mask})
        return np.asarray(probs, dtype=np.float32)

    return predict
