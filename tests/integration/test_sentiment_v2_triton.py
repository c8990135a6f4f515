"""Version 2 of ``sentiment`` (the fine-tuned classifier adapter, models/repository/sentiment/2/model.py)
in a real Triton beside version 1: a private Triton on a test-only repository holding the shipped
config.pbtxt, the shipped version 1 and a version 2 made here (an untrained classifier: packaged
MiniLM encoder, seeded head; its weights never leave the temporary folder). Both versions are served;
version 2's outputs equal the in-process runtime's, and its runtime is exported on :8002/metrics."""

from __future__ import annotations

import os
import re
import shutil
import urllib.request
from collections.abc import Iterator

import numpy as np
import pytest
import torch
import tritonclient.grpc as grpcclient

from channelpulse.config import REPO_ROOT, Settings
from channelpulse.infra.stack import triton
from channelpulse.infra.stack.process import ServiceProcess, free_port
from channelpulse.models import contract
from channelpulse.models.registry.pbtxt import with_specific_versions
from channelpulse.models.sentiment.classifier import new_classifier, save_classifier
from channelpulse.models.sentiment.encoding import PACKAGED_CHECKPOINT, resolve_checkpoint
from channelpulse.models.sentiment.model import SentimentModel
from channelpulse.models.sentiment.runtime import RUNTIME_ENV, load_runtime
from channelpulse.models.sentiment.runtime_onnx import onnxruntime_available

SHIPPED = REPO_ROOT / "models" / "repository" / contract.SENTIMENT_MODEL
TEXTS = [
    "Absolutely loved it, one of the best things I have ever bought!",
    "It broke after two days and support was useless. Total waste of money.",
    "ok",
    "The hotel was fine: the room was clean, the breakfast average, and the staff did what they had to, "
    "although check-in took forty minutes because the system was down and nobody knew when it would be back.",
    "Un film magnifique, très émouvant ✨",
]
RUNTIME = "onnx-int8" if onnxruntime_available() else "torch-fp32"


@pytest.fixture(scope="module")
def v2_triton(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Settings]:
    root = tmp_path_factory.mktemp("v2-repo")
    model_dir = root / "source" / contract.SENTIMENT_MODEL
    shutil.copytree(SHIPPED / "1", model_dir / "1", ignore=shutil.ignore_patterns("__pycache__"))
    torch.manual_seed(0)
    classifier, tokenizer = new_classifier(resolve_checkpoint(PACKAGED_CHECKPOINT))
    save_classifier(classifier, tokenizer, model_dir / "2", {"version": "2", "note": "untrained, test only"})
    shutil.copy2(SHIPPED / "2" / "model.py", model_dir / "2" / "model.py")
    config = (SHIPPED / "config.pbtxt").read_text(encoding="utf-8").replace(
        'string_value: "auto"', f'string_value: "{RUNTIME}"'
    )
    (model_dir / "config.pbtxt").write_text(with_specific_versions(config, [1, 2]), encoding="utf-8")
    saved = os.environ.pop(RUNTIME_ENV, None)  # the config parameter decides here
    settings = Settings(
        state_dir=root / "state",
        model_repository_source=root / "source",
        triton_http_port=free_port(),
        triton_grpc_port=free_port(),
        triton_metrics_port=free_port(),
    )
    try:
        triton.start(settings)
        yield settings
    finally:
        ServiceProcess("triton", settings.state_dir / "run").stop()
        if saved is not None:
            os.environ[RUNTIME_ENV] = saved


def _infer(settings: Settings, version: str) -> tuple[np.ndarray, np.ndarray]:
    client = grpcclient.InferenceServerClient(settings.triton_grpc_url)
    data = np.array([[t.encode("utf-8")] for t in TEXTS], dtype=np.object_)
    tensor = grpcclient.InferInput(contract.SENTIMENT_IN_TEXT, list(data.shape), "BYTES")
    tensor.set_data_from_numpy(data)
    names = (contract.SENTIMENT_OUT_PROBS, contract.SENTIMENT_OUT_EMBEDDING)
    outputs = [grpcclient.InferRequestedOutput(n) for n in names]
    result = client.infer(contract.SENTIMENT_MODEL, [tensor], model_version=version, outputs=outputs)
    assert result.get_response().model_version == version
    return result.as_numpy(contract.SENTIMENT_OUT_PROBS), result.as_numpy(contract.SENTIMENT_OUT_EMBEDDING)


def test_version_2_answers_as_the_in_process_runtime(v2_triton: Settings) -> None:
    probs, embeddings = _infer(v2_triton, "2")
    local = load_runtime(v2_triton.model_repository / contract.SENTIMENT_MODEL / "2", RUNTIME, threads=2)
    local_probs, local_embeddings = local.predict(TEXTS)
    assert probs.shape == (len(TEXTS), 3) and embeddings.shape == (len(TEXTS), 384)
    np.testing.assert_allclose(probs, local_probs, atol=1e-4)
    np.testing.assert_allclose(embeddings, local_embeddings, atol=1e-4)
    np.testing.assert_allclose(probs.sum(axis=1), 1.0, atol=1e-5)


def test_version_1_still_loads_beside_it_for_rollback(v2_triton: Settings) -> None:
    probs, embeddings = _infer(v2_triton, "1")
    local = SentimentModel.load(v2_triton.model_repository / contract.SENTIMENT_MODEL / "1", device="cpu")
    local_probs, local_embeddings = local.predict(TEXTS)
    np.testing.assert_allclose(probs, local_probs, atol=1e-4)
    np.testing.assert_allclose(embeddings, local_embeddings, atol=1e-4)


def test_the_chosen_runtime_is_exported_on_the_metrics_endpoint(v2_triton: Settings) -> None:
    url = f"http://{v2_triton.bind_host}:{v2_triton.triton_metrics_port}/metrics"
    with urllib.request.urlopen(url, timeout=10) as response:
        text = response.read().decode()
    info = [line for line in text.splitlines() if line.startswith("channelpulse_sentiment_runtime_info{")]
    assert len(info) == 1 and info[0].endswith(" 1")
    labels = dict(re.findall(r'(\w+)="([^"]*)"', info[0]))
    assert labels["runtime"] == RUNTIME and labels["requested"] == RUNTIME and labels["version"] == "2"
    assert labels["device"] == "cpu" and labels["isa"]
