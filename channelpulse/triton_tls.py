"""Triton gRPC over TLS: the options of tritonclient's InferenceServerClient (sync and asyncio)
from the CHANNELPULSE_TRITON_SSL* settings, in one place for every Triton client of ChannelPulse."""

from __future__ import annotations

from typing import Any

from channelpulse.config import Settings


def triton_grpc_options(settings: Settings) -> dict[str, Any]:
    """``ssl``, ``root_certificates``, ``certificate_chain`` and ``private_key`` for
    ``InferenceServerClient(url, **options)``; empty for a plaintext channel.

    A PEM file that is not there is refused here (FileNotFoundError naming the setting), before any
    client is built: tritonclient opens the files in its ``__init__`` before it sets the attributes its
    ``__del__`` reads, so a client built with a missing file fails half-built and its garbage collection
    prints an ``AttributeError`` traceback beside the real error."""
    if not settings.triton_ssl:
        return {}
    options: dict[str, Any] = {"ssl": True}
    for name, field, path in (
        ("root_certificates", "triton_ssl_cafile", settings.triton_ssl_cafile),
        ("certificate_chain", "triton_ssl_certfile", settings.triton_ssl_certfile),
        ("private_key", "triton_ssl_keyfile", settings.triton_ssl_keyfile),
    ):
        if path is None:
            continue
        if not path.is_file():
            raise FileNotFoundError(f"CHANNELPULSE_{field.upper()}: no such file {path}")
        options[name] = str(path)
    return options
