"""The health-check helper the stack's status uses for Triton and Prometheus."""

from __future__ import annotations

import http.server
import threading
from collections.abc import Iterator

import pytest

from channelpulse.infra.stack.process import free_port, http_ok


class Health(http.server.BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        self.send_response(200 if self.path == "/ready" else 503)
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def server() -> Iterator[str]:
    httpd = http.server.HTTPServer(("127.0.0.1", 0), Health)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


def test_http_ok_is_true_only_for_a_200(server: str) -> None:
    assert http_ok(f"{server}/ready")
    assert not http_ok(f"{server}/not-ready")  # 503


def test_http_ok_is_false_when_nothing_listens() -> None:
    assert not http_ok(f"http://127.0.0.1:{free_port()}/ready", timeout_s=0.5)
