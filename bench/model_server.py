"""A scripted, streaming OpenAI-compatible model server on loopback, for the benchmarks.

    python bench/model_server.py [--port 0] [--words 12] [--delay 0]

Serves ``POST /v1/chat/completions`` (streamed as Server-Sent Events in OpenAI's
``chat.completion.chunk`` format, one chunk per word, a usage chunk when
``stream_options.include_usage`` is set, then ``data: [DONE]``; or as one
``chat.completion``) and ``GET /v1/models``. It prints its base URL once it listens and
serves until it is stopped (SIGTERM or SIGINT).

Unlike the test server (``tests/support/fake_openai.py``, a thread per connection that
closes after each answer), this one is what a fast production endpoint looks like to a
client: one asyncio process, HTTP/1.1 keep-alive, every answer the same length (``--words``
words, like the ``fake`` provider's 12) and the whole stream written at once unless
``--delay`` puts seconds between chunks. So the model's own latency is small and steady,
and what a benchmark measures on top of it is the client's.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import signal
import time
import uuid
from typing import Any

MODEL_ID = "bench-model"
WORDS = ["Hello", "from", "the", "scripted", "model", "server", "on", "loopback", "with", "one", "streamed", "answer"]


def answer_text(words: int) -> str:
    return " ".join(WORDS[i % len(WORDS)] for i in range(words)) + "."


def _chunked(data: bytes) -> bytes:
    return b"%x\r\n%s\r\n" % (len(data), data)


def _completion_chunks(body: dict[str, Any], text: str) -> list[bytes]:
    """The SSE events of one streamed answer, each framed as one HTTP chunk."""
    base = {"id": f"chatcmpl-{uuid.uuid4().hex[:24]}", "created": int(time.time()),
            "model": body.get("model", MODEL_ID), "system_fingerprint": None}
    include_usage = bool((body.get("stream_options") or {}).get("include_usage"))
    extra = {"usage": None} if include_usage else {}

    def event(delta: dict[str, Any], finish: str | None = None) -> dict[str, Any]:
        choice = {"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish}
        return {**base, "object": "chat.completion.chunk", "choices": [choice], **extra}

    words = text.split(" ")
    events = [event({"role": "assistant", "content": "", "refusal": None})]
    events += [event({"content": w if i == len(words) - 1 else w + " "}) for i, w in enumerate(words)]
    events.append(event({}, "stop"))
    if include_usage:
        prompt = sum(len(str(m.get("content", "")).split()) for m in body.get("messages", []))
        completion = len(words)
        events.append({**base, "object": "chat.completion.chunk", "choices": [],
                       "usage": {"prompt_tokens": prompt, "completion_tokens": completion,
                                 "total_tokens": prompt + completion}})
    lines = [b"data: " + json.dumps(e).encode() + b"\n\n" for e in events] + [b"data: [DONE]\n\n"]
    return [_chunked(line) for line in lines]


def _response(status: str, content_type: str, body: bytes) -> bytes:
    return (f"HTTP/1.1 {status}\r\nContent-Type: {content_type}\r\nContent-Length: {len(body)}\r\n"
            f"\r\n").encode() + body


STREAM_HEAD = (b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nCache-Control: no-cache\r\n"
               b"Transfer-Encoding: chunked\r\n\r\n")


class ModelServer:
    def __init__(self, *, words: int = 12, delay: float = 0.0) -> None:
        self.text = answer_text(words)
        self.delay = delay
        self.requests = 0

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                request_line, *header_lines = head.decode("latin-1").split("\r\n")
                method, path = request_line.split(" ")[:2]
                length = 0
                for line in header_lines:
                    name, _, value = line.partition(":")
                    if name.strip().lower() == "content-length":
                        length = int(value)
                raw = await reader.readexactly(length) if length else b""
                self.requests += 1
                await self._answer(method, path.split("?", 1)[0].rstrip("/"), raw, writer)
        except (asyncio.IncompleteReadError, ConnectionError):
            pass  # the client closed its connection
        except asyncio.CancelledError:
            pass  # the server is stopping: the client's connection closes with it
        finally:
            writer.close()

    async def _answer(self, method: str, path: str, raw: bytes, writer: asyncio.StreamWriter) -> None:
        path = path[len("/v1"):] if path.startswith("/v1/") else path
        if method == "GET" and path == "/models":
            models = {"object": "list", "data": [{"id": MODEL_ID, "object": "model", "created": 0, "owned_by": "bench"}]}
            writer.write(_response("200 OK", "application/json", json.dumps(models).encode()))
            return
        if method != "POST" or path != "/chat/completions":
            error = {"error": {"message": f"no route {path}", "type": "invalid_request_error", "param": None, "code": None}}
            writer.write(_response("404 Not Found", "application/json", json.dumps(error).encode()))
            return
        body = json.loads(raw or b"{}")
        if not body.get("stream"):
            writer.write(_response("200 OK", "application/json", json.dumps(self._completion(body)).encode()))
            return
        chunks = _completion_chunks(body, self.text)
        if not self.delay:
            writer.write(STREAM_HEAD + b"".join(chunks) + b"0\r\n\r\n")
            return
        writer.write(STREAM_HEAD + chunks[0])
        for chunk in chunks[1:]:
            await asyncio.sleep(self.delay)
            writer.write(chunk)
        writer.write(b"0\r\n\r\n")
        await writer.drain()

    def _completion(self, body: dict[str, Any]) -> dict[str, Any]:
        prompt = sum(len(str(m.get("content", "")).split()) for m in body.get("messages", []))
        completion = len(self.text.split())
        message = {"role": "assistant", "content": self.text, "refusal": None}
        return {"id": f"chatcmpl-{uuid.uuid4().hex[:24]}", "object": "chat.completion", "created": int(time.time()),
                "model": body.get("model", MODEL_ID), "system_fingerprint": None,
                "choices": [{"index": 0, "message": message, "logprobs": None, "finish_reason": "stop"}],
                "usage": {"prompt_tokens": prompt, "completion_tokens": completion,
                          "total_tokens": prompt + completion}}


async def serve(port: int, words: int, delay: float) -> None:
    model = ModelServer(words=words, delay=delay)
    server = await asyncio.start_server(model.handle, "127.0.0.1", port, backlog=1024)
    print(f"http://127.0.0.1:{server.sockets[0].getsockname()[1]}/v1", flush=True)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    async with server:
        await stop.wait()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--port", type=int, default=0, help="0 picks a free port")
    parser.add_argument("--words", type=int, default=12, help="words in every answer")
    parser.add_argument("--delay", type=float, default=0.0, help="seconds between streamed chunks")
    args = parser.parse_args()
    try:
        import uvloop
    except ImportError:
        asyncio.run(serve(args.port, args.words, args.delay))
    else:
        uvloop.run(serve(args.port, args.words, args.delay))


if __name__ == "__main__":
    main()
