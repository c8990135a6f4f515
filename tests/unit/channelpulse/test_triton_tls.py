"""Triton gRPC over TLS: the client options, and tritonclient's clients built with them."""

from __future__ import annotations

from pathlib import Path

import pytest
import tritonclient.grpc as grpcclient
import tritonclient.grpc.aio as aio_grpcclient

from channelpulse.config import Settings
from channelpulse.triton_tls import triton_grpc_options
from tests.tls import Certificates, make_certificates

# a client whose __init__ failed half-way (tritonclient opened a missing PEM file) prints an AttributeError
# from its __del__ when it is collected: none of these tests may leave one behind
pytestmark = pytest.mark.filterwarnings("error::pytest.PytestUnraisableExceptionWarning")


@pytest.fixture(scope="module")
def certs(tmp_path_factory: pytest.TempPathFactory) -> Certificates:
    return make_certificates(tmp_path_factory.mktemp("certs"))


def test_plaintext_by_default() -> None:
    assert triton_grpc_options(Settings()) == {}


def test_tls_with_a_ca_and_a_client_certificate(certs: Certificates) -> None:
    settings = Settings(
        triton_ssl=True,
        triton_ssl_cafile=certs.ca_pem,
        triton_ssl_certfile=certs.server_pem,
        triton_ssl_keyfile=certs.server_key,
    )
    options = triton_grpc_options(settings)
    assert options == {
        "ssl": True,
        "root_certificates": str(certs.ca_pem),
        "certificate_chain": str(certs.server_pem),
        "private_key": str(certs.server_key),
    }
    grpcclient.InferenceServerClient("127.0.0.1:1", **options).close()


async def test_the_asyncio_client_takes_the_same_options(certs: Certificates) -> None:
    options = triton_grpc_options(Settings(triton_ssl=True, triton_ssl_cafile=certs.ca_pem))
    assert options == {"ssl": True, "root_certificates": str(certs.ca_pem)}
    client = aio_grpcclient.InferenceServerClient("127.0.0.1:1", **options)
    await client.close()


@pytest.mark.parametrize("field", ["triton_ssl_cafile", "triton_ssl_certfile", "triton_ssl_keyfile"])
def test_a_missing_pem_file_is_refused_before_a_client_is_built(
    certs: Certificates, tmp_path: Path, field: str
) -> None:
    files = {
        "triton_ssl_cafile": certs.ca_pem,
        "triton_ssl_certfile": certs.server_pem,
        "triton_ssl_keyfile": certs.server_key,
    }
    settings = Settings(triton_ssl=True, **{**files, field: tmp_path / "missing.pem"})
    with pytest.raises(FileNotFoundError, match=f"CHANNELPULSE_{field.upper()}: no such file .*missing.pem"):
        triton_grpc_options(settings)
