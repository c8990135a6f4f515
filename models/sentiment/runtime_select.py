"""Which backend runs the sentiment classifier here: the CPU's ISA flags, the candidates they make
worth trying, and ``auto``'s short measured check (every candidate times the same probe batch,
interleaved, and the fastest whose embeddings agree with torch fp32 wins). The measurements are kept
in the :class:`Selection` so the Triton adapter can log and export them."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from channelpulse.models.sentiment.runtime_backends import CUDA_FP16, ONNX_FP32, ONNX_INT8, TORCH_BF16, TORCH_FP32

ISA_FLAGS = ("avx2", "avx512f", "avx512_vnni", "avx_vnni", "avx512_bf16", "amx_bf16", "amx_int8", "amx_tile")
MIN_AGREEMENT = 0.98
"""Least mean cosine between a candidate's embeddings and torch fp32's on the probe batch."""
PROBE_TEXT = (
    "the service was quick and friendly but the food arrived cold and the manager never answered "
    "my emails about the refund so I doubt we will come back even though the view is lovely"
)
PROBE_LENGTHS = (5, 8, 11, 14, 18, 22, 28, 36, 52, 80)
"""Words per probe sentence (cycled over the probe batch): mostly tweets, some long reviews."""


class Runnable(Protocol):
    runtime: str

    def predict(self, texts: list[str]) -> tuple[np.ndarray, np.ndarray]: ...


def cpu_flags(cpuinfo: Path = Path("/proc/cpuinfo")) -> set[str]:
    """The ``flags`` of the first CPU in /proc/cpuinfo (empty where there is none)."""
    try:
        for line in cpuinfo.read_text(errors="replace").splitlines():
            if line.startswith("flags") and ":" in line:
                return set(line.split(":", 1)[1].split())
    except OSError:
        pass
    return set()


def isa_label(flags: set[str]) -> str:
    """The ISA extensions that matter for the runtimes, ``+``-joined (``none`` without any)."""
    return "+".join(f for f in ISA_FLAGS if f in flags) or "none"


def cpu_candidates(flags: set[str], have_onnxruntime: bool) -> list[str]:
    """torch fp32 always; torch bf16 where the CPU has bf16 instructions (AVX512-BF16 or AMX);
    ONNX Runtime fp32 and int8 when onnxruntime is installed."""
    out = [TORCH_FP32]
    if flags & {"avx512_bf16", "amx_bf16"}:
        out.append(TORCH_BF16)
    if have_onnxruntime:
        out += [ONNX_FP32, ONNX_INT8]
    return out


def probe_texts(rows: int = 32) -> list[str]:
    base = PROBE_TEXT.split()
    words = base * (1 + max(PROBE_LENGTHS) // len(base))
    return [" ".join(words[i % 7 : i % 7 + PROBE_LENGTHS[i % len(PROBE_LENGTHS)]]) for i in range(rows)]


@dataclass
class Selection:
    """The chosen runtime, what was asked for, why, and (for ``auto``) what each candidate measured."""

    runtime: str
    requested: str
    device: str
    isa: str
    reason: str
    measured: dict[str, dict[str, Any]] = field(default_factory=dict)
    runtime_object: Any = field(default=None, repr=False)

    def to_dict(self) -> dict[str, Any]:
        return {"runtime": self.runtime, "requested": self.requested, "device": self.device, "isa": self.isa,
                "reason": self.reason, "measured": self.measured}

    def describe(self) -> str:
        speeds = ", ".join(
            f"{k} {v['sentences_per_s']:.1f}/s" for k, v in self.measured.items() if "sentences_per_s" in v
        )
        return f"{self.runtime} (asked {self.requested}, {self.device}, isa {self.isa}): {self.reason}" + (
            f" [probe: {speeds}]" if speeds else ""
        )


def measure(candidates: dict[str, Runnable], texts: list[str], reps: int) -> dict[str, dict[str, float]]:
    """Sentences/s of each candidate on ``texts`` (median of ``reps`` interleaved calls after one
    untimed call) and the mean cosine of its embeddings with the first candidate's (torch fp32)."""
    reference = None
    outputs: dict[str, np.ndarray] = {}
    for name, rt in candidates.items():
        outputs[name] = rt.predict(texts)[1]
        reference = outputs[name] if reference is None else reference
    times: dict[str, list[float]] = {name: [] for name in candidates}
    for _ in range(reps):
        for name, rt in candidates.items():
            started = time.perf_counter()
            rt.predict(texts)
            times[name].append(time.perf_counter() - started)
    assert reference is not None
    return {
        name: {
            "sentences_per_s": round(len(texts) / float(np.median(times[name])), 1),
            "cosine_to_fp32": round(float((outputs[name] * reference).sum(axis=1).mean()), 5),
        }
        for name in candidates
    }


def choose_runtime(
    requested: str,
    make: Callable[[str], Runnable],
    *,
    device: str,
    flags: set[str],
    have_onnxruntime: bool,
    have_cuda: bool,
    reps: int = 2,
) -> Selection:
    """Build the runtime ``requested`` (or ``auto``) with ``make(name)``; see the module docstring."""
    isa = isa_label(flags)
    if device.startswith("cuda"):
        if not have_cuda:
            raise RuntimeError(f"device {device} asked for, but torch sees no CUDA device")
        reason = "a GPU instance runs fp16 on CUDA"
        if requested not in ("auto", CUDA_FP16):
            reason += f" (not {requested})"
        return Selection(CUDA_FP16, requested, device, isa, reason, runtime_object=make(CUDA_FP16))
    candidates = cpu_candidates(flags, have_onnxruntime)
    if requested != "auto":
        if requested == CUDA_FP16:
            reason = "cuda-fp16 needs a GPU instance (KIND_GPU); measured the CPU candidates instead"
        elif requested in (ONNX_FP32, ONNX_INT8) and not have_onnxruntime:
            reason = f"{requested} needs onnxruntime and onnx, which are not installed; measured the others instead"
        else:
            return Selection(requested, requested, device, isa, "set explicitly", runtime_object=make(requested))
    else:
        reason = ""
    built: dict[str, Runnable] = {}
    errors: dict[str, dict[str, Any]] = {}
    for name in candidates:
        try:
            built[name] = make(name)
        except Exception as exc:  # a candidate that cannot be built here is skipped, and says why
            errors[name] = {"error": f"{type(exc).__name__}: {exc}"}
    measured = measure(built, probe_texts(), reps)
    agreeing = [n for n in built if measured[n]["cosine_to_fp32"] >= MIN_AGREEMENT] or [TORCH_FP32]
    best = max(agreeing, key=lambda n: measured[n]["sentences_per_s"])
    reason += f"fastest of {', '.join(built)} on a {len(probe_texts())}-sentence probe" + (
        f" ({', '.join(errors)} failed to build)" if errors else ""
    )
    return Selection(best, requested, device, isa, reason, {**measured, **errors}, runtime_object=built[best])
