"""The served ``sentiment`` model (real Triton, gRPC): clear sentences get the right label, PROBS rows
are distributions, EMBEDDING is the encoder's, and the answers match the in-process model of the
served version (version 2+, the fine-tuned classifier, under the runtime Triton reports it chose;
version 1, the frozen encoder + head, otherwise)."""

from __future__ import annotations

import re
import urllib.request
from collections.abc import Callable
from pathlib import Path

import numpy as np
import tritonclient.grpc as grpcclient

from channelpulse.bench.limits import latest_version_dir
from channelpulse.config import Settings
from channelpulse.models import contract
from channelpulse.models.sentiment.classifier import is_classifier_dir
from channelpulse.models.sentiment.model import SentimentModel
from channelpulse.models.sentiment.runtime import load_runtime

POSITIVE = [
    "This is a wonderful, moving film and the cast is superb.",
    "Absolutely loved it, one of the best things I have ever bought!",
    "A delightful, funny and beautifully made story.",
]
NEGATIVE = [
    "A dull, tedious mess of a movie with terrible acting.",
    "It broke after two days and support was useless. Total waste of money.",
    "The worst, most boring film I have seen in years.",
]
Predict = Callable[[list[str]], tuple[np.ndarray, np.ndarray]]


def _infer(client: grpcclient.InferenceServerClient, texts: list[str]) -> tuple[np.ndarray, np.ndarray, str]:
    data = np.array([[t.encode("utf-8")] for t in texts], dtype=np.object_)
    tensor = grpcclient.InferInput(contract.SENTIMENT_IN_TEXT, list(data.shape), "BYTES")
    tensor.set_data_from_numpy(data)
    names = (contract.SENTIMENT_OUT_PROBS, contract.SENTIMENT_OUT_EMBEDDING)
    outputs = [grpcclient.InferRequestedOutput(n) for n in names]
    result = client.infer(contract.SENTIMENT_MODEL, [tensor], outputs=outputs)
    return (
        result.as_numpy(contract.SENTIMENT_OUT_PROBS),
        result.as_numpy(contract.SENTIMENT_OUT_EMBEDDING),
        result.get_response().model_version,
    )


def _served_runtime(stack: Settings) -> str:
    """The runtime the served classifier reports on Triton's metrics endpoint."""
    url = f"http://{stack.bind_host}:{stack.triton_metrics_port}/metrics"
    with urllib.request.urlopen(url, timeout=10) as response:
        text = response.read().decode()
    found = re.search(r'channelpulse_sentiment_runtime_info\{[^}]*runtime="([^"]+)"', text)
    assert found, "the served classifier exports channelpulse_sentiment_runtime_info"
    return found.group(1)


def _local(stack: Settings) -> tuple[str, Predict]:
    """The served version's number and its in-process predict()."""
    version_dir = latest_version_dir(stack.model_repository_source, contract.SENTIMENT_MODEL)
    assert version_dir is not None
    if is_classifier_dir(version_dir):
        return version_dir.name, load_runtime(Path(version_dir), _served_runtime(stack), threads=2).predict
    return version_dir.name, SentimentModel.load(version_dir, device="cpu").predict


def test_sentiment_model_labels_clear_sentences_and_returns_embeddings(stack: Settings) -> None:
    client = grpcclient.InferenceServerClient(stack.triton_grpc_url)
    served, local_predict = _local(stack)
    assert client.is_model_ready(contract.SENTIMENT_MODEL, served)

    probs, embeddings, version = _infer(client, POSITIVE + NEGATIVE)

    assert version == served
    assert probs.shape == (6, len(contract.SENTIMENT_LABELS)) and probs.dtype == np.float32
    np.testing.assert_allclose(probs.sum(axis=1), 1.0, atol=1e-5)
    labels = [contract.SENTIMENT_LABELS[i] for i in probs.argmax(axis=1)]
    assert labels == ["positive"] * 3 + ["negative"] * 3
    assert embeddings.shape == (6, 384) and embeddings.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(embeddings, axis=1), 1.0, atol=1e-4)
    local_probs, local_embeddings = local_predict(POSITIVE + NEGATIVE)
    np.testing.assert_allclose(probs, local_probs, atol=1e-4)
    np.testing.assert_allclose(embeddings, local_embeddings, atol=1e-4)


def test_sentiment_model_handles_a_single_row_and_non_ascii_text(stack: Settings) -> None:
    client = grpcclient.InferenceServerClient(stack.triton_grpc_url)
    served, _ = _local(stack)
    probs, embeddings, version = _infer(client, ["Un film magnifique, très émouvant ✨"])
    assert version == served and probs.shape == (1, 3) and embeddings.shape == (1, 384)
    assert np.isfinite(probs).all() and abs(float(probs.sum()) - 1.0) < 1e-5
