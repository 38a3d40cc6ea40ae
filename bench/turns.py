"""Turn latency and throughput over the WebSocket and SSE, with the offline `fake` model and
with a real HTTP model (the scripted streaming server of bench/model_server.py on loopback).

    python bench/turns.py [--redis-url redis://127.0.0.1:6379/0] [--database-url ...]
                          [--models fake,http] [--transports ws,sse] [--setups ...]
                          [--rounds 1] [--turns 200] [--chats 32,50] [--seconds 6]

The HTTP client (SSE, and the model server alone) is aiohttp, the WebSocket client
`websockets`: the cheapest at hand, as the client shares the two cores with the server.
Runs the model server, `agenthub serve` (and `agenthub worker` where needed) as real
processes and measures, from a client process on the same machine:
- one streamed turn's latency sequentially (p50, p99): message sent -> answer complete
  (WebSocket: the final `message` event; SSE: the end of the response); over the
  WebSocket also when the `received` status came (the message stored and acknowledged);
- turns per second with N concurrent chats (N connections, each sending its next message
  when the answer to the last one has come), and their latency, for each N of ``--chats``;
- the CPU time each process spent per turn during the concurrent part (from /proc), which
  says where a turn's cost goes and varies less than the rates on a shared machine.
The first setup is the model server alone (the same client streaming completions from it
directly): what any client of that model waits anyway. Each setup runs ``--rounds`` rounds
on one server; the table gives the median round (by rate) and the range of the rates.
Setups: `model` (the model server alone, http only), `embedded` (SQLite, in-process bus),
`runner` (Redis + database, the agent in a runner process), `worker` (the agent in an
`agenthub worker`), `two-runners` (the chats over two agents in runner processes).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Protocol

import aiohttp
from websockets.asyncio.client import connect

from _harness import (
    FAKE_MODEL,
    Server,
    agenthub,
    create_agent,
    http_model,
    machine,
    model_server,
    percentile,
    redis_available,
    scratch_database,
)

TICK = os.sysconf("SC_CLK_TCK")
WARM_TURNS = 20


@dataclass
class Setup:
    key: str
    label: str
    redis: bool = False
    isolation: str = "shared"
    workers: int = 0
    agents: int = 1


SETUPS = [
    Setup("model", "the model server alone"),
    Setup("embedded", "AgentHub embedded (SQLite, in-process bus)"),
    Setup("runner", "AgentHub, Redis + {db}, agent in a runner process", redis=True, isolation="process"),
    Setup("worker", "AgentHub, Redis + {db}, agent in an `agenthub worker`", redis=True, workers=1),
    Setup("two-runners", "AgentHub, Redis + {db}, chats over 2 agents in runner processes", redis=True,
          isolation="process", agents=2),
]


@dataclass
class Round:
    seq_p50_ms: float
    seq_p99_ms: float
    received_p50_ms: float | None = None
    rates: dict[int, float] = field(default_factory=dict)
    conc_p50_ms: dict[int, float] = field(default_factory=dict)
    conc_p99_ms: dict[int, float] = field(default_factory=dict)
    cpu_ms_per_turn: dict[int, dict[str, float]] = field(default_factory=dict)


class Chat(Protocol):
    async def turn(self, text: str) -> None: ...
    async def close(self) -> None: ...


class WebSocketChat:
    """One WebSocket connection, one chat."""

    def __init__(self, socket) -> None:  # type: ignore[no-untyped-def]
        self.socket = socket
        self.received_ms: list[float] = []

    @classmethod
    async def open(cls, server: Server, agent_id: str) -> WebSocketChat:
        return cls(await connect(
            f"{server.ws_url}/ws/agents/{agent_id}", max_size=None, compression=None, additional_headers=server.headers
        ))

    async def turn(self, text: str) -> None:
        started = time.perf_counter()
        received = False
        await self.socket.send(json.dumps({"type": "message", "content": text}))
        while True:
            event = json.loads(await self.socket.recv())
            if event["type"] == "status" and not received:  # "received": the message is stored
                received = True
                self.received_ms.append((time.perf_counter() - started) * 1000)
            if event["type"] == "message":
                return
            if event["type"] == "error":
                raise RuntimeError(event["message"])

    async def close(self) -> None:
        await self.socket.close()


class SseChat:
    """One chat over ``POST /api/v1/agents/{id}/chat``, each turn one streamed response."""

    def __init__(self, http: aiohttp.ClientSession, url: str, headers: dict[str, str]) -> None:
        self.http = http
        self.url = url
        self.headers = headers
        self.chat_id: str | None = None

    async def turn(self, text: str) -> None:
        body = {"content": text, **({"chat_id": self.chat_id} if self.chat_id else {})}
        async with self.http.post(self.url, json=body, headers=self.headers) as response:
            response.raise_for_status()
            self.chat_id = response.headers["x-chat-id"]
            async for line in response.content:
                if line.startswith(b"event: error"):
                    raise RuntimeError("the agent answered with an error")

    async def close(self) -> None:
        pass


class ModelChat:
    """Streamed completions straight from the model server, as AgentHub asks for them."""

    def __init__(self, http: aiohttp.ClientSession, url: str) -> None:
        self.http = http
        self.url = url

    async def turn(self, text: str) -> None:
        body = {"model": "bench-model", "stream": True, "stream_options": {"include_usage": True},
                "messages": [{"role": "user", "content": text}]}
        async with self.http.post(self.url, json=body) as response:
            response.raise_for_status()
            async for _ in response.content:
                pass

    async def close(self) -> None:
        pass


ChatFactory = Callable[[int], Awaitable[Chat]]


async def sequential(open_chat: ChatFactory, turns: int) -> tuple[float, float, float | None]:
    """p50 and p99 of a turn, and the p50 of the WebSocket's `received` status."""
    chat = await open_chat(0)
    try:
        for i in range(WARM_TURNS):  # warm up: start the agent, fill caches, open connections
            await chat.turn(f"warm {i}")
        if isinstance(chat, WebSocketChat):
            chat.received_ms.clear()
        latencies = []
        for i in range(turns):
            started = time.perf_counter()
            await chat.turn(f"hello {i}")
            latencies.append((time.perf_counter() - started) * 1000)
    finally:
        await chat.close()
    received = percentile(chat.received_ms, 50) if isinstance(chat, WebSocketChat) and chat.received_ms else None
    return percentile(latencies, 50), percentile(latencies, 99), received


