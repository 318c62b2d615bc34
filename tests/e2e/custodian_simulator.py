"""A small custodian (CFS / terminal) system for the tests: a real HTTP server on loopback
that answers ooc-issuer's challenge, checks each pushed e-Gatepass's HMAC signature, drops
repeats by idempotency key, and fails on command (the next N calls, or until told)."""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class Received:
    idempotency_key: str
    body: dict[str, Any]
    signature_valid: bool


@dataclass
class CustodianSimulator:
    """`url` is where it listens; `secret` is set from ooc-issuer's registration answer."""

    secret: str | None = None
    fail_next: int = 0
    down: bool = False
    calls: int = 0
    received: list[Received] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _server: ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        assert self._server is not None
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}/gatepasses"

    def start(self) -> CustodianSimulator:
        simulator = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *_args: Any) -> None:
                return None

            def do_POST(self) -> None:
                length = int(self.headers.get("content-length", "0"))
                raw = self.rfile.read(length)
                status, answer = simulator.handle(dict(self.headers.items()), raw)
                payload = json.dumps(answer).encode()
                self.send_response(status)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()

    def handle(self, headers: dict[str, str], raw: bytes) -> tuple[int, dict[str, Any]]:
        lower = {name.lower(): value for name, value in headers.items()}
        body = json.loads(raw or b"{}")
        if body.get("type") == "challenge":
            return 200, {"challenge": body["challenge"]}
        with self._lock:
            self.calls += 1
            if self.down:
                return 503, {"error": "down for maintenance"}
            if self.fail_next > 0:
                self.fail_next -= 1
                return 500, {"error": "failing on command"}
            timestamp = lower.get("x-clearance-timestamp", "")
            expected = (
                "v1="
                + hmac.new(
                    (self.secret or "").encode(), timestamp.encode() + b"." + raw, hashlib.sha256
                ).hexdigest()
            )
            valid = hmac.compare_digest(expected, lower.get("x-clearance-signature", ""))
            if not valid:
                return 401, {"error": "bad signature"}
            key = lower.get("idempotency-key", "")
            if all(r.idempotency_key != key for r in self.received):
                self.received.append(Received(key, body, valid))
            return 200, {"received": key}

    def gatepasses(self) -> list[str]:
        with self._lock:
            return [r.body["gatepass_no"] for r in self.received]
