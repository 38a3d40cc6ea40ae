"""A tiny real HTTP server on 127.0.0.1 that answers with a handler's reply and records each
request (method, path, headers, body): a stand-in for a third-party API in tests (Tavily,
an OTLP collector, a model endpoint)."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class Request:
    method: str
    path: str
    headers: dict[str, str]
    """By lower-case name."""
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


Reply = tuple[int, dict[str, str], bytes]
Handler = Callable[[Request], Reply]


def json_reply(payload: Any, status: int = 200) -> Reply:
    return status, {"Content-Type": "application/json"}, json.dumps(payload).encode()


class Recorder:
    """``with Recorder(handler) as server:`` serves on ``server.url``; ``server.requests``
    are what it got; ``server.received`` is set on each request (wait on it, no sleeps)."""

    def __init__(self, handler: Handler) -> None:
        self.handler = handler
        self.requests: list[Request] = []
        self.received = threading.Condition()
        recorder = self

        class _Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - quiet in tests
                pass

            def _serve(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                request = Request(self.command, self.path, {name.lower(): value for name, value in self.headers.items()}, self.rfile.read(length))
                with recorder.received:  # recorded before it is answered: the client sees it done
                    recorder.requests.append(request)
                    recorder.received.notify_all()
                status, headers, body = recorder.handler(request)
                self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            do_GET = do_POST = _serve  # noqa: N815 - http.server naming

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def wait_for(self, predicate: Callable[[list[Request]], bool], timeout: float = 10.0) -> bool:
        """Block (in a thread: ``asyncio.to_thread``) until ``predicate(requests)`` holds."""
        with self.received:
            return self.received.wait_for(lambda: predicate(list(self.requests)), timeout)

    def __enter__(self) -> Recorder:
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(5)
