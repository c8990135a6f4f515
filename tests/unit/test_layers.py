"""The data flow is visible in the imports: the wire contract and the models know nothing of Kafka,
Triton transport, the worker or the stack; only the thin adapters in streams/ tie them together.
The local-dev stack (``channelpulse.infra.stack``: processes of a Kafka, a Triton and a Prometheus on this machine)
is imported only by the commands that drive it (``stack``, ``demo``, ``bench``); no production process
(the worker, the retrainer) loads it or the bench, and no two modules import each other.

One top-level import package: the folders streams/, models/, schemas/, infra/ and bench/ are the
sub-packages ``channelpulse.<folder>`` (symlinks channelpulse/<folder> -> ../<folder>); nothing imports
them by their folder name, and no module is importable under two names."""

from __future__ import annotations

import ast
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from channelpulse.config import REPO_ROOT

FOLDERS = ("channelpulse", "infra", "models", "schemas", "streams", "bench")
"""The package folders; each but channelpulse/ itself is the sub-package ``channelpulse.<folder>``."""
OLD_NAMES = FOLDERS[1:]
"""Their top-level import names before they moved under channelpulse; nothing may use them."""
ALLOWED = {
    "schemas": {"schemas"},
    "models": {"models"},
    "infra": {"infra", "channelpulse"},
}


LOCAL_STACK = "channelpulse.infra.stack"
DEV_ONLY = ("infra/stack/", "channelpulse/commands/stack.py", "streams/demo.py", "bench/")
"""Where ``channelpulse.infra.stack`` may be imported: the stack itself and the dev commands that start it."""
DEV_COMMANDS = ("channelpulse.commands.bench", "channelpulse.commands.demo", "channelpulse.commands.stack")
"""The commands that drive the local stack: they reach it through the bench and streams/demo.py."""
PRODUCTION = ("channelpulse.streams.worker", "channelpulse.streams.retrainer",
              "channelpulse.streams.retrain_handler", "channelpulse.commands.worker", "channelpulse.commands.retrain")
"""The modules of the production processes (`channelpulse worker`, `channelpulse retrainer`)."""


def module_name(path: Path) -> str:
    parts = list(path.relative_to(REPO_ROOT).with_suffix("").parts)
    if parts[0] != "channelpulse":
        parts.insert(0, "channelpulse")
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def sources(folder: str) -> list[Path]:
    """The folder's Python files (pathlib's rglob does not follow the symlinks in channelpulse/)."""
    return sorted((REPO_ROOT / folder).rglob("*.py"))


MODULES = {module_name(p): p for folder in FOLDERS for p in sources(folder)}


def layer(name: str) -> str | None:
    """The folder of one of our dotted names (``channelpulse.streams.app``: streams), None when it
    is not ours."""
    parts = name.split(".")
    if parts[0] != "channelpulse":
        return None
    return parts[1] if len(parts) > 1 and parts[1] in OLD_NAMES else "channelpulse"


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
    return {name for name in found if layer(name)}


def is_local_stack(module: str) -> bool:
    return module == LOCAL_STACK or module.startswith(LOCAL_STACK + ".")