async def concurrent(
    open_chat: ChatFactory, chats: int, seconds: float, measure: Callable[[], dict[str, float]]
) -> tuple[float, float, float, dict[str, float]]:
    sessions = [await open_chat(i) for i in range(chats)]
    await asyncio.gather(*(chat.turn("warm") for chat in sessions))
    done = 0
    latencies: list[float] = []
    deadline = time.perf_counter() + seconds

    async def run(chat: Chat) -> None:
        nonlocal done
        while time.perf_counter() < deadline:
            started = time.perf_counter()
            await chat.turn("hello")
            latencies.append((time.perf_counter() - started) * 1000)
            done += 1

    cpu_before = measure()
    started = time.perf_counter()
    await asyncio.gather(*(run(chat) for chat in sessions))
    elapsed = time.perf_counter() - started
    cpu_after = measure()
    for chat in sessions:
        await chat.close()
    cpu = {
        name: round((cpu_after[name] - cpu_before.get(name, 0.0)) / done * 1000, 3)
        for name in cpu_after if cpu_after[name] - cpu_before.get(name, 0.0) > 0.005
    }
    return done / elapsed, percentile(latencies, 50), percentile(latencies, 99), cpu


def _process_table() -> dict[int, tuple[int, float, str]]:
    """Every process: its parent, the CPU seconds it used so far, its command line."""
    table = {}
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            with open(f"/proc/{pid}/stat") as stat_file:
                stat = stat_file.read()
            with open(f"/proc/{pid}/cmdline") as cmd_file:
                command = cmd_file.read().replace("\0", " ")
        except OSError:
            continue
        fields = stat.rsplit(")", 1)[1].split()
        table[int(pid)] = (int(fields[1]), (int(fields[11]) + int(fields[12])) / TICK, command)
    return table


