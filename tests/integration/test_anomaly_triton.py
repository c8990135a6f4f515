"""The served ``anomaly`` model (real Triton, gRPC): scores agree with the pure detector, spikes beat calm."""

from __future__ import annotations

import numpy as np
import tritonclient.grpc as grpcclient

from channelpulse.config import Settings
from models import contract
from models.anomaly.detector import AnomalyDetector, shipped_params


def _infer(client: grpcclient.InferenceServerClient, windows: np.ndarray) -> tuple[np.ndarray, np.ndarray, str]:
    tensor = grpcclient.InferInput(contract.ANOMALY_IN_WINDOW, list(windows.shape), "FP32")
    tensor.set_data_from_numpy(windows.astype(np.float32))
    result = client.infer(contract.ANOMALY_MODEL, [tensor], model_version="1")
    version = result.get_response().model_version
    return (
        result.as_numpy(contract.ANOMALY_OUT_SCORE),
        result.as_numpy(contract.ANOMALY_OUT_IS_ANOMALY),
        version,
    )


def _batch(width: int) -> np.ndarray:
    """Rows: calm, spike, dip (all full width), then calm and spike with only 400 readings (NaN-padded)."""
    rng = np.random.default_rng(7)
    history = 50.0 + rng.normal(0.0, 1.0, width)
    calm, spike, dip = history.copy(), history.copy(), history.copy()
    spike[-1] = 80.0
    dip[-1] = 20.0
    short_calm, short_spike = calm.copy(), spike.copy()
    short_calm[: width - 400] = np.nan
    short_spike[: width - 400] = np.nan
    return np.stack([calm, spike, dip, short_calm, short_spike]).astype(np.float32)


def test_anomaly_model_scores_a_batch_like_the_pure_detector(stack: Settings) -> None:
    client = grpcclient.InferenceServerClient(stack.triton_grpc_url)
    assert client.is_model_ready(contract.ANOMALY_MODEL, "1")
    params = shipped_params(stack.model_repository_source)
    windows = _batch(params.width)

    scores, flags, version = _infer(client, windows)

    assert version == "1"
    assert scores.shape == (5, 1) and scores.dtype == np.float32
    assert flags.shape == (5, 1) and flags.dtype == np.bool_
    scores, flags = scores[:, 0], flags[:, 0]
    assert np.all((scores >= 0.0) & (scores <= 1.0))
    calm, spike, dip, short_calm, short_spike = range(5)
    assert scores[spike] > scores[calm] and scores[dip] > scores[calm]
    assert scores[short_spike] > scores[short_calm]
    assert flags.tolist() == [False, True, True, False, True]
    expected_scores, expected_flags = AnomalyDetector(params).score(windows)
    np.testing.assert_allclose(scores, expected_scores, rtol=1e-6)
    assert flags.tolist() == expected_flags.tolist()


def test_anomaly_model_accepts_narrower_and_padded_windows(stack: Settings) -> None:
    """A 400-wide window, the same left-padded to full width, and extra padding all score the same;
    a window too short to score gives 0."""
    client = grpcclient.InferenceServerClient(stack.triton_grpc_url)
    params = shipped_params(stack.model_repository_source)
    padded = _batch(params.width)[3:]
    narrow = padded[:, -400:]
    wider = np.concatenate([np.full((2, 100), np.nan, dtype=np.float32), padded], axis=1)

    results = [_infer(client, w)[0][:, 0] for w in (narrow, padded, wider)]

    np.testing.assert_allclose(results[0], results[1], rtol=1e-6)
    np.testing.assert_allclose(results[0], results[2], rtol=1e-6)
    assert results[0][1] > results[0][0]
    # fewer readings than min_history: not scored yet (the server logs a warning once)
    too_short, too_short_flags, _ = _infer(client, padded[:, -params.min_history :])
    assert too_short[:, 0].tolist() == [0.0, 0.0] and not too_short_flags.any()
