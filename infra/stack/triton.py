"""Triton Inference Server: the ``tritonserver`` binary shipped in the nvidia-pytriton wheel.

The server runs the project's model repository (Python backend models) with explicit model control,
so new versions are loaded live through ``/v2/repository/models/<name>/load``.
"""

from __future__ import annotations

import os
import shutil
import site
import sys
import sysconfig
from pathlib import Path

from channelpulse.config import REPO_ROOT, Settings
from channelpulse.infra.stack.process import ServiceProcess, StackError, http_ok, port_is_open

NOT_SHIPPED = shutil.ignore_patterns("__pycache__")
"""What a copy from the shipped repository leaves out."""
CONFIG_FILE = "config.pbtxt"
REGISTRY_HISTORY = "served_history.json"
"""Where the model registry records a model's promotions and rollbacks (``HISTORY_FILE`` of
channelpulse.models.registry, which infra may not import: tests/unit/test_layers.py; a unit test checks
that the names agree)."""


def pytriton_dir() -> Path:
    try:
        import pytriton
    except ImportError as exc:  # pragma: no cover - a broken install
        raise StackError("nvidia-pytriton is not installed (it ships the tritonserver binary)") from exc
    return Path(pytriton.__file__).resolve().parent / "tritonserver"


def backend_dir(settings: Settings) -> Path:
    """A backend directory whose ``python/`` holds the backend and the stub built for this Python."""
    src = pytriton_dir()
    stub = src / "python_backend_stubs" / f"{sys.version_info.major}.{sys.version_info.minor}"
    if not (stub / "triton_python_backend_stub").exists():
        raise StackError(f"no Triton Python-backend stub for Python {sys.version_info[:2]} in {stub.parent}")
    dest = settings.state_dir.resolve() / "triton" / "backends" / "python"
    dest.mkdir(parents=True, exist_ok=True)
    for item in [*sorted((src / "backends" / "python").glob("*.*")), stub / "triton_python_backend_stub"]:
        target = dest / item.name
        if not target.exists():
            shutil.copy2(item, target)
    return dest.parent


SENTIMENT_RUNTIME_ENV = "CHANNELPULSE_SENTIMENT_RUNTIME"
"""Read by the sentiment model in Triton (models/sentiment/runtime.py RUNTIME_ENV)."""


def server_env(settings: Settings) -> dict[str, str]:
    """Environment for tritonserver: our libpython first (see docs), the wheel's libs, our packages,
    and the sentiment runtime when ``settings`` set it (else config.pbtxt's parameter decides)."""
    libs = pytriton_dir().parent.parent / "nvidia_pytriton.libs"
    libdir = str(sysconfig.get_config_var("LIBDIR"))
    env = dict(os.environ)
    env["LD_LIBRARY_PATH"] = ":".join(p for p in (libdir, str(libs), env.get("LD_LIBRARY_PATH", "")) if p)
    # The backend stub starts Python isolated from PYTHONPATH; each model.py adds these site dirs.
    env["CHANNELPULSE_TRITON_SITE_DIRS"] = ":".join([str(REPO_ROOT), *site.getsitepackages()])
    env.setdefault("HF_HUB_OFFLINE", "1")
    env.setdefault("TRANSFORMERS_OFFLINE", "1")
    if "sentiment_runtime" in settings.model_fields_set:  # from CHANNELPULSE_SENTIMENT_RUNTIME or code
        env[SENTIMENT_RUNTIME_ENV] = settings.sentiment_runtime
    return env


def prepare_repository(settings: Settings) -> Path:
    """The live repository, brought up to the shipped one (``model_repository_source``) at every start:
    a model the live one lacks is copied in whole, a model it has gets :func:`update_shipped_model`."""
    live = settings.model_repository.resolve()
    live.mkdir(parents=True, exist_ok=True)
    source = Path(settings.model_repository_source)
    for model in sorted(p for p in source.iterdir() if p.is_dir()):
        if not (live / model.name).exists():
            shutil.copytree(model, live / model.name, ignore=NOT_SHIPPED)
        else:
            update_shipped_model(model, live / model.name)
    return live


def update_shipped_model(shipped: Path, live: Path) -> None:
    """Copy into the live model folder ``live`` the version folders of ``shipped`` it lacks (a version
    folder it has is never touched: it may be one the retrainer added), then the shipped config.pbtxt,
    so that it serves what the checkout ships; unless the registry recorded a promotion or rollback
    there (:data:`REGISTRY_HISTORY`), or it holds versions the checkout does not ship (added by hand,
    a promotion that failed, versions the checkout dropped): then what it serves is left as it is."""
    shipped_versions = version_folders(shipped)
    for version in shipped_versions:
        target = live / str(version)
        if not target.exists():  # copied under a name Triton ignores, then renamed: complete or absent
            staging = live / f".shipped-{version}"
            shutil.rmtree(staging, ignore_errors=True)
            shutil.copytree(shipped / str(version), staging, ignore=NOT_SHIPPED)
            staging.rename(target)
    config, target = shipped / CONFIG_FILE, live / CONFIG_FILE
    if (live / REGISTRY_HISTORY).exists() or version_folders(live) != shipped_versions or not config.is_file():
        return
    text = config.read_text(encoding="utf-8")
    if not target.is_file() or target.read_text(encoding="utf-8") != text:
        staging = live / f".{CONFIG_FILE}.shipped"
        staging.write_text(text, encoding="utf-8")
        staging.replace(target)


def version_folders(model: Path) -> list[int]:
    """The version folders (integer names) of a model folder, ascending."""
    return sorted(int(p.name) for p in model.iterdir() if p.is_dir() and p.name.isdigit())


def http_url(settings: Settings) -> str:
    return settings.triton_http_url


def live(settings: Settings) -> bool:
    """The server answers (``/v2/health/live``), whatever state each model is in."""
    return http_ok(f"{http_url(settings)}/v2/health/live")


def ready(settings: Settings) -> bool:
    """Every loaded model is ready (Triton's strict readiness), as at the end of start-up."""
    return http_ok(f"{http_url(settings)}/v2/health/ready")


def start(settings: Settings) -> ServiceProcess:
    proc = ServiceProcess("triton", settings.state_dir / "run")
    if proc.pid() is not None:
        return proc
    for var, port in (
        ("CHANNELPULSE_TRITON_HTTP_PORT", settings.triton_http_port),
        ("CHANNELPULSE_TRITON_GRPC_PORT", settings.triton_grpc_port),
        ("CHANNELPULSE_TRITON_METRICS_PORT", settings.triton_metrics_port),
    ):
        if port_is_open(settings.bind_host, port):
            raise StackError(f"port {port} is taken by another program; stop it or set {var}")
    binary = pytriton_dir() / "bin" / "tritonserver"
    repo = prepare_repository(settings)
    host = settings.bind_host
    argv = [
        str(binary),
        f"--model-repository={repo}",
        f"--backend-directory={backend_dir(settings)}",
        "--model-control-mode=explicit",
        "--load-model=*",
        f"--http-address={host}",
        f"--http-port={settings.triton_http_port}",
        f"--grpc-address={host}",
        f"--grpc-port={settings.triton_grpc_port}",
        f"--metrics-address={host}",
        f"--metrics-port={settings.triton_metrics_port}",
        "--allow-metrics=true",
        "--log-verbose=0",
    ]
    proc.start(argv, env=server_env(settings))
    proc.wait_ready(lambda: ready(settings), timeout_s=600, what="Triton Inference Server")  # slow on a busy CPU
    return proc
