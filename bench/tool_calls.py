"""What a tool call adds to a turn: the same sequential SSE turns on an agent that answers at
once and on one whose model first calls an HTTP tool, then answers with its result.

    PYTHONPATH=src .venv/bin/python bench/tool_calls.py [--turns 300] [--rounds 2]

`agenthub serve` embedded (SQLite, the in-process bus) as a real process, with
OUTBOUND_ALLOWLIST=127.0.0.1; the model is the fake OpenAI-compatible server of the tests
(a real HTTP server on 127.0.0.1, streaming), scripted to call the tool `weather` on the
tooled agent's first model call; the tool is a small HTTP server on 127.0.0.1. A tool call
costs a second model call and the tool's own request by nature; what the platform adds on
top of them (the guard's resolution and check, the tool_call/tool_result events, recording the
call on the answer) is the added median minus the medians of those two requests, measured
alone in the same run. The turns of the two agents alternate, so both see the same load.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import socket
import statistics
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx

from _harness import ROOT, agenthub, machine, percentile

sys.path.insert(0, str(ROOT))
from tests.support.fake_openai import FakeOpenAI  # noqa: E402 - the tests' fake model server

WEATHER = {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}


class _Tool(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
        pass

    def setup(self) -> None:
        super().setup()
        # Headers and body go out as separate writes: without this, Nagle's algorithm and the
        # client's delayed ACK hold the body back for ~40 ms.
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def do_GET(self) -> None:  # noqa: N802
        body = json.dumps({"city": "Paris", "sky": "sunny", "celsius": 24}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


def _responder(body: dict[str, Any]) -> dict[str, Any] | str | None:
    """The tooled agent's first call asks for the weather; with its result, it answers."""
    last = body["messages"][-1]
    if last.get("role") == "tool":
        return "It is sunny and 24 degrees in Paris."
    if body.get("tools"):
        return {"tool_calls": [{"name": "weather", "arguments": {"city": "Paris"}}]}
    return "It is sunny and 24 degrees in Paris."


async def _turn(client: httpx.AsyncClient, agent: str, chat_id: str) -> float:
    start = time.perf_counter()
    async with client.stream(
        "POST", f"/api/v1/agents/{agent}/chat", json={"content": "Weather in Paris?", "chat_id": chat_id}
    ) as response:
        response.raise_for_status()
        async for _ in response.aiter_bytes():
            pass
    return time.perf_counter() - start


async def _alone(model_url: str, tool_url: str, count: int) -> dict[str, list[float]]:
    """The model's streamed answer and the tool's request, each alone."""
    times: dict[str, list[float]] = {"model": [], "tool": []}
    async with httpx.AsyncClient(timeout=30) as client:
        for _ in range(count):
            start = time.perf_counter()
            async with client.stream("POST", f"{model_url}/chat/completions", json={
                "model": "m", "stream": True, "messages": [{"role": "user", "content": "Weather in Paris?"}],
            }) as response:
                async for _ in response.aiter_bytes():
                    pass
            times["model"].append(time.perf_counter() - start)
            start = time.perf_counter()
            (await client.get(f"{tool_url}/weather/Paris")).raise_for_status()
            times["tool"].append(time.perf_counter() - start)
    return times


async def _run(url: str, headers: dict[str, str], model_url: str, tool_url: str, turns: int) -> dict[str, list[float]]:
    async with httpx.AsyncClient(base_url=url, headers=headers, timeout=60) as client:
        base = {"provider": "openai_compatible", "model_id": "m", "base_url": model_url}
        tool = {"name": "weather", "description": "The weather in a city", "url": f"{tool_url}/weather/{{city}}",
                "parameters": WEATHER}
        for agent_id, more in (("plain", {}), ("tooled", {"http_tools": [tool]})):
            created = await client.post("/api/v1/agents", json={
                "id": agent_id, "name": agent_id, "settings": {**base, **more},
            })
            created.raise_for_status()
        times: dict[str, list[float]] = {"plain": [], "tooled": []}
        for n in range(20):  # warm-up: both agents started, connections open
            for agent in times:
                await _turn(client, agent, f"warm-{n}")
        for n in range(turns):
            for agent in times:
                times[agent].append(await _turn(client, agent, f"chat-{n}"))
    return {**times, **await _alone(model_url, tool_url, turns)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--turns", type=int, default=300)
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    print(machine())
    tool_server = ThreadingHTTPServer(("127.0.0.1", 0), _Tool)
    threading.Thread(target=tool_server.serve_forever, daemon=True).start()
    tool_url = f"http://127.0.0.1:{tool_server.server_address[1]}"
    try:
        for round_ in range(1, args.rounds + 1):
            with FakeOpenAI(responder=_responder) as model, \
                    agenthub(redis_url=None, database_url=None, OUTBOUND_ALLOWLIST="127.0.0.1") as server:
                times = asyncio.run(_run(server.url, server.headers, model.url, tool_url, args.turns))
            p50 = {name: statistics.median(values) * 1000 for name, values in times.items()}
            p99 = {name: percentile(values, 99) * 1000 for name, values in times.items()}
            added = p50["tooled"] - p50["plain"]
            print(
                f"round {round_}: no tool p50 {p50['plain']:.2f} ms p99 {p99['plain']:.2f} ms | "
                f"one tool call p50 {p50['tooled']:.2f} ms p99 {p99['tooled']:.2f} ms | added p50 {added:.2f} ms, "
                f"of which a model call alone {p50['model']:.2f} ms and the tool's request alone {p50['tool']:.2f} ms: "
                f"the platform's own share {added - p50['model'] - p50['tool']:.2f} ms ({args.turns} turns each)"
            )
    finally:
        tool_server.shutdown()


if __name__ == "__main__":
    main()
