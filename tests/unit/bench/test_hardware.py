from __future__ import annotations

from pathlib import Path

from channelpulse.bench.hardware import cpu_model, describe_hardware, memory_gib


def test_cpu_model_and_memory_from_proc_files(tmp_path: Path) -> None:
    cpuinfo = tmp_path / "cpuinfo"
    cpuinfo.write_text("processor\t: 0\nvendor_id\t: AuthenticAMD\nmodel name\t: AMD EPYC 7B13\n")
    meminfo = tmp_path / "meminfo"
    meminfo.write_text("MemTotal:       25165824 kB\nMemFree: 1 kB\n")
    assert cpu_model(cpuinfo) == "AMD EPYC 7B13"
    assert memory_gib(meminfo) == 24.0
    assert memory_gib(tmp_path / "missing") is None


def test_the_record_names_cpu_cores_and_gpus() -> None:
    hw = describe_hardware()
    assert hw["cpu_model"] and hw["logical_cores"] >= 1 and 1 <= hw["usable_cores"] <= hw["logical_cores"]
    assert isinstance(hw["gpus"], list)
    assert "torch" in hw["versions"] and "python" in hw["versions"]
