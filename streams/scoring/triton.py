"""Scorer over Triton Inference Server's gRPC API (tritonclient.grpc.aio)."""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import tritonclient.grpc.aio as grpcclient
from tritonclient.grpc import KeepAliveOptions
from tritonclient.utils import InferenceServerException

from channelpulse.models import contract
from channelpulse.streams.metrics import SCORING_ERRORS, TRITON_LATENCY, set_model_version
from channelpulse.streams.scoring.base import AnomalyBatch, RecommendationBatch, SentimentBatch
from channelpulse.streams.scoring.errors import classify


def _pad_bytes(rows: Sequence[Sequence[str]]) -> np.ndarray:
    width = max(1, *(len(r) for r in rows)) if rows else 1
    out = np.full((len(rows), width), b"", dtype=np.object_)
    for i, row in enumerate(rows):
        for j, item in enumerate(row):
            out[i, j] = item.encode("utf-8")
    return out


def _tensor(name: str, array: np.ndarray, dtype: str) -> grpcclient.InferInput:
    tensor = grpcclient.InferInput(name, list(array.shape), dtype)
    tensor.set_data_from_numpy(array)
    return tensor


UNLIMITED_MESSAGE = 2**31 - 1
"""tritonclient's own message size limit (INT32_MAX): a batch's tensors are never refused for size."""
FIRST_RECONNECT_S = 0.2
"""gRPC's first reconnect delay after a failed connection (it then grows by 1.6x, with jitter)."""


def channel_options(reconnect_max_s: float) -> list[tuple[str, int]]:
    """gRPC channel arguments: tritonclient's defaults (no message size limit; keepalive pings off, as
    tritonclient has them, since Triton's default server policy answers a client pinging more often than
    every 5 minutes without data with GOAWAY; a Triton that dies closes its connections, which the
    channel sees at once) and a reconnect backoff capped at ``reconnect_max_s``: gRPC's default grows to
    120 s, so after an outage of 30 s its next attempt came up to ~25 s after Triton was back."""
    keepalive = KeepAliveOptions()
    max_ms = max(1, round(reconnect_max_s * 1000))
    return [
        ("grpc.max_send_message_length", UNLIMITED_MESSAGE),
        ("grpc.max_receive_message_length", UNLIMITED_MESSAGE),
        ("grpc.keepalive_time_ms", keepalive.keepalive_time_ms),
        ("grpc.keepalive_timeout_ms", keepalive.keepalive_timeout_ms),
        ("grpc.keepalive_permit_without_calls", int(keepalive.keepalive_permit_without_calls)),
        ("grpc.http2.max_pings_without_data", keepalive.http2_max_pings_without_data),
        ("grpc.initial_reconnect_backoff_ms", min(max_ms, round(FIRST_RECONNECT_S * 1000))),
        ("grpc.max_reconnect_backoff_ms", max_ms),
    ]


class TritonScorer:
    """One gRPC channel to Triton; each call sends one batched request."""

    def __init__(
        self, url: str, timeout_s: float = 10.0, tls: Mapping[str, Any] | None = None, reconnect_max_s: float = 1.0
    ) -> None:
        """``tls``: the TLS options of the channel (channelpulse.triton_tls.triton_grpc_options)."""
        self.url = url
        self.timeout_s = timeout_s
        self.client = grpcclient.InferenceServerClient(
            url=url, channel_args=channel_options(reconnect_max_s), **(tls or {})
        )

    async def _infer(
        self, model: str, inputs: list[grpcclient.InferInput], outputs: list[str]
    ) -> tuple[dict[str, np.ndarray], str]:
        started = time.perf_counter()
        try:
            result = await self.client.infer(
                model,
                inputs,
                outputs=[grpcclient.InferRequestedOutput(o) for o in outputs],
                client_timeout=self.timeout_s,
            )
        except InferenceServerException as exc:
            SCORING_ERRORS.labels(model=model).inc()
            raise classify(model, exc, self.url) from exc
        TRITON_LATENCY.labels(model=model).observe(time.perf_counter() - started)
        version = str(result.get_response().model_version)
        set_model_version(model, version)
        return {o: result.as_numpy(o) for o in outputs}, version

    async def sentiment(self, texts: Sequence[str]) -> SentimentBatch:
        data = np.array([[t.encode("utf-8")] for t in texts], dtype=np.object_)
        out, version = await self._infer(
            contract.SENTIMENT_MODEL,
            [_tensor(contract.SENTIMENT_IN_TEXT, data, "BYTES")],
            [contract.SENTIMENT_OUT_PROBS, contract.SENTIMENT_OUT_EMBEDDING],
        )
        return SentimentBatch(
            probs=out[contract.SENTIMENT_OUT_PROBS].astype(np.float32),
            embeddings=out[contract.SENTIMENT_OUT_EMBEDDING].astype(np.float32),
            version=version,
        )

    async def recommend(
        self, histories: Sequence[Sequence[str]], excludes: Sequence[Sequence[str]], k: int
    ) -> RecommendationBatch:
        ks = np.full((len(histories), 1), k, dtype=np.int32)
        out, version = await self._infer(
            contract.RECOMMENDER_MODEL,
            [
                _tensor(contract.RECOMMENDER_IN_HISTORY, _pad_bytes(histories), "BYTES"),
                _tensor(contract.RECOMMENDER_IN_EXCLUDE, _pad_bytes(excludes), "BYTES"),
                _tensor(contract.RECOMMENDER_IN_K, ks, "INT32"),
            ],
            [contract.RECOMMENDER_OUT_ITEMS, contract.RECOMMENDER_OUT_SCORES],
        )
        items = out[contract.RECOMMENDER_OUT_ITEMS]
        scores = out[contract.RECOMMENDER_OUT_SCORES]
        lists = [
            [(i.decode("utf-8"), float(s)) for i, s in zip(row_i, row_s, strict=True) if i]
            for row_i, row_s in zip(items, scores, strict=True)
        ]
        return RecommendationBatch(items=lists, version=version)

    async def anomaly(self, states: np.ndarray, values: np.ndarray, times: np.ndarray) -> AnomalyBatch:
        out, version = await self._infer(
            contract.ANOMALY_MODEL,
            [
                _tensor(contract.ANOMALY_IN_STATE, states.astype(np.float64), "FP64"),
                _tensor(contract.ANOMALY_IN_VALUES, values.astype(np.float64), "FP64"),
                _tensor(contract.ANOMALY_IN_TIMES, times.astype(np.float64), "FP64"),
            ],
            [contract.ANOMALY_OUT_SCORE, contract.ANOMALY_OUT_IS_ANOMALY, contract.ANOMALY_OUT_STATE],
        )
        return AnomalyBatch(
            scores=out[contract.ANOMALY_OUT_SCORE].reshape(values.shape).astype(np.float32),
            flags=out[contract.ANOMALY_OUT_IS_ANOMALY].reshape(values.shape).astype(bool),
            states=out[contract.ANOMALY_OUT_STATE].reshape(len(values), -1).astype(np.float64),
            version=version,
        )

    async def close(self) -> None:
        await self.client.close()
