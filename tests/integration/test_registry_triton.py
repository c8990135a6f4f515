"""Promotion and rollback against the real Triton: a new version is added to the live repository,
promoted, checked to be what Triton serves, rolled back, checked again, while a loop of inference
requests keeps running through both swaps and must never fail.

Two models: a tiny Python-backend probe model created for this test (always, version 1 -> 2), and the
sentiment model, its served version copied to the next one (when the live repository serves a trained
version)."""

from __future__ import annotations

import json
import shutil
import threading
import time
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pytest
import tritonclient.grpc as grpcclient

from channelpulse.config import Settings
from channelpulse.infra.stack.triton import http_url
from channelpulse.models import contract
from channelpulse.models.registry import ModelRegistry, ModelRepository, TritonHttpControl

PROBE = "registry_probe"
PROBE_CONFIG = f"""name: "{PROBE}"
backend: "python"
max_batch_size: 8
input [ {{ name: "X" data_type: TYPE_FP32 dims: [ 1 ] }} ]
output [ {{ name: "Y" data_type: TYPE_FP32 dims: [ 1 ] }} ]
instance_group [ {{ count: 1 kind: KIND_CPU }} ]
"""
PROBE_MODEL = '''import os
import site

for _d in filter(None, os.environ.get("CHANNELPULSE_TRITON_SITE_DIRS", "").split(":")):
    site.addsitedir(_d)

import time  # noqa: E402

import triton_python_backend_utils as pb_utils  # noqa: E402


class TritonPythonModel:
    """Y = X * version, a little slowly, so requests are in flight during a swap."""

    def initialize(self, args):
        self.factor = float(args["model_version"])

    def execute(self, requests):
        time.sleep(0.02)
        out = []
        for r in requests:
            x = pb_utils.get_input_tensor_by_name(r, "X").as_numpy()
            out.append(pb_utils.InferenceResponse([pb_utils.Tensor("Y", (x * self.factor).astype("float32"))]))
        return out
'''

Infer = Callable[[grpcclient.InferenceServerClient], str]


def _sentiment_infer(client: grpcclient.InferenceServerClient) -> str:
    text = grpcclient.InferInput(contract.SENTIMENT_IN_TEXT, [1, 1], "BYTES")
    text.set_data_from_numpy(np.array([[b"A quiet, sturdy little fan."]], dtype=np.object_))
    result = client.infer(contract.SENTIMENT_MODEL, [text], timeout=30)
    assert result.as_numpy(contract.SENTIMENT_OUT_PROBS).shape == (1, 3)
    return str(result.get_response().model_version)


def _probe_infer(client: grpcclient.InferenceServerClient) -> str:
    x = grpcclient.InferInput("X", [1, 1], "FP32")
    x.set_data_from_numpy(np.array([[3.0]], dtype=np.float32))
    result = client.infer(PROBE, [x], timeout=30)
    version = str(result.get_response().model_version)
    assert float(result.as_numpy("Y")[0, 0]) == 3.0 * int(version)  # the answer comes from that version
    return version


@dataclass
class Target:
    model: str
    infer: Infer


@dataclass
class RequestLoop:
    """Inference requests back to back on a thread; every failure and every served version noted."""

    settings: Settings
    infer: Infer
    failures: list[str] = field(default_factory=list)
    versions: list[str] = field(default_factory=list)
    stop: threading.Event = field(default_factory=threading.Event)

    def run(self) -> None:
        client = grpcclient.InferenceServerClient(self.settings.triton_grpc_url)
        while not self.stop.is_set():
            try:
                self.versions.append(self.infer(client))
            except Exception as exc:  # any failed request fails the test
                self.failures.append(repr(exc))


def _post(url: str) -> None:
    with urllib.request.urlopen(urllib.request.Request(url, data=b"{}", method="POST"), timeout=300):
        pass


