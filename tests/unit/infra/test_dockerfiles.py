"""The two Dockerfiles copy every folder the wheel packages, from a context their .dockerignore
lets through, on the base images docker-compose.yml promises, and install the extras of their role."""

from __future__ import annotations

import fnmatch
import re
from pathlib import Path

import pytest
import yaml

from channelpulse.config import REPO_ROOT

DOCKERFILES = {
    "channelpulse": REPO_ROOT / "infra" / "docker" / "channelpulse.Dockerfile",
    "triton": REPO_ROOT / "infra" / "docker" / "triton.Dockerfile",
}


def instructions(path: Path) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) with continuation lines joined and comments dropped."""
    text = re.sub(r"\\\n", " ", path.read_text())
    out = []
    for line in text.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            word, _, rest = line.partition(" ")
            out.append((word.upper(), rest.strip()))
    return out


def copy_sources(path: Path) -> list[str]:
    return [args.split()[0] for word, args in instructions(path) if word == "COPY" and "--from" not in args]


def ignored(relpath: str, dockerignore: Path) -> bool:
    """Whether the build context leaves ``relpath`` out (the last matching pattern decides)."""
    verdict = False
    for raw in dockerignore.read_text().splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        negate = line.startswith("!")
        pattern = line.lstrip("!").rstrip("/")
        if pattern == "**" or fnmatch.fnmatch(relpath, pattern) or relpath.startswith(pattern + "/"):
            verdict = not negate
    return verdict


def packaged_folders() -> set[str]:
    """channelpulse/ and the folders its symlinks (channelpulse/streams -> ../streams, ...) map in."""
    links = [p for p in (REPO_ROOT / "channelpulse").iterdir() if p.is_symlink()]
    return {"channelpulse"} | {str(p.resolve().relative_to(REPO_ROOT)) for p in links}


def arg_defaults(path: Path) -> dict[str, str]:
    return dict(a.split("=", 1) for word, a in instructions(path) if word == "ARG" and "=" in a)


def test_compose_builds_these_dockerfiles() -> None:
    services = yaml.safe_load((REPO_ROOT / "docker-compose.yml").read_text())["services"]
    built = {s["build"]["dockerfile"] for s in services.values() if "build" in s}
    assert built == {str(p.relative_to(REPO_ROOT)) for p in DOCKERFILES.values()}


def test_base_images() -> None:
    (base,) = [args for word, args in instructions(DOCKERFILES["channelpulse"]) if word == "FROM"]
    assert base == "python:3.11-slim"
    args = arg_defaults(DOCKERFILES["triton"])
    assert re.fullmatch(r"nvcr\.io/nvidia/tritonserver:\d\d\.\d\d-py3", args["TRITON_IMAGE"])
    assert [a for w, a in instructions(DOCKERFILES["triton"]) if w == "FROM"] == ["${TRITON_IMAGE}"]


@pytest.mark.parametrize("name", sorted(DOCKERFILES))
def test_every_packaged_folder_is_copied(name: str) -> None:
    assert packaged_folders() <= set(copy_sources(DOCKERFILES[name]))
    # the dependency layer's placeholder is the one top-level package
    runs = [args for word, args in instructions(DOCKERFILES[name]) if word == "RUN"]
    assert "touch channelpulse/__init__.py" in runs[0]


def test_each_image_installs_the_extras_of_its_role() -> None:
    """Worker image: no extra (no torch); compose's retrainer: `train`; Triton: the adapters' `serving`
    within `train` (the chart's retrainer runs on it)."""
    services = yaml.safe_load((REPO_ROOT / "docker-compose.yml").read_text())["services"]
    assert arg_defaults(DOCKERFILES["channelpulse"])["EXTRAS"] == '""'
    (deps,) = [a for w, a in instructions(DOCKERFILES["channelpulse"]) if w == "RUN" and "pip install" in a][:1]
    assert '".${EXTRAS:+[$EXTRAS]}"' in deps
    extras = {n: s["build"].get("args", {}).get("EXTRAS", "") for n, s in services.items()
              if s.get("build", {}).get("dockerfile") == "infra/docker/channelpulse.Dockerfile"}
    assert extras == {"retrainer": "train", "worker": "", "kafka-init": "", "model-repository-init": ""}
    assert services["worker"]["image"] == "channelpulse:latest" != services["retrainer"]["image"]
    assert arg_defaults(DOCKERFILES["triton"])["EXTRAS"] == "train"


@pytest.mark.parametrize("name", sorted(DOCKERFILES))
def test_copied_files_exist_and_pass_the_dockerignore(name: str) -> None:
    dockerignore = DOCKERFILES[name].with_name(DOCKERFILES[name].name + ".dockerignore")
    for source in copy_sources(DOCKERFILES[name]):
        assert (REPO_ROOT / source).exists(), source
        assert not ignored(source, dockerignore), f"{source} is excluded from the build context"
    for heavy in (".venv", ".channelpulse", ".git", "models/repository", "streams/__pycache__"):
        assert ignored(heavy, dockerignore), heavy


@pytest.mark.parametrize("name", sorted(DOCKERFILES))
def test_the_project_is_installed_not_run_from_source(name: str) -> None:
    runs = " ".join(args for word, args in instructions(DOCKERFILES[name]) if word == "RUN")
    assert re.search(r"pip install (--no-deps )?\.( |$)", runs)
    assert "HF_HUB_OFFLINE=1" in DOCKERFILES[name].read_text()
