"""The two Dockerfiles copy every package pyproject.toml installs, from a context their
.dockerignore lets through, on the base images docker-compose.yml promises."""

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


def installed_packages() -> set[str]:
    """The top-level packages of pyproject.toml's [tool.setuptools.packages.find] include list
    (read with a pattern: tomllib is not in Python 3.10)."""
    text = (REPO_ROOT / "pyproject.toml").read_text()
    section = text.split("[tool.setuptools.packages.find]", 1)[1]
    match = re.search(r"include\s*=\s*\[([^\]]*)\]", section)
    assert match is not None
    return {p.rstrip("*") for p in re.findall(r'"([^"]+)"', match.group(1))}


def test_compose_builds_these_dockerfiles() -> None:
    services = yaml.safe_load((REPO_ROOT / "docker-compose.yml").read_text())["services"]
    built = {s["build"]["dockerfile"] for s in services.values() if "build" in s}
    assert built == {str(p.relative_to(REPO_ROOT)) for p in DOCKERFILES.values()}


def test_base_images() -> None:
    (base,) = [args for word, args in instructions(DOCKERFILES["channelpulse"]) if word == "FROM"]
    assert base == "python:3.11-slim"
    args = dict(
        a.split("=", 1) for word, a in instructions(DOCKERFILES["triton"]) if word == "ARG" and "=" in a
    )
    assert re.fullmatch(r"nvcr\.io/nvidia/tritonserver:\d\d\.\d\d-py3", args["TRITON_IMAGE"])
    assert [a for w, a in instructions(DOCKERFILES["triton"]) if w == "FROM"] == ["${TRITON_IMAGE}"]


@pytest.mark.parametrize("name", sorted(DOCKERFILES))
def test_every_installed_package_is_copied(name: str) -> None:
    sources = copy_sources(DOCKERFILES[name])
    assert installed_packages() <= set(sources)
    # the dependency layer's placeholders are the same packages
    (loop,) = [args for word, args in instructions(DOCKERFILES[name]) if word == "RUN" and "for pkg in" in args]
    assert set(loop.split("for pkg in", 1)[1].split(";", 1)[0].split()) == installed_packages()


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