@pytest.fixture(params=[PROBE, contract.SENTIMENT_MODEL])
def target(request: pytest.FixtureRequest, stack: Settings) -> Iterator[Target]:
    """The model under test with its served version loaded; afterwards the repository is as it was."""
    live = stack.model_repository
    if request.param == PROBE:
        probe_dir = live / PROBE
        (probe_dir / "1").mkdir(parents=True)
        (probe_dir / "config.pbtxt").write_text(PROBE_CONFIG)
        (probe_dir / "1" / "model.py").write_text(PROBE_MODEL)
        _post(f"{http_url(stack)}/v2/repository/models/{PROBE}/load")
        try:
            yield Target(PROBE, _probe_infer)
        finally:
            _post(f"{http_url(stack)}/v2/repository/models/{PROBE}/unload")
            shutil.rmtree(probe_dir)
        return
    model_dir = live / contract.SENTIMENT_MODEL
    served = ModelRepository(live).served_versions(contract.SENTIMENT_MODEL)
    if not served or not (model_dir / str(served[-1]) / "meta.json").is_file():
        pytest.skip("the live repository serves no trained sentiment version (channelpulse train sentiment)")
    config_before = (model_dir / "config.pbtxt").read_text()
    versions_before = {p.name for p in model_dir.iterdir() if p.is_dir()}
    try:
        yield Target(contract.SENTIMENT_MODEL, _sentiment_infer)
    finally:
        for extra in model_dir.iterdir():
            if extra.is_dir() and extra.name.isdigit() and extra.name not in versions_before:
                shutil.rmtree(extra)
        (model_dir / "config.pbtxt").write_text(config_before)
        (model_dir / "served_history.json").unlink(missing_ok=True)
        _post(f"{http_url(stack)}/v2/repository/models/{contract.SENTIMENT_MODEL}/load")


def _served(settings: Settings, infer: Infer) -> str:
    return infer(grpcclient.InferenceServerClient(settings.triton_grpc_url))


def test_promote_and_rollback_swap_versions_live(stack: Settings, target: Target, tmp_path: Path) -> None:
    repository = ModelRepository(stack.model_repository)
    registry = ModelRegistry(repository, TritonHttpControl(http_url(stack), timeout_s=300), ready_timeout_s=300)
    base = int(_served(stack, target.infer))
    assert repository.served_versions(target.model) == [base]

    artifacts = tmp_path / "artifacts"
    shutil.copytree(repository.version_dir(target.model, base), artifacts)
    (artifacts / "model.py").unlink()  # the registry copies the adapter from the served version
    meta = json.loads((artifacts / "meta.json").read_text()) if (artifacts / "meta.json").exists() else {}
    added = registry.add_version(target.model, artifacts, {**meta, "note": "registry integration test"})
    new = added.version
    assert new == max(repository.version_numbers(target.model)) > base and not added.served
    adapter = (repository.version_dir(target.model, base) / "model.py").read_bytes()
    assert (added.path / "model.py").read_bytes() == adapter

    loop = RequestLoop(stack, target.infer)
    worker = threading.Thread(target=loop.run, daemon=True)
    worker.start()
    try:
        time.sleep(1.0)
        promoted = registry.promote(target.model, new, note="integration test")
        assert (promoted.version, promoted.previous, promoted.verified) == (new, base, True)
        assert _served(stack, target.infer) == str(new)
        time.sleep(1.0)
        rolled = registry.rollback(target.model, note="integration test")
        assert (rolled.version, rolled.previous, rolled.verified) == (base, new, True)
        assert _served(stack, target.infer) == str(base)
        time.sleep(1.0)
    finally:
        loop.stop.set()
        worker.join(timeout=60)

    print(f"{target.model}: {len(loop.versions)} requests during the swaps, {len(loop.failures)} failed")
    assert loop.failures == [], loop.failures[:5]
    assert {str(base), str(new)} <= set(loop.versions), f"{len(loop.versions)} requests, versions {set(loop.versions)}"
    assert loop.versions[-1] == str(base)
    assert registry.history(target.model).stack == [base]
    assert [e["action"] for e in registry.history(target.model).events] == ["promote", "rollback"]
    control = TritonHttpControl(http_url(stack))
    assert control.version_ready(target.model, base)
    assert not control.version_ready(target.model, new)  # unloaded by the rollback
