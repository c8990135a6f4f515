"""Triton gRPC over TLS: the options of tritonclient's InferenceServerClient (sync and asyncio)
from the CHANNELPULSE_TRITON_SSL* settings, in one place for every Triton client of ChannelPulse."""

from __future__ import annotations

from typing import Any

from channelpulse.config import Settings


def triton_grpc_options(settings: Settings) -> dict[str, Any]:
    """``ssl``, ``root_certificates``, ``certificate_chain`` and ``private_key`` for
    ``InferenceServerClient(url, **options)``; empty for a plaintext channel. tritonclient reads the
    PEM files when the client is built, so a missing file fails there, before the first request."""
    if not settings.triton_ssl:
        return {}
    options: dict[str, Any] = {"ssl": True}
    for name, path in (
        ("root_certificates", settings.triton_ssl_cafile),
        ("certificate_chain", settings.triton_ssl_certfile),
        ("private_key", settings.triton_ssl_keyfile),
    ):
        if path is not None:
            options[name] = str(path)
    return options
