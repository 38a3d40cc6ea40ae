"""Turn latency and throughput over the WebSocket, with the offline `fake` provider.

    python bench/turns.py [--redis-url redis://127.0.0.1:6379/0] [--database-url ...]
                          [--rounds 3] [--turns 300] [--chats 50] [--seconds 8]

Runs `agenthub serve` (and `agenthub worker` where needed) as real processes and measures,
from a client process on the same machine:
- one turn's latency sequentially (p50, p99): message sent -> final `message` received;
- turns per second with 50 concurrent chats (50 WebSocket connections, each sending its
  next message when the answer to the last one has come), and their latency;
- the CPU time each process spent per turn during the concurrent part (from /proc), which
  says where a turn's cost goes and varies less than the rates on a shared machine.
Each setup runs ``--rounds`` rounds on one server; the table gives the median round (by
rate) and the range of the rates. The fake model answers at once, so the latency is the
platform's own overhead (gateway, database write of the inbound message, bus, runner,
LangGraph, history and usage queues, WebSocket). Embedded always; Redis when reachable.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from websockets.asyncio.client import connect

from _harness import Server, agenthub, create_agent, machine, percentile, redis_available, scratch_database

TICK = os.sysconf("SC_CLK_TCK")


@dataclass
class Setup:
    label: str
    redis: bool
    isolation: str
    workers: int = 0
    agents: int = 1


@dataclass
class Round:
    seq_p50_ms: float
    seq_p99_ms: float
    turns_per_s: float
    conc_p50_ms: float
    conc_p99_ms: float
    cpu_ms_per_turn: dict[str, float] = field(default_factory=dict)


async def _turn(socket, text: str) -> None:  # type: ignore[no-untyped-def]
    await socket.send(json.dumps({"type": "message", "content": text}))
    while True:
        event = json.loads(await socket.recv())
        if event["type"] == "message":
            return
        if event["type"] == "error":
            raise RuntimeError(event["message"])


async def sequential(server: Server, agent_id: str, turns: int) -> tuple[float, float]:
    async with connect(f"{server.ws_url}/ws/agents/{agent_id}", max_size=None) as socket:
        for i in range(20):  # warm up: start the agent, fill caches
            await _turn(socket, f"warm {i}")
        latencies = []
        for i in range(turns):
            started = time.perf_counter()
            await _turn(socket, f"hello {i}")
            latencies.append((time.perf_counter() - started) * 1000)
    return percentile(latencies, 50), percentile(latencies, 99)


async def concurrent(
    server: Server, agent_ids: list[str], chats: int, seconds: float, measure: Callable[[], dict[str, float]]
) -> tuple[float, float, float, dict[str, float]]:
    sockets = [
        await connect(f"{server.ws_url}/ws/agents/{agent_ids[i % len(agent_ids)]}", max_size=None)
        for i in range(chats)
    ]
    await asyncio.gather(*(_turn(socket, "warm") for socket in sockets))
    done = 0
    latencies: list[float] = []
    deadline = time.perf_counter() + seconds

    async def chat(socket) -> None:  # type: ignore[no-untyped-def]
        nonlocal done
        while time.perf_counter() < deadline:
            started = time.perf_counter()
            await _turn(socket, "hello")
            latencies.append((time.perf_counter() - started) * 1000)
            done += 1

    cpu_before = measure()
    started = time.perf_counter()
    await asyncio.gather(*(chat(s) for s in sockets))
    elapsed = time.perf_counter() - started
    cpu_after = measure()
    for socket in sockets:
        await socket.close()
    cpu = {
        name: round((cpu_after[name] - cpu_before.get(name, 0.0)) / done * 1000, 3)
        for name in cpu_after if cpu_after[name] - cpu_before.get(name, 0.0) > 0.005
    }
    return done / elapsed, percentile(latencies, 50), percentile(latencies, 99), cpu


def process_cpu(server: Server) -> dict[str, float]:
    """CPU seconds used so far by each process of the setup, by what it is: the gateway
    (`agenthub serve` and its fork server), runners, workers, Redis, PostgreSQL, the client."""
    totals: dict[str, float] = {}
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            with open(f"/proc/{pid}/stat") as stat_file:
                stat = stat_file.read()
            with open(f"/proc/{pid}/cmdline") as cmd_file:
                command = cmd_file.read().replace("\0", " ")
        except OSError:
            continue
        fields = stat.rsplit(")", 1)[1].split()
        used = (int(fields[11]) + int(fields[12])) / TICK
        if int(pid) == os.getpid():
            name = "client"
        elif command.startswith("agenthub runner"):
            name = "runners"
        elif "agenthub worker" in command:
            name = "worker"
        elif int(pid) == server.process.pid or "multiprocessing.forkserver" in command:
            name = "gateway"
        elif "redis-server" in command:
            name = "redis"
        elif "postgres" in command:
            name = "postgres"
        else:
            continue
        totals[name] = totals.get(name, 0.0) + used
    return totals


def run(setup: Setup, *, redis_url: str | None, database_url: str | None, rounds: int,
        turns: int, chats: int, seconds: float) -> dict:
    with scratch_database(database_url if setup.redis else None) as database, agenthub(
        redis_url=redis_url if setup.redis else None, database_url=database, workers=setup.workers
    ) as server:
        agent_ids = [f"bench-{setup.isolation}-{i}" for i in range(setup.agents)]
        for agent_id in agent_ids:
            create_agent(server, agent_id=agent_id, isolation=setup.isolation)
        results = []
        for _ in range(rounds):
            seq_p50, seq_p99 = asyncio.run(sequential(server, agent_ids[0], turns))
            rate, p50, p99, cpu = asyncio.run(
                concurrent(server, agent_ids, chats, seconds, lambda: process_cpu(server))
            )
            results.append(Round(seq_p50, seq_p99, rate, p50, p99, cpu))
            print(json.dumps({"setup": setup.label, **results[-1].__dict__}), flush=True)
    rates = sorted(r.turns_per_s for r in results)
    median = sorted(results, key=lambda r: r.turns_per_s)[len(results) // 2]
    return {
        "setup": setup.label,
        "median": median,
        "rates": (rates[0], rates[-1]),
        "seq_p50_median": statistics.median(r.seq_p50_ms for r in results),
        "seq_p99_median": statistics.median(r.seq_p99_ms for r in results),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/0")
    parser.add_argument("--database-url", default=None,
                        help="a PostgreSQL server to make a scratch database on for the Redis setups; default: SQLite")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--turns", type=int, default=300)
    parser.add_argument("--chats", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=8.0)
    args = parser.parse_args()
    db = "PostgreSQL" if args.database_url else "SQLite"
    setups = [Setup("embedded (SQLite, in-process bus)", redis=False, isolation="shared")]
    if redis_available(args.redis_url):
        setups += [
            Setup(f"Redis + {db}, agent in a runner process", redis=True, isolation="process"),
            Setup(f"Redis + {db}, agent in an `agenthub worker`", redis=True, isolation="shared", workers=1),
            Setup(f"Redis + {db}, the chats spread over 2 agents in runner processes", redis=True,
                  isolation="process", agents=2),
        ]
    else:
        print(f"Redis at {args.redis_url} is not reachable: Redis runs skipped")
    print(f"{machine()}; {time.strftime('%Y-%m-%d')}; {args.rounds} rounds per setup")
    results = [
        run(setup, redis_url=args.redis_url, database_url=args.database_url, rounds=args.rounds,
            turns=args.turns, chats=args.chats, seconds=args.seconds)
        for setup in setups
    ]
    print(f"| setup | sequential p50 | sequential p99 | {args.chats} chats: turns/s (range) "
          f"| {args.chats} chats: p50 | {args.chats} chats: p99 | CPU ms per turn |")
    print("|---|---|---|---|---|---|---|")
    for r in results:
        m: Round = r["median"]
        cpu = ", ".join(f"{name} {ms:.2f}" for name, ms in sorted(m.cpu_ms_per_turn.items(), key=lambda x: -x[1]))
        print(f"| {r['setup']} | {r['seq_p50_median']:.2f} ms | {r['seq_p99_median']:.2f} ms | "
              f"{m.turns_per_s:.0f} ({r['rates'][0]:.0f}–{r['rates'][1]:.0f}) | {m.conc_p50_ms:.1f} ms | "
              f"{m.conc_p99_ms:.1f} ms | {cpu} |")


if __name__ == "__main__":
    main()
