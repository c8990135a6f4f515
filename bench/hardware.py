"""What the bench ran on, recorded in its JSON so that runs on other machines (a GPU) can be compared."""

from __future__ import annotations

import os
import platform
from pathlib import Path
from typing import Any


def cpu_model(cpuinfo: Path = Path("/proc/cpuinfo")) -> str:
    """The CPU's model name (``model name`` of /proc/cpuinfo), else what ``platform`` knows."""
    try:
        for line in cpuinfo.read_text(errors="replace").splitlines():
            if line.lower().startswith("model name") and ":" in line:
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def memory_gib(meminfo: Path = Path("/proc/meminfo")) -> float | None:
    """Total memory in GiB (``MemTotal`` of /proc/meminfo), None where unknown."""
    try:
        for line in meminfo.read_text().splitlines():
            if line.startswith("MemTotal:"):
                return round(int(line.split()[1]) / 1024**2, 1)
    except (OSError, ValueError, IndexError):
        pass
    return None


def gpus() -> list[dict[str, Any]]:
    """The CUDA devices torch sees (name, memory), empty without one."""
    try:
        import torch
    except ImportError:
        return []
    if not torch.cuda.is_available():
        return []
    out = []
    for index in range(torch.cuda.device_count()):
        props = torch.cuda.get_device_properties(index)
        out.append({"index": index, "name": props.name, "memory_gib": round(props.total_memory / 1024**3, 1)})
    return out


def load_average() -> list[float] | None:
    """The 1, 5 and 15 minute load averages (other work on the machine skews every figure)."""
    try:
        return [round(v, 2) for v in os.getloadavg()]
    except OSError:
        return None


def describe_hardware() -> dict[str, Any]:
    """CPU model, core counts, memory, GPUs (via torch.cuda), the library versions that matter."""
    usable = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    versions: dict[str, str] = {"python": platform.python_version()}
    for module in ("torch", "onnxruntime", "aiokafka", "faust", "tritonclient"):
        try:
            versions[module] = str(__import__(module).__version__)
        except (ImportError, AttributeError):
            continue
    return {
        "cpu_model": cpu_model(),
        "logical_cores": os.cpu_count(),
        "usable_cores": usable,
        "memory_gib": memory_gib(),
        "gpus": gpus(),
        "platform": platform.platform(),
        "load_average": load_average(),
        "versions": versions,
    }
