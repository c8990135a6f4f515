"""The built wheel (issue 13, packaging by role): one top-level import package, ``channelpulse``, with
the repository's folders as its sub-packages and no deployment files; extras by role; and the worker,
run from the wheel alone, loads no torch or transformers.

The wheel is built once per session from a copy of the work tree (``pip wheel --no-deps
--no-build-isolation``: the setuptools of this environment, from the dev extra)."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import zipfile
from email.parser import Parser
from pathlib import Path

import pytest

from channelpulse.config import REPO_ROOT

FOLDERS = ("streams", "models", "schemas", "infra", "bench")
"""Top-level folders of the repository that the wheel holds as ``channelpulse/<folder>``."""
NOT_PACKAGED = ("models/repository/", "infra/helm/", "infra/docker/")
"""Served from a volume (the model repository) or used only by deployments."""
DATA = {"channelpulse/infra/kafka/pom.xml", "channelpulse/infra/prometheus/alerts.yml"}
"""Files beside the code that the packaged code reads (the local stack)."""
WORKER_ONLY = ("torch", "transformers")
"""What the worker role must not load (the Triton image and the trainers have them)."""
PROBE = """
import importlib.abc, json, sys
class Absent(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in {banned!r}:
            raise ModuleNotFoundError(f"No module named {{name!r}}", name=name)
        return None
sys.meta_path.insert(0, Absent())
from channelpulse.cli import build_parser, main
build_parser()
import channelpulse.commands.worker, channelpulse.streams.worker
try:
    main(["worker", "--help"])
except SystemExit as exit:
    code = exit.code
print(json.dumps({{"help_exit": code, "app": sys.modules["channelpulse.streams.app"].__file__,
                   "loaded": sorted({{m.split(".")[0] for m in sys.modules}} & {banned!r})}}))
"""


@pytest.fixture(scope="session")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    src = tmp_path_factory.mktemp("wheel-src") / "channelpulse"
    shutil.copytree(
        REPO_ROOT, src, symlinks=True,
        ignore=shutil.ignore_patterns(".git", ".venv", "build", "dist", "*.egg-info", "__pycache__", ".channelpulse",
                                      ".*_cache", "bench-results"),
    )
    out = tmp_path_factory.mktemp("wheel")
    done = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "--no-build-isolation", "-w", str(out), str(src)],
        capture_output=True, text=True, check=False,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    return next(out.glob("channelpulse-*.whl"))


@pytest.fixture(scope="session")
def names(wheel: Path) -> set[str]:
    with zipfile.ZipFile(wheel) as zf:
        return set(zf.namelist())


def metadata(wheel: Path) -> dict[str | None, set[str]]:
    """Requirement names of the base install (key None) and of each extra."""
    with zipfile.ZipFile(wheel) as zf:
        info = next(n for n in zf.namelist() if n.endswith(".dist-info/METADATA"))
        message = Parser().parsestr(zf.read(info).decode())
    roles: dict[str | None, set[str]] = {None: set()}
    for extra in message.get_all("Provides-Extra") or []:
        roles[extra] = set()
    for requirement in message.get_all("Requires-Dist") or []:
        spec, _, marker = requirement.partition(";")
        name = spec.split("[")[0].split("<")[0].split(">")[0].split("=")[0].split("!")[0].strip().lower()
        extra = marker.split("extra ==")[1].strip().strip("'\"") if "extra ==" in marker else None
        roles[extra].add(name)
    return roles


@pytest.mark.timeout(300)
def test_the_wheel_installs_one_top_level_package(names: set[str]) -> None:
    top = {name.split("/")[0] for name in names}
    assert {t for t in top if not t.endswith(".dist-info")} == {"channelpulse"}
    top_level = next(n for n in names if n.endswith(".dist-info/top_level.txt"))
    assert top_level.startswith("channelpulse-")


@pytest.mark.timeout(300)
def test_the_wheel_holds_every_module_of_the_folders_and_no_deployment_file(names: set[str]) -> None:
    repo = {str(p.relative_to(REPO_ROOT)) for p in (REPO_ROOT / "channelpulse").rglob("*.py")}
    for folder in FOLDERS:
        repo |= {
            f"channelpulse/{rel}"
            for p in (REPO_ROOT / folder).rglob("*.py")
            if not (rel := str(p.relative_to(REPO_ROOT))).startswith(NOT_PACKAGED) and "__pycache__" not in rel
        }
    packaged = {n for n in names if n.endswith(".py")}
    assert sorted(packaged ^ repo) == []
    others = {n for n in names if not n.endswith(".py") and ".dist-info/" not in n}
    assert others >= DATA
    assert sorted(n for n in others if n.startswith(tuple(f"channelpulse/{p}" for p in NOT_PACKAGED))) == []


@pytest.mark.timeout(300)
def test_the_extras_split_the_dependencies_by_role(wheel: Path) -> None:
    roles = metadata(wheel)
    assert set(roles) == {None, "serving", "train", "stack", "dev"}
    assert {"faust-streaming", "aiokafka", "kafka-python", "tritonclient", "pydantic", "prometheus-client",
            "polars"} <= roles[None]
    assert roles[None] & {"torch", "transformers", "onnxruntime", "onnx", "nvidia-pytriton"} == set()
    assert {"torch", "transformers", "onnxruntime"} <= roles["serving"]
    assert "channelpulse" in roles["train"] and "onnx" in roles["train"]  # channelpulse[serving] + export
    assert {"channelpulse", "nvidia-pytriton"} <= roles["stack"]
    assert {"pytest", "ruff", "mypy", "setuptools"} <= roles["dev"]


@pytest.mark.timeout(300)
def test_the_worker_runs_from_the_wheel_without_torch(wheel: Path, tmp_path: Path) -> None:
    """The wheel unpacked alone on sys.path (no editable install, not the repository), its
    dependencies from this environment, torch and transformers absent as if not installed."""
    unpacked = tmp_path / "site"
    with zipfile.ZipFile(wheel) as zf:
        zf.extractall(unpacked)
    deps = [p for p in sys.path if p.endswith(("site-packages", "dist-packages")) and Path(p).is_dir()]
    stdlib = [p for p in sys.path if p and Path(p).exists() and p not in deps and not p.startswith(str(REPO_ROOT))]
    setup = f"import sys; sys.path[:] = {[str(unpacked), *stdlib, *deps]!r}\n"
    done = subprocess.run(
        [sys.executable, "-S", "-c", setup + PROBE.format(banned=set(WORKER_ONLY))],
        cwd=tmp_path, capture_output=True, text=True, check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    found = json.loads(done.stdout.strip().splitlines()[-1])
    assert found["help_exit"] == 0
    assert found["app"].startswith(str(unpacked))
    assert found["loaded"] == []