def process_cpu(server: Server | None, model_pid: int) -> dict[str, float]:
    """CPU seconds used so far by each process of the setup, by what it is: the gateway
    (`agenthub serve` and its fork server), runners, workers (only the processes this
    benchmark started, and theirs), the model server, Redis, PostgreSQL, the client."""
    totals: dict[str, float] = {}
    for name, used in process_cpu_by_pid(server, model_pid).values():
        totals[name] = totals.get(name, 0.0) + used
    return totals


def process_cpu_by_pid(server: Server | None, model_pid: int) -> dict[int, tuple[str, float]]:
    """What :func:`process_cpu` adds up: each process of the setup, what it is and its CPU seconds."""
    table = _process_table()
    database = (server.env.get("DATABASE_URL") or "-").rsplit("/", 1)[-1] if server else "-"
    roots = {model_pid: "model", os.getpid(): "client"}
    if server is not None:
        roots[server.process.pid] = "gateway"
        roots.update({proc.pid: f"gateway {n}" for n, (_, proc) in enumerate(server.more_gateways, start=2)})
        roots.update({worker.pid: "worker" for worker in server.workers})
    found: dict[int, tuple[str, float]] = {}
    for pid, (_, used, command) in table.items():
        name, ancestor = None, pid
        while ancestor > 1 and name is None:
            name = roots.get(ancestor)
            ancestor = table[ancestor][0] if ancestor in table else 0
        if name == "gateway" and command.startswith("agenthub runner"):
            name = "runners"
        elif name is None and "redis-server" in command:
            name = "redis"
        elif name is None and command.startswith("postgres") and (database in command or "(" not in command):
            name = "postgres"  # the backends of this setup's database, and the shared writers
        if name is not None:
            found[pid] = (name, used)
    return found


def _chat_factory(transport: str, server: Server | None, agent_ids: list[str], model_url: str,
                  http: aiohttp.ClientSession) -> ChatFactory:
    async def open_chat(index: int) -> Chat:
        if server is None:
            return ModelChat(http, f"{model_url}/chat/completions")
        agent_id = agent_ids[index % len(agent_ids)]
        if transport == "ws":
            return await WebSocketChat.open(server, agent_id)
        return SseChat(http, f"{server.url}/api/v1/agents/{agent_id}/chat", server.headers)
    return open_chat


async def _round(transport: str, server: Server | None, agent_ids: list[str], model: tuple[str, int],
                 args: argparse.Namespace) -> Round:
    model_url, model_pid = model
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0),
                                     timeout=aiohttp.ClientTimeout(total=60)) as http:
        open_chat = _chat_factory(transport, server, agent_ids, model_url, http)
        result = Round(*await sequential(open_chat, args.turns))
        for chats in args.chats:
            rate, c50, c99, cpu = await concurrent(
                open_chat, chats, args.seconds,
                lambda: process_cpu(server, model_pid),
            )
            result.rates[chats], result.conc_p50_ms[chats], result.conc_p99_ms[chats] = rate, c50, c99
            result.cpu_ms_per_turn[chats] = cpu
    return result


