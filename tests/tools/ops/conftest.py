"""A loopback HTTP server that answers like hastack's test app, for the load generator and the gates
built on it."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest


class Pods(BaseHTTPRequestHandler):
    """Answers like hastack's test app: the serving pod's name, one of three in turn; /fail is a 500, and
    so is every fourth request for a host named flaky.*."""

    turn = 0

    def do_GET(self) -> None:
        Pods.turn += 1
        flaky = (self.headers.get("Host") or "").startswith("flaky.") and Pods.turn % 4 == 0
        status = 500 if self.path == "/fail" or flaky else 200
        body = json.dumps({"pod": f"pod-{Pods.turn % 3}"}).encode()
        self.send_response(status)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *_: object) -> None:
        pass


@pytest.fixture
def server() -> Iterator[int]:
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Pods)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield httpd.server_address[1]
    httpd.shutdown()