def import_names(path: Path) -> set[str]:
    """Every absolute module name ``path`` imports (``from a.b import c``: ``a.b``)."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
    return found


def imported_packages(path: Path) -> set[str]:
    """The folders (layers) of ours that ``path`` imports from."""
    return {folder for folder in map(layer, import_names(path)) if folder}


@pytest.mark.parametrize("package", sorted(ALLOWED))
def test_a_package_imports_only_its_layer(package: str) -> None:
    offenders = {
        str(path.relative_to(REPO_ROOT)): sorted(imported_packages(path) - ALLOWED[package])
        for path in sources(package)
        if imported_packages(path) - ALLOWED[package]
    }
    assert offenders == {}


def test_the_import_scan_sees_function_level_imports(tmp_path: Path) -> None:
    module = tmp_path / "m.py"
    module.write_text("def f():\n    from channelpulse.streams.lake import read_lake\n    import numpy\n")
    assert imported_packages(module) == {"streams"}


@pytest.mark.parametrize("package", FOLDERS)
def test_only_the_dev_commands_import_the_local_stack(package: str) -> None:
    offenders = sorted(
        str(path.relative_to(REPO_ROOT))
        for path in sources(package)
        if any(map(is_local_stack, imported_modules(path)))
        and not str(path.relative_to(REPO_ROOT)).startswith(DEV_ONLY)
    )
    assert offenders == []


def test_no_module_outside_the_dev_commands_reaches_the_local_stack_through_any_import() -> None:
    """Every module of every package (the operators' commands, the Triton model backends, the worker's and
    the retrainer's parts), followed transitively, at module level or in a function: only the dev-only
    modules and the dev commands reach the stack."""
    graph = {name: imported_modules(path) for name, path in MODULES.items()}
    dev_only = {name for name, path in MODULES.items() if str(path.relative_to(REPO_ROOT)).startswith(DEV_ONLY)}
    dev_only.update(DEV_COMMANDS)
    offenders = {}
    for entry in sorted(set(MODULES) - dev_only):
        path_to = {entry: [entry]}
        todo = [entry]
        while todo:
            module = todo.pop()
            for imported in graph.get(module, set()):
                if imported not in path_to:
                    path_to[imported] = [*path_to[module], imported]
                    todo.append(imported)
        reached = [path for name, path in path_to.items() if is_local_stack(name)]
        if reached:
            offenders[entry] = reached[0]
    assert offenders == {}


def test_the_layer_scans_cover_every_package_folder() -> None:
    """Each sub-package symlinked into channelpulse/ is one of the folders the scans above read."""
    linked = {p.name for p in (REPO_ROOT / "channelpulse").iterdir() if p.is_symlink()}
    assert linked == set(OLD_NAMES)
    assert {module_name(p).split(".")[1] for p in sources("streams")} == {"streams"}
    assert len(MODULES) == sum(len(sources(folder)) for folder in FOLDERS)


@pytest.mark.timeout(300)
def test_the_worker_and_retrainer_processes_load_no_local_stack_no_bench_and_each_module_once() -> None:
    """What `channelpulse worker` and `channelpulse retrainer` load: the whole command line (every
    command registers its parser) and the modules their commands run; no file is loaded as two modules."""
    probe = (
        "import json, os, sys\n"
        "from channelpulse.cli import build_parser\n"
        "build_parser()\n"
        f"for name in {PRODUCTION!r}: __import__(name)\n"
        "ours = {n: os.path.realpath(m.__file__) for n, m in list(sys.modules.items())\n"
        "        if n.split('.')[0] == 'channelpulse' and getattr(m, '__file__', None)}\n"
        "files = sorted(ours.values())\n"
        "print(json.dumps({'stack': sorted(n for n in ours if n.startswith('channelpulse.infra.stack')),\n"
        "                  'bench': sorted(n for n in ours if n.startswith('channelpulse.bench')),\n"
        "                  'twice': sorted(n for n, f in ours.items() if files.count(f) > 1),\n"
        "                  'loaded': len(ours)}))\n"
    )
    done = subprocess.run([sys.executable, "-c", probe], cwd=REPO_ROOT, capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    found = json.loads(done.stdout)
    assert found["loaded"] > 20  # the probe saw the modules
    assert {k: found[k] for k in ("stack", "bench", "twice")} == {"stack": [], "bench": [], "twice": []}


def old_name_uses(path: Path) -> list[str]:
    """Imports of the folders' old top-level names, and strings naming one of our modules by it
    (``"streams.app.asyncio.sleep"`` for a monkeypatch)."""
    found = [f"import {name}" for name in sorted(import_names(path)) if name.split(".")[0] in OLD_NAMES]
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            head = node.value.split(".")
            if head[0] in OLD_NAMES and len(head) > 1 and f"channelpulse.{head[0]}.{head[1]}" in MODULES:
                found.append(f"{node.lineno}: {node.value!r}")
    return found


OLD_IN_TEXT = re.compile(rf"(?:\bfrom|\bimport|(?<!\S)-m)\s+(?:{'|'.join(OLD_NAMES)})(?:\.|\s)")


@pytest.mark.parametrize("folder", [*FOLDERS, "tests", "scripts"])
def test_nothing_imports_the_old_top_level_names(folder: str) -> None:
    offenders = {str(p.relative_to(REPO_ROOT)): old_name_uses(p) for p in sources(folder) if old_name_uses(p)}
    assert offenders == {}


def test_no_command_line_or_doc_names_the_old_top_level_names() -> None:
    """The compose file's one-shot commands, the Dockerfiles, the chart, the docs' examples."""
    texts = [REPO_ROOT / name for name in ("docker-compose.yml", "Makefile", "README.md")]
    texts += [p for d in ("docs", "infra", "scripts") for p in sorted((REPO_ROOT / d).rglob("*")) if p.is_file()
              and p.suffix in {".md", ".yml", ".yaml", ".tpl", ".sh", ".Dockerfile", ".txt"}]
    offenders = {str(p.relative_to(REPO_ROOT)): OLD_IN_TEXT.findall(p.read_text()) for p in texts}
    assert {path: hits for path, hits in offenders.items() if hits} == {}


def test_the_old_name_scans_see_imports_strings_and_commands(tmp_path: Path) -> None:
    module = tmp_path / "m.py"
    module.write_text("import models.contract as c\n\ndef f():\n    patch('streams' '.app.sleep')\n")
    assert old_name_uses(module) == ["import models.contract", "4: 'streams.app.sleep'"]
    module.write_text("from channelpulse.models import contract\nPATH = 'streams/app.py'\nV = 'models.md'\n")
    assert old_name_uses(module) == []
    assert OLD_IN_TEXT.findall("python -m models.retrain.distributed") and not OLD_IN_TEXT.findall("import models")


@pytest.mark.timeout(120)
def test_a_folder_is_importable_under_its_channelpulse_name_only() -> None:
    """Even with the repository root on sys.path (python started in it), ``import streams`` refuses."""
    probe = (
        "import importlib, sys\n"
        f"sys.path.insert(0, {str(REPO_ROOT)!r})\n"
        f"for name in {OLD_NAMES!r}:\n"
        "    try:\n"
        "        importlib.import_module(name)\n"
        "        print(name, 'imported')\n"
        "    except ImportError as exc:\n"
        "        print(name, 'refused' if f'import channelpulse.{name},' in str(exc) else exc)\n"
        "    importlib.import_module(f'channelpulse.{name}')\n"
    )
    done = subprocess.run([sys.executable, "-c", probe], cwd=REPO_ROOT, capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.split("\n")[:-1] == [f"{name} refused" for name in OLD_NAMES]


def test_only_the_bench_command_imports_the_bench() -> None:
    importers = sorted(
        str(path.relative_to(REPO_ROOT))
        for folder in FOLDERS if folder != "bench"
        for path in sources(folder)
        if {layer(name) for name in import_names(path)} & {"bench"}
    )
    assert importers == ["channelpulse/commands/bench.py"]


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
    module.write_text(
        "import os\nfrom channelpulse.infra.stack.triton import ready\n\n"
        "def f():\n    from channelpulse.streams import app\n"
    )
    assert imported_modules(module) == {"channelpulse.infra.stack.triton", "channelpulse.streams.app"}
    assert imported_modules(module, top_level_only=True) == {"channelpulse.infra.stack.triton"}
    assert is_local_stack("channelpulse.infra.stack.triton") and not is_local_stack("infra.stackless")
