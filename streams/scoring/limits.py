"""The batch size the worker sends against what each served model accepts (its ``max_batch_size``
in Triton's model config): checked once at worker start, so a batch size no model can take is
refused with a clear message rather than discovered as failing requests."""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from typing import Any

import tritonclient.grpc as grpcclient
from tritonclient.utils import InferenceServerException

log = logging.getLogger(__name__)


class BatchSizeTooLarge(ValueError):
    """CHANNELPULSE_BATCH_MAX_SIZE is above a served model's max_batch_size."""


def max_batch_size_of(config: Mapping[str, Any]) -> int:
    """``max_batch_size`` of a model config as Triton returns it in JSON (0: the model does not batch)."""
    body = config.get("config", config)
    return int(body.get("max_batch_size", body.get("maxBatchSize", 0)) or 0)


def served_batch_limits(
    url: str, models: Iterable[str], timeout_s: float = 10.0, tls: Mapping[str, Any] | None = None
) -> dict[str, int]:
    """``max_batch_size`` of each of ``models`` that Triton (gRPC ``url``, TLS options ``tls``)
    serves now; a model it does not answer for (the server is down, the model not loaded) is left
    out and logged."""
    limits: dict[str, int] = {}
    client = grpcclient.InferenceServerClient(url=url, **(tls or {}))
    try:
        try:
            client.is_server_live(client_timeout=timeout_s)
        except InferenceServerException as exc:
            log.warning("Triton %s is not answering (%s): batch sizes are not checked against the models; a batch "
                        "a model rejects is split (streams/pipeline/isolation.py)", url, exc.message())
            return limits
        for model in models:
            try:
                config = client.get_model_config(model, as_json=True, client_timeout=timeout_s)
            except InferenceServerException as exc:
                log.warning("could not read the config of model %r from Triton %s: %s", model, url, exc.message())
                continue
            limits[model] = max_batch_size_of(config)
    finally:
        client.close()
    return limits


def check_batch_size(batch_max_size: int, limits: Mapping[str, int]) -> None:
    """Raise :class:`BatchSizeTooLarge` when ``batch_max_size`` exceeds a model's ``max_batch_size``
    (a model with 0 does not batch and takes one request per input row; it is not checked)."""
    over = {model: limit for model, limit in sorted(limits.items()) if 0 < limit < batch_max_size}
    if over:
        named = ", ".join(f"{model!r} ({limit})" for model, limit in over.items())
        raise BatchSizeTooLarge(
            f"CHANNELPULSE_BATCH_MAX_SIZE={batch_max_size} is above the max_batch_size of the served "
            f"model(s) {named}: set it to at most {min(over.values())}, or raise max_batch_size in "
            "the model's config.pbtxt"
        )
