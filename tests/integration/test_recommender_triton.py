"""The committed recommender version served by the real Triton server, called over gRPC."""

from __future__ import annotations

import time

import numpy as np
import pytest
import tritonclient.grpc as grpcclient

from channelpulse.config import Settings
from channelpulse.models import contract
from channelpulse.models.recommend.recommender import Recommender

VERSION_DIR = Settings().model_repository_source / contract.RECOMMENDER_MODEL / "1"


def _bytes(rows: list[list[str]], width: int) -> np.ndarray:
    out = np.full((len(rows), width), b"", dtype=np.object_)
    for r, row in enumerate(rows):
        for c, item in enumerate(row):
            out[r, c] = item.encode("utf-8")
    return out


def _input(name: str, array: np.ndarray, dtype: str) -> grpcclient.InferInput:
    tensor = grpcclient.InferInput(name, list(array.shape), dtype)
    tensor.set_data_from_numpy(array)
    return tensor


@pytest.fixture(scope="module")
def client(stack: Settings) -> grpcclient.InferenceServerClient:
    client = grpcclient.InferenceServerClient(stack.triton_grpc_url)
    deadline = time.monotonic() + 120
    while not client.is_model_ready(contract.RECOMMENDER_MODEL, "1"):
        if time.monotonic() > deadline:
            pytest.fail("the recommender model did not become ready on Triton")
        time.sleep(1)
    return client


def test_padded_batch_returns_k_items_best_first_never_excluded(client: grpcclient.InferenceServerClient) -> None:
    local = Recommender.load(VERSION_DIR, device="cpu")
    items = local.items
    histories = [
        [items[3], items[10], items[42]],
        [items[7]],  # padded with b""
        [],  # all padding: popular items
        ["not-an-item", items[5]],  # unknown ids are ignored
    ]
    favourite = local.recommend([histories[1]], [set()], 1)[0][0][0]
    excludes = [[], [favourite, items[8]], [local.recommend([[]], [set()], 1)[0][0][0]], [items[1]]]
    ks = [10, 10, 10, 3]

    result = client.infer(
        contract.RECOMMENDER_MODEL,
        [
            _input(contract.RECOMMENDER_IN_HISTORY, _bytes(histories, 4), "BYTES"),
            _input(contract.RECOMMENDER_IN_EXCLUDE, _bytes(excludes, 3), "BYTES"),
            _input(contract.RECOMMENDER_IN_K, np.array([[k] for k in ks], dtype=np.int32), "INT32"),
        ],
        outputs=[
            grpcclient.InferRequestedOutput(contract.RECOMMENDER_OUT_ITEMS),
            grpcclient.InferRequestedOutput(contract.RECOMMENDER_OUT_SCORES),
        ],
    )
    assert result.get_response().model_version == "1"
    got_items = result.as_numpy(contract.RECOMMENDER_OUT_ITEMS)
    got_scores = result.as_numpy(contract.RECOMMENDER_OUT_SCORES)
    assert got_items.shape == got_scores.shape == (4, 10)
    expected = local.recommend(histories, [set(e) for e in excludes], 10)
    for row, (k, exclude) in enumerate(zip(ks, excludes, strict=True)):
        names = [i.decode("utf-8") for i in got_items[row] if i]
        scores = got_scores[row][: len(names)].tolist()
        assert len(names) == k and all(i == b"" for i in got_items[row][k:])
        assert scores == sorted(scores, reverse=True)
        assert not set(names) & set(exclude)
        assert names == [i for i, _ in expected[row][:k]]  # Triton serves exactly the in-process model
    assert favourite not in [i.decode() for i in got_items[1]]
