"""Turn latency and throughput over the WebSocket, with the offline `fake` provider.

    python bench/turns.py [--redis-url redis://127.0.0.1:6379/0] [--database-url ...]

Runs `agenthub serve` as a real process and measures, from a client process:
- one turn's latency sequentially (p50, p99): message sent -> final `message` received;
- turns per second with 50 concurrent chats (50 WebSocket connections).
The fake model answers at once, so the latency is the platform's own overhead (gateway,
bus, runner, LangGraph, history and usage queues). Embedded always; Redis when reachable.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import time

from websockets.asyncio.client import connect

from _harness import Server, agenthub, create_agent, percentile, redis_available, scratch_database


async def _turn(socket, text: str) -> None:  # type: ignore[no-untyped-def]
    await socket.send(json.dumps({"type": "message", "content": text}))
    while True:
        event = json.loads(await socket.recv())
        if event["type"] == "message":
            return
        if event["type"] == "error":
            raise RuntimeError(event["message"])


async def sequential(server: Server, agent_id: str, turns: int) -> dict[str, float]:
    async with connect(f"{server.ws_url}/ws/agents/{agent_id}", max_size=None) as socket:
        for i in range(20):  # warm up: start the agent, fill caches
            await _turn(socket, f"warm {i}")
        latencies = []
        for i in range(turns):
            started = time.perf_counter()
            await _turn(socket, f"hello {i}")
            latencies.append((time.perf_counter() - started) * 1000)
    return {"p50_ms": percentile(latencies, 50), "p99_ms": percentile(latencies, 99)}


async def concurrent(server: Server, agent_id: str, chats: int, seconds: float) -> dict[str, float]:
    sockets = [await connect(f"{server.ws_url}/ws/agents/{agent_id}", max_size=None) for _ in range(chats)]
    done = 0
    latencies: list[float] = []
    deadline = time.perf_counter() + seconds

    async def chat(socket) -> None:  # type: ignore[no-untyped-def]
        nonlocal done
        await _turn(socket, "warm")
        while time.perf_counter() < deadline:
            started = time.perf_counter()
            await _turn(socket, "hello")
            latencies.append((time.perf_counter() - started) * 1000)
            done += 1

    started = time.perf_counter()
    await asyncio.gather(*(chat(s) for s in sockets))
    elapsed = time.perf_counter() - started
    for socket in sockets:
        await socket.close()
    return {"turns_per_s": done / elapsed, "p50_ms": percentile(latencies, 50), "p99_ms": percentile(latencies, 99)}


def run(label: str, *, redis_url: str | None, database_url: str | None, isolation: str, workers: int,
        turns: int, chats: int, seconds: float) -> dict:
    with scratch_database(database_url) as database, \
            agenthub(redis_url=redis_url, database_url=database, workers=workers) as server:
        agent_id = f"bench-{isolation}"
        create_agent(server, agent_id=agent_id, isolation=isolation)
        seq = asyncio.run(sequential(server, agent_id, turns))
        conc = asyncio.run(concurrent(server, agent_id, chats, seconds))
    result = {"setup": label, **{f"seq_{k}": v for k, v in seq.items()}, **{f"conc_{k}": v for k, v in conc.items()}}
    print(json.dumps(result))
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/0")
    parser.add_argument("--database-url", default=None,
                        help="a PostgreSQL server to make a scratch database on; default: SQLite")
    parser.add_argument("--turns", type=int, default=300)
    parser.add_argument("--chats", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=10.0)
    args = parser.parse_args()
    common = {"turns": args.turns, "chats": args.chats, "seconds": args.seconds, "database_url": args.database_url}
    db = "PostgreSQL" if args.database_url else "SQLite"
    results = [run("embedded (SQLite, in-process bus)", redis_url=None, isolation="shared", workers=0,
                   **{**common, "database_url": None})]
    if redis_available(args.redis_url):
        results.append(run(f"Redis + {db}, agent in a runner process", redis_url=args.redis_url,
                           isolation="process", workers=0, **common))
        results.append(run(f"Redis + {db}, agent in an `agenthub worker`", redis_url=args.redis_url,
                           isolation="shared", workers=1, **common))
    else:
        print(f"Redis at {args.redis_url} is not reachable: Redis runs skipped")
    print("| setup | sequential p50 | sequential p99 | 50 chats: turns/s | 50 chats: p50 | 50 chats: p99 |")
    print("|---|---|---|---|---|---|")
    for r in results:
        print(f"| {r['setup']} | {r['seq_p50_ms']:.2f} ms | {r['seq_p99_ms']:.2f} ms | {r['conc_turns_per_s']:.0f} | "
              f"{r['conc_p50_ms']:.1f} ms | {r['conc_p99_ms']:.1f} ms |")


if __name__ == "__main__":
    main()
