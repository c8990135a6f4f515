"""The data flow is visible in the imports: the wire contract and the models know nothing of Kafka,
Triton transport, the worker or the stack; only the thin adapters in streams/ tie them together.
The local-dev stack (``channelpulse.infra.stack``: processes of a Kafka, a Triton and a Prometheus on this machine)
is imported only by the commands that drive it (``stack``, ``demo``, ``bench``); no production process
(the worker, the retrainer) loads it, and no two modules import each other."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

from channelpulse.config import REPO_ROOT

OURS = ("channelpulse", "infra", "models", "schemas", "streams")
ALLOWED = {
    "schemas": {"schemas"},
    "models": {"models"},
    "infra": {"infra", "channelpulse"},
}


LOCAL_STACK = "channelpulse.infra.stack"
DEV_ONLY = ("infra/stack/", "channelpulse/commands/stack.py", "streams/demo.py", "bench/")
"""Where ``channelpulse.infra.stack`` may be imported: the stack itself and the dev commands that start it."""
PRODUCTION = ("channelpulse.streams.worker", "channelpulse.streams.retrainer", "channelpulse.streams.retrain_handler",
              "channelpulse.commands.worker", "channelpulse.commands.retrain")
"""The modules of the production processes (`channelpulse worker`, `channelpulse retrainer`)."""


def module_name(path: Path) -> str:
    parts = list(path.relative_to(REPO_ROOT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {module_name(p): p for package in OURS for p in sorted((REPO_ROOT / package).rglob("*.py"))}


def imported_modules(path: Path, top_level_only: bool = False) -> set[str]:
    """Dotted names of our modules ``path`` imports (``from a.b import c``: ``a.b.c`` when that is a
    module, else ``a.b``); with ``top_level_only``, only the imports run when the module is loaded."""
    tree = ast.parse(path.read_text(), str(path))
    nodes = tree.body if top_level_only else list(ast.walk(tree))
    found: set[str] = set()
    for node in nodes:
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            for alias in node.names:
                full = f"{node.module}.{alias.name}"
                found.add(full if full in MODULES else node.module)
    return {name for name in found if name.split(".")[0] in OURS}


def is_local_stack(module: str) -> bool:
    return module == LOCAL_STACK or module.startswith(LOCAL_STACK + ".")


def imported_packages(path: Path) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module.split(".")[0])
    return found & set(OURS)


@pytest.mark.parametrize("package", sorted(ALLOWED))
def test_a_package_imports_only_its_layer(package: str) -> None:
    offenders = {
        str(path.relative_to(REPO_ROOT)): sorted(imported_packages(path) - ALLOWED[package])
        for path in sorted((REPO_ROOT / package).rglob("*.py"))
        if imported_packages(path) - ALLOWED[package]
    }
    assert offenders == {}


def test_the_import_scan_sees_function_level_imports(tmp_path: Path) -> None:
    module = tmp_path / "m.py"
    module.write_text("def f():\n    from channelpulse.streams.lake import read_lake\n    import numpy\n")
    assert imported_packages(module) == {"streams"}


@pytest.mark.parametrize("package", OURS)
def test_only_the_dev_commands_import_the_local_stack(package: str) -> None:
    offenders = sorted(
        str(path.relative_to(REPO_ROOT))
        for path in sorted((REPO_ROOT / package).rglob("*.py"))
        if any(map(is_local_stack, imported_modules(path)))
        and not str(path.relative_to(REPO_ROOT)).startswith(DEV_ONLY)
    )
    assert offenders == []


@pytest.mark.parametrize("entry", PRODUCTION)
def test_no_production_module_reaches_the_local_stack_through_any_import(entry: str) -> None:
    """Every import, at module level or in a function, followed transitively from the entry module."""
    path_to = {entry: [entry]}
    todo = [entry]
    while todo:
        module = todo.pop()
        for imported in imported_modules(MODULES[module]):
            if imported not in path_to:
                path_to[imported] = [*path_to[module], imported]
                if imported in MODULES:
                    todo.append(imported)
    assert [path for name, path in path_to.items() if is_local_stack(name)] == []


@pytest.mark.timeout(300)
def test_the_worker_and_retrainer_processes_load_no_local_stack() -> None:
    """What `channelpulse worker` and `channelpulse retrainer` load: the whole command line (every
    command registers its parser) and the modules their commands run."""
    probe = (
        "import sys\n"
        "from channelpulse.cli import build_parser\n"
        "build_parser()\n"
        f"for name in {PRODUCTION!r}: __import__(name)\n"
        "print(sorted(m for m in sys.modules if m.split('.')[:2] == ['infra', 'stack']))\n"
    )
    done = subprocess.run([sys.executable, "-c", probe], cwd=REPO_ROOT, capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip() == "[]"


@pytest.mark.timeout(300)
def test_the_command_line_and_a_worker_that_does_not_learn_load_no_torch() -> None:
    """torch is seconds of start-up for every CLI call and worker: only training and the recommender's
    learning (imported when it is on) need it."""
    probe = (
        "import sys\n"
        "from channelpulse.cli import build_parser\n"
        "build_parser()\n"
        "import channelpulse.streams.worker\n"
        "print(sorted(m for m in ('torch', 'transformers', 'sklearn') if m in sys.modules))\n"
    )
    done = subprocess.run([sys.executable, "-c", probe], cwd=REPO_ROOT, capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip() == "[]"


def test_no_two_modules_import_each_other() -> None:
    """No cycle among the imports run at load time (a function-level import may close one on purpose)."""
    graph = {name: imported_modules(path, top_level_only=True) & set(MODULES) for name, path in MODULES.items()}
    state: dict[str, str] = {}
    cycles: list[list[str]] = []

    def visit(name: str, trail: list[str]) -> None:
        state[name] = "open"
        for nxt in sorted(graph[name]):
            if state.get(nxt) == "open":
                cycles.append([*trail[trail.index(nxt):], nxt])
            elif nxt not in state:
                visit(nxt, [*trail, nxt])
        state[name] = "done"

    for name in sorted(graph):
        if name not in state:
            visit(name, [name])
    assert cycles == []


def test_the_import_scans_see_cycles_and_the_local_stack(tmp_path: Path) -> None:
    module = tmp_path / "m.py"
    module.write_text("import os\nfrom channelpulse.infra.stack.triton import ready\n\ndef f():\n    from streams import app\n")
    assert imported_modules(module) == {"channelpulse.infra.stack.triton", "channelpulse.streams.app"}
    assert imported_modules(module, top_level_only=True) == {"channelpulse.infra.stack.triton"}
    assert is_local_stack("channelpulse.infra.stack.triton") and not is_local_stack("infra.stackless")
