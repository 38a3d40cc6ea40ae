"""A real OpenAI-compatible HTTP server for tests (standard library only).

Serves ``POST /v1/chat/completions`` and ``GET /v1/models`` (also without ``/v1``) on
127.0.0.1 from a background thread. Completions stream as Server-Sent Events in OpenAI's
``chat.completion.chunk`` format (one chunk per word, a usage chunk when
``stream_options.include_usage`` is set, then ``data: [DONE]``) or come as one
``chat.completion``. Answers are scripted (:meth:`FakeOpenAI.add_answer`, ``add_error``);
with none queued the answer is ``echo: <last user message>``. Every request is kept in
:attr:`FakeOpenAI.requests` (method, path, headers, JSON body). In a test::

    with FakeOpenAI() as server:
        server.add_answer("Hello there", prompt_tokens=7, completion_tokens=2, delay=0.1)
        model = ChatOpenAI(base_url=server.url, api_key="k", model="m")

From another process (prints the base URL once ready, serves until killed)::

    python -m tests.support.fake_openai --port 8555 --script answers.json

``answers.json`` is a list of strings or objects such as ``{"text": "hi", "delay": 0.5,
"prompt_tokens": 3, "completion_tokens": 1}`` or ``{"status": 500, "message": "boom"}``.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import re
import socket
import threading
import time
import uuid
from collections import deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

MODEL_ID = "fake-model"


@dataclass
class Answer:
    """One scripted answer: a text (optional usage, per-chunk delay in seconds) or an error."""

    text: str = ""
    prompt_tokens: int | None = None  # default: words in the request's messages
    completion_tokens: int | None = None  # default: words in the answer
    delay: float = 0.0
    status: int = 200
    message: str = "scripted error"

    @classmethod
    def parse(cls, item: str | dict[str, Any]) -> Answer:
        return cls(text=item) if isinstance(item, str) else cls(**item)


@dataclass
class RecordedRequest:
    method: str
    path: str
    headers: dict[str, str]  # names lower-cased
    body: dict[str, Any] = field(default_factory=dict)


def _text(content: Any) -> str:
    """Message content as text: a string, or the text parts of a list of content parts."""
    if isinstance(content, list):
        return "".join(part.get("text", "") for part in content if isinstance(part, dict))
    return "" if content is None else str(content)


def _words(text: str) -> list[str]:
    """``text`` cut into one piece per word; the pieces join back to exactly ``text``."""
    return re.findall(r"\s*\S+(?:\s+$)?", text) or ([text] if text else [])


class FakeOpenAI:
    """The server. Use as a context manager, or call :meth:`start` and :meth:`stop`."""

    def __init__(self, port: int = 0, answers: list[str | dict[str, Any]] | None = None) -> None:
        self._port = port
        self._lock = threading.Lock()
        self._answers: deque[Answer] = deque(Answer.parse(a) for a in answers or [])
        self._requests: list[RecordedRequest] = []
        self._connections: set[socket.socket] = set()
        self._httpd: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    def add_answer(self, text: str, *, prompt_tokens: int | None = None,
                   completion_tokens: int | None = None, delay: float = 0.0) -> None:
        """Queue an answer; ``delay`` seconds pass before each chunk after the first."""
        with self._lock:
            self._answers.append(Answer(text, prompt_tokens, completion_tokens, delay))

    def add_error(self, status: int = 500, message: str = "scripted error") -> None:
        """Queue an HTTP error, answered with an OpenAI-style error body."""
        with self._lock:
            self._answers.append(Answer(status=status, message=message))

    @property
    def requests(self) -> list[RecordedRequest]:
        """A snapshot of every request received so far, oldest first."""
        with self._lock:
            return list(self._requests)

    @property
    def url(self) -> str:
        """The base URL an OpenAI client wants: ``http://127.0.0.1:<port>/v1``."""
        if self._httpd is None:
            raise RuntimeError("the fake OpenAI server is not running")
        return f"http://127.0.0.1:{self._httpd.server_address[1]}/v1"

    def start(self) -> FakeOpenAI:
        handler = type("Handler", (_Handler,), {"fake": self})
        self._httpd = ThreadingHTTPServer(("127.0.0.1", self._port), handler)
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(target=self._httpd.serve_forever, args=(0.05,), daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop listening, then cut open connections (an answer being streamed breaks off)."""
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
            self._httpd = None
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None
        with self._lock:
            connections, self._connections = self._connections, set()
        for connection in connections:
            with contextlib.suppress(OSError):
                connection.shutdown(socket.SHUT_RDWR)

    def __enter__(self) -> FakeOpenAI:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    # Called from the handler threads.
    def _next_answer(self, body: dict[str, Any]) -> Answer:
        with self._lock:
            if self._answers:
                return self._answers.popleft()
        users = [m for m in body.get("messages", []) if m.get("role") == "user"]
        return Answer(text=f"echo: {_text(users[-1].get('content')) if users else ''}")

    def _record(self, request: RecordedRequest) -> None:
        with self._lock:
            self._requests.append(request)

    def _track(self, connection: socket.socket, *, add: bool) -> None:
        with self._lock:
            (self._connections.add if add else self._connections.discard)(connection)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # streams are chunked, so a stream cut off is an error
    fake: FakeOpenAI  # set on the per-server subclass

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - quiet in tests
        pass

    def setup(self) -> None:
        super().setup()
        self.fake._track(self.connection, add=True)

    def finish(self) -> None:
        self.fake._track(self.connection, add=False)
        super().finish()

    def _route(self, body: dict[str, Any]) -> str:
        headers = {name.lower(): value for name, value in self.headers.items()}
        self.fake._record(RecordedRequest(self.command, self.path, headers, body))
        path = self.path.split("?", 1)[0].rstrip("/")
        return path[len("/v1"):] if path.startswith("/v1/") else path

    def _send_json(self, status: int, payload: dict[str, Any]) -> None:
        data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.write(data)

    def _error(self, status: int, message: str) -> None:
        kind = "server_error" if status >= 500 else "invalid_request_error"
        self._send_json(status, {"error": {"message": message, "type": kind, "param": None, "code": None}})

    def do_GET(self) -> None:  # noqa: N802 - http.server naming
        if self._route({}) != "/models":
            return self._error(404, f"no route {self.path}")
        model = {"id": MODEL_ID, "object": "model", "created": 0, "owned_by": "agenthub-tests"}
        self._send_json(200, {"object": "list", "data": [model]})

    def do_POST(self) -> None:  # noqa: N802 - http.server naming
        try:
            body = json.loads(self.rfile.read(int(self.headers.get("Content-Length") or 0)) or b"{}")
        except json.JSONDecodeError:
            body = {}
        if self._route(body) != "/chat/completions":
            return self._error(404, f"no route {self.path}")
        answer = self.fake._next_answer(body)
        if answer.status != 200:
            return self._error(answer.status, answer.message)
        prompt = answer.prompt_tokens
        if prompt is None:
            prompt = sum(len(_text(m.get("content")).split()) for m in body.get("messages", []))
        completion = len(answer.text.split()) if answer.completion_tokens is None else answer.completion_tokens
        usage = {"prompt_tokens": prompt, "completion_tokens": completion, "total_tokens": prompt + completion}
        base = {"id": f"chatcmpl-{uuid.uuid4().hex[:24]}", "created": int(time.time()),
                "model": body.get("model", MODEL_ID), "system_fingerprint": None}
        if body.get("stream"):
            include_usage = bool((body.get("stream_options") or {}).get("include_usage"))
            return self._stream(answer, base, usage if include_usage else None)
        message = {"role": "assistant", "content": answer.text, "refusal": None}
        choice = {"index": 0, "message": message, "logprobs": None, "finish_reason": "stop"}
        self._send_json(200, {**base, "object": "chat.completion", "choices": [choice], "usage": usage})

    def _stream(self, answer: Answer, base: dict[str, Any], usage: dict[str, int] | None) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Cache-Control", "no-cache")
        self.send_header("Transfer-Encoding", "chunked")
        self.send_header("Connection", "close")
        self.end_headers()
        extra = {} if usage is None else {"usage": None}  # OpenAI sends usage: null until the end

        def chunk(delta: dict[str, Any], finish: str | None = None) -> dict[str, Any]:
            choice = {"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish}
            return {**base, "object": "chat.completion.chunk", "choices": [choice], **extra}

        events = [chunk({"role": "assistant", "content": "", "refusal": None})]
        events += [chunk({"content": word}) for word in _words(answer.text)]
        events.append(chunk({}, "stop"))
        if usage is not None:
            events.append({**base, "object": "chat.completion.chunk", "choices": [], "usage": usage})
        lines = [f"data: {json.dumps(event)}\n\n".encode() for event in events] + [b"data: [DONE]\n\n"]
        try:
            for index, line in enumerate(lines):
                if answer.delay and 0 < index < len(lines) - 1:
                    time.sleep(answer.delay)
                self.wfile.write(b"%x\r\n%s\r\n" % (len(line), line))  # HTTP chunked framing
                self.wfile.flush()
            self.wfile.write(b"0\r\n\r\n")
        except OSError:
            pass  # the client went away, or stop() cut the connection mid-answer


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Fake OpenAI-compatible server for tests")
    parser.add_argument("--port", type=int, default=0, help="0 picks a free port")
    parser.add_argument("--script", help="JSON file: a list of scripted answers")
    args = parser.parse_args(argv)
    answers = json.loads(Path(args.script).read_text(encoding="utf-8")) if args.script else []
    server = FakeOpenAI(port=args.port, answers=answers).start()
    print(server.url, flush=True)
    with contextlib.suppress(KeyboardInterrupt):
        threading.Event().wait()
    server.stop()


if __name__ == "__main__":
    main()
