"""Throw-away certificates for the TLS tests, made with the openssl command line: a CA, and a server
certificate it signs for 127.0.0.1/localhost, as PEM files and as a PKCS12 keystore (for Kafka)."""

from __future__ import annotations

import subprocess
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Certificates:
    ca_pem: Path
    server_pem: Path
    server_key: Path
    keystore: Path  # PKCS12: the server's key and certificate chain
    keystore_password: str


def _openssl(*args: str, cwd: Path) -> None:
    proc = subprocess.run(["openssl", *args], cwd=cwd, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise RuntimeError(f"openssl {' '.join(args[:2])} failed: {proc.stderr}")


def make_certificates(folder: Path, keystore_password: str = "keystore-pass") -> Certificates:
    """A CA and a server certificate for 127.0.0.1 and localhost (valid two days) under ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    _openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "ca.key", "-out", "ca.pem",
             "-days", "2", "-subj", "/CN=channelpulse-test-ca", cwd=folder)
    _openssl("req", "-newkey", "rsa:2048", "-nodes", "-keyout", "server.key", "-out", "server.csr",
             "-subj", "/CN=localhost", cwd=folder)
    (folder / "san.ext").write_text("subjectAltName=IP:127.0.0.1,DNS:localhost\n")
    _openssl("x509", "-req", "-in", "server.csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial",
             "-out", "server.pem", "-days", "2", "-extfile", "san.ext", cwd=folder)
    _openssl("pkcs12", "-export", "-in", "server.pem", "-inkey", "server.key", "-certfile", "ca.pem",
             "-name", "server", "-out", "server.p12", "-passout", f"pass:{keystore_password}", cwd=folder)
    return Certificates(
        ca_pem=folder / "ca.pem", server_pem=folder / "server.pem", server_key=folder / "server.key",
        keystore=folder / "server.p12", keystore_password=keystore_password,
    )
