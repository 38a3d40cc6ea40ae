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
"prompt_tokens": 3, "completion_tokens": 1}``, ``{"tool_calls": [{"name": "weather",
"arguments": {"city": "Paris"}}]}`` or ``{"status": 500, "message": "boom"}``.

Tool calls: :meth:`FakeOpenAI.add_tool_call` queues an answer that calls tools (streamed as
OpenAI streams them, ``finish_reason: "tool_calls"``). ``responder``: a function of the
request body returning an answer (a string, a dict as in the script, or None for the queue),
for answers that depend on what was asked (a supervisor's routing, a grader's verdict).

Embeddings: ``POST /v1/embeddings`` answers every input with the deterministic vectors of
AgentHub's ``fake`` embedder (``dimensions`` as asked, 64 by default), so texts that share
words are near each other.
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
from collections.abc import Callable
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
    tool_calls: list[dict[str, Any]] = field(default_factory=list)
    """``[{"name", "arguments" (a dict or a JSON string), "id"?}]``"""

    @classmethod
    def parse(cls, item: str | dict[str, Any] | Answer) -> Answer:
        if isinstance(item, Answer):
            return item
        return cls(text=item) if isinstance(item, str) else cls(**item)

    def tool_call_deltas(self) -> list[dict[str, Any]]:
        return [
            {"index": n, "id": call.get("id") or f"call_{uuid.uuid4().hex[:12]}", "type": "function",
             "function": {"name": call["name"], "arguments": call["arguments"] if isinstance(call.get("arguments"), str)
                          else json.dumps(call.get("arguments") or {})}}
            for n, call in enumerate(self.tool_calls)
        ]


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

    def __init__(
        self, port: int = 0, answers: list[str | dict[str, Any]] | None = None,
        responder: Callable[[dict[str, Any]], str | dict[str, Any] | None] | None = None,
    ) -> None:
        self._port = port
        self.responder = responder
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

    def add_tool_call(self, name: str, arguments: dict[str, Any] | str | None = None, *,
                      more: list[tuple[str, dict[str, Any]]] = (), text: str = "") -> None:  # type: ignore[assignment]
        """Queue an answer calling tool ``name`` with ``arguments`` (and the tools of ``more``,
        in the same answer), with ``text`` before the calls."""
        calls = [{"name": name, "arguments": arguments or {}}] + [{"name": n, "arguments": a} for n, a in more]
        with self._lock:
            self._answers.append(Answer(text=text, tool_calls=calls))

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
        if self.responder is not None:
            answer = self.responder(body)
            if answer is not None:
                return Answer.parse(answer)
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
        route = self._route(body)
        if route == "/embeddings":
            return self._embeddings(body)
        if route != "/chat/completions":
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
        message: dict[str, Any] = {"role": "assistant", "content": answer.text, "refusal": None}
        if answer.tool_calls:
            message["tool_calls"] = [
                {key: value for key, value in call.items() if key != "index"} for call in answer.tool_call_deltas()
            ]
        finish = "tool_calls" if answer.tool_calls else "stop"
        choice = {"index": 0, "message": message, "logprobs": None, "finish_reason": finish}
        self._send_json(200, {**base, "object": "chat.completion", "choices": [choice], "usage": usage})

    def _embeddings(self, body: dict[str, Any]) -> None:
        from agenthub.llm.embeddings import FakeEmbedder

        inputs = body.get("input")
        texts = [inputs] if isinstance(inputs, str) else list(inputs or [])
        embedder = FakeEmbedder(int(body.get("dimensions") or 64))
        data = [{"object": "embedding", "index": n, "embedding": embedder.vector(str(text))}
                for n, text in enumerate(texts)]
        tokens = sum(len(str(text).split()) for text in texts)
        self._send_json(200, {"object": "list", "data": data, "model": body.get("model", "fake-embedding"),
                              "usage": {"prompt_tokens": tokens, "total_tokens": tokens}})

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
        for call in answer.tool_call_deltas():  # the name first, then the arguments in two pieces
            arguments = call["function"]["arguments"]
            half = len(arguments) // 2
            first = {**call, "function": {"name": call["function"]["name"], "arguments": arguments[:half]}}
            events.append(chunk({"tool_calls": [first]}))
            events.append(chunk({"tool_calls": [{"index": call["index"], "function": {"arguments": arguments[half:]}}]}))
        events.append(chunk({}, "tool_calls" if answer.tool_calls else "stop"))
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
