"""The ways to run one sentiment classifier graph (token ids -> logits, pooled embedding): torch fp32,
torch bf16 autocast (CPU), fp16 on CUDA, ONNX Runtime fp32 and dynamic int8 (models/sentiment/runtime_onnx.py).

A backend is a callable ``(input_ids int64 [n, t], attention_mask int64 [n, t]) -> (logits float32
[n, 3], embedding float32 [n, dim])``; softmax, temperature and bucketing are the runtime's
(models/sentiment/runtime.py), so every backend computes exactly the same function.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch

Backend = Callable[[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]
"""(input_ids, attention_mask) -> (logits float32 [n, classes], L2-normalised embedding float32 [n, dim])."""

TORCH_FP32 = "torch-fp32"
TORCH_BF16 = "torch-bf16"
CUDA_FP16 = "cuda-fp16"
ONNX_FP32 = "onnx-fp32"
ONNX_INT8 = "onnx-int8"
RUNTIMES = (TORCH_FP32, TORCH_BF16, ONNX_FP32, ONNX_INT8, CUDA_FP16)


@dataclass
class TorchBackend:
    """The classifier module itself: fp32 on CPU, bf16 autocast on CPU, or fp16 weights on CUDA."""

    module: torch.nn.Module
    device: torch.device
    autocast_bf16: bool = False

    @classmethod
    def build(cls, module: torch.nn.Module, runtime: str, device: str = "cpu") -> TorchBackend:
        """A private copy of ``module`` set up for ``runtime`` (torch-fp32, torch-bf16 or cuda-fp16)."""
        module = copy.deepcopy(module).eval()
        if runtime == CUDA_FP16:
            target = torch.device(device if device.startswith("cuda") else "cuda")
            return cls(module.to(target).half(), target)
        if runtime not in (TORCH_FP32, TORCH_BF16):
            raise ValueError(f"{runtime!r} is not a torch runtime")
        return cls(module.to("cpu").float(), torch.device("cpu"), autocast_bf16=runtime == TORCH_BF16)

    @torch.inference_mode()
    def __call__(self, input_ids: np.ndarray, attention_mask: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        ids = torch.from_numpy(input_ids).to(self.device)
        mask = torch.from_numpy(attention_mask).to(self.device)
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=self.autocast_bf16):
            logits, embedding = self.module(ids, mask)
        embedding = torch.nn.functional.normalize(embedding.float(), dim=-1)
        return logits.float().cpu().numpy(), embedding.cpu().numpy()
