"""A real HTTP server on loopback that records what it receives and answers as each test says."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest


@dataclass
class Received:
    method: str
    path: str
    headers: dict
    body: bytes


@dataclass
class Reply:
    status: int = 200
    body: bytes = b'{"errcode":0,"errmsg":"ok"}'
    delay: float = 0.0


@dataclass
class Recorder:
    url: str
    requests: list[Received] = field(default_factory=list)
    replies: list[Reply] = field(default_factory=list)  # consumed in order; then `default`
    default: Reply = field(default_factory=Reply)
    check: object = None  # (Received) -> Reply | None, e.g. a signature check
    lock: threading.Lock = field(default_factory=threading.Lock)

    def answer(self, received: Received) -> Reply:
        with self.lock:
            self.requests.append(received)
            reply = self.replies.pop(0) if self.replies else self.default
        if self.check is not None:
            reply = self.check(received) or reply
        return reply


@pytest.fixture
def http_server():
    recorder: Recorder

    class Handler(BaseHTTPRequestHandler):
        def _handle(self):
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            reply = recorder.answer(Received(self.command, self.path, dict(self.headers.items()), body))
            if reply.delay:
                time.sleep(reply.delay)
            try:
                self.send_response(reply.status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(reply.body)))
                self.end_headers()
                self.wfile.write(reply.body)
            except OSError:  # the client gave up (timeout)
                pass

        do_GET = _handle
        do_POST = _handle

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    recorder = Recorder(url=f"http://127.0.0.1:{server.server_address[1]}")
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield recorder
    server.shutdown()
    server.server_close()


@pytest.fixture(autouse=True)
def _fast_notify(settings):
    settings.NOTIFY_HTTP_TIMEOUT = 0.3
    settings.NOTIFY_BACKOFF_SECONDS = (30, 120, 600)
    settings.NOTIFY_MAX_ATTEMPTS = 4
