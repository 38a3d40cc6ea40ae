"""A small HTTP server on 127.0.0.1 that outbound calls are made to in tests.

- ``/redirect?to=<url>`` answers 302 to ``to``;
- ``/status/<n>`` answers status ``n`` with a short body;
- ``/big?chars=<n>`` answers ``n`` characters of ``x``;
- any other path answers JSON: ``{"method", "path", "query", "headers", "body"}``.

Every request is kept in :attr:`Target.requests`.
"""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit


class Target:
    def __init__(self) -> None:
        self.requests: list[dict[str, Any]] = []
        self._httpd: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    @property
    def port(self) -> int:
        assert self._httpd is not None
        return int(self._httpd.server_address[1])

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def __enter__(self) -> Target:
        handler = type("Handler", (_Handler,), {"target": self})
        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(target=self._httpd.serve_forever, args=(0.05,), daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        assert self._httpd is not None and self._thread is not None
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join(timeout=5)


class _Handler(BaseHTTPRequestHandler):
    target: Target
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the base class's name
        pass

    def _answer(self, status: int, body: bytes, content_type: str = "application/json", **headers: str) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for name, value in headers.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(body)

    def _handle(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length).decode() if length else ""
        parts = urlsplit(self.path)
        query = {name: values[0] for name, values in parse_qs(parts.query).items()}
        seen = {"method": self.command, "path": parts.path, "query": query,
                "headers": {k.lower(): v for k, v in self.headers.items()}, "body": body}
        self.target.requests.append(seen)
        if parts.path == "/redirect":
            self._answer(302, b"", Location=query["to"])
        elif parts.path.startswith("/status/"):
            self._answer(int(parts.path.rsplit("/", 1)[1]), b'{"detail": "scripted"}')
        elif parts.path == "/big":
            self._answer(200, b"x" * int(query.get("chars", "200000")), "text/plain")
        else:
            self._answer(200, json.dumps(seen).encode())

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _handle