def _summary(label: str, rounds: list[Round], chats: list[int]) -> dict:
    top = chats[-1]
    median = sorted(rounds, key=lambda r: r.rates[top])[len(rounds) // 2]
    return {
        "label": label,
        "median": median,
        "ranges": {n: (min(r.rates[n] for r in rounds), max(r.rates[n] for r in rounds)) for n in chats},
        "seq_p50": statistics.median(r.seq_p50_ms for r in rounds),
        "seq_p99": statistics.median(r.seq_p99_ms for r in rounds),
        "received": statistics.median(r.received_p50_ms for r in rounds) if rounds[0].received_p50_ms else None,
    }


def run_setup(setup: Setup, model: tuple[str, int], args: argparse.Namespace, db: str) -> list[dict]:
    """Every (model, transport) of ``setup``, each for ``--rounds`` rounds on one server."""
    label = setup.label.format(db=db)
    summaries = []
    if setup.key == "model":
        rounds = []
        for _ in range(args.rounds):
            rounds.append(asyncio.run(_round("http", None, [], model, args)))
            print(json.dumps({"setup": label, **rounds[-1].__dict__}), flush=True)
        return [_summary(f"{label}, streamed HTTP", rounds, args.chats)]
    with scratch_database(args.database_url if setup.redis else None) as database, agenthub(
        redis_url=args.redis_url if setup.redis else None, database_url=database, workers=setup.workers
    ) as server:
        for model_name in args.models:
            settings = FAKE_MODEL if model_name == "fake" else http_model(model[0])
            agent_ids = [f"bench-{model_name}-{setup.isolation}-{i}" for i in range(setup.agents)]
            for agent_id in agent_ids:
                create_agent(server, agent_id=agent_id, isolation=setup.isolation, model=settings)
            for transport in args.transports:
                rounds = []
                for _ in range(args.rounds):
                    rounds.append(asyncio.run(_round(transport, server, agent_ids, model, args)))
                    print(json.dumps({"setup": label, "model": model_name, "transport": transport,
                                      **rounds[-1].__dict__}), flush=True)
                name = "WebSocket" if transport == "ws" else "SSE"
                summaries.append(_summary(f"{label}, `{model_name}` model, {name}", rounds, args.chats))
    return summaries


def print_table(results: list[dict], chats: list[int]) -> None:
    header = ["setup", "sequential p50", "sequential p99", "`received` p50"]
    for n in chats:
        header += [f"{n} chats: turns/s (range)", f"{n} chats: p50"]
    header.append(f"CPU ms per turn ({chats[-1]} chats)")
    print("| " + " | ".join(header) + " |")
    print("|" + "---|" * len(header))
    for r in results:
        m: Round = r["median"]
        received = f"{r['received']:.2f} ms" if r["received"] is not None else "–"
        cells = [r["label"], f"{r['seq_p50']:.2f} ms", f"{r['seq_p99']:.2f} ms", received]
        for n in chats:
            low, high = r["ranges"][n]
            cells += [f"{m.rates[n]:.0f} ({low:.0f}–{high:.0f})", f"{m.conc_p50_ms[n]:.1f} ms"]
        cpu = m.cpu_ms_per_turn[chats[-1]]
        cells.append(", ".join(f"{name} {ms:.2f}" for name, ms in sorted(cpu.items(), key=lambda x: -x[1])))
        print("| " + " | ".join(cells) + " |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/0")
    parser.add_argument("--database-url", default=None,
                        help="a PostgreSQL server to make a scratch database on for the Redis setups; default: SQLite")
    parser.add_argument("--models", default="fake,http", help="fake, http or both")
    parser.add_argument("--transports", default="ws,sse", help="ws, sse or both")
    parser.add_argument("--setups", default="model,embedded,runner",
                        help="comma-separated, of: " + ", ".join(s.key for s in SETUPS))
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument("--turns", type=int, default=200)
    parser.add_argument("--chats", default="32,50", help="concurrent chats, comma-separated")
    parser.add_argument("--seconds", type=float, default=6.0)
    args = parser.parse_args()
    args.models = args.models.split(",")
    args.transports = args.transports.split(",")
    args.chats = [int(n) for n in args.chats.split(",")]
    wanted = args.setups.split(",")
    setups = [s for s in SETUPS if s.key in wanted and (s.key != "model" or "http" in args.models)]
    if any(s.redis for s in setups) and not redis_available(args.redis_url):
        print(f"Redis at {args.redis_url} is not reachable: Redis runs skipped")
        setups = [s for s in setups if not s.redis]
    db = "PostgreSQL" if args.database_url else "SQLite"
    print(f"{machine()}; {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}; {args.rounds} round(s) per setup")
    results: list[dict] = []
    with model_server() as (model_url, model_process):
        for setup in setups:
            results += run_setup(setup, (model_url, model_process.pid), args, db)
    print_table(results, args.chats)


if __name__ == "__main__":
    main()
