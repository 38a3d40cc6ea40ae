"""Scenario messages per second end to end: a 3-step bot, N concurrent chats over the
WebSocket, `agenthub serve` on PostgreSQL + Redis as a real process.

    PYTHONPATH=src python bench/scenario_turns.py --redis-url redis://127.0.0.1:6379/0 \
        --database-url postgresql://postgres@127.0.0.1:5432/postgres [--chats 50] [--seconds 10]
        [--rounds 1] [--workers 0] [--profile FILE]

Each chat is its own end user (an API key of its own: a session each); each message moves
its session one step round the cycle a -> b -> c -> a (a rule evaluated, a variable
substituted, one message sent back). The bot is stored in the database as publishing
stores it (one version), as the bots API will.

Besides the rate and the latencies it prints the CPU time each process spent per message
during the timed part (from /proc: `agenthub serve`, the PostgreSQL backends of the scratch
database with the server's shared writers, Redis, this client), less what the process
spends idle (measured for 2 s before): it moves least with the machine's load. Redis and PostgreSQL's writers are shared with whatever else runs on the
machine. ``--workers N``: N `agenthub worker` processes, one of which hosts the bot (else
the gateway hosts it). ``--profile FILE``: py-spy samples the process hosting the bot during
the last round; the shares by package and by function are printed, the collapsed stacks
written to FILE.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import subprocess
import sys
import time
import uuid
from collections.abc import Callable

from turns import process_cpu_by_pid
from websockets.asyncio.client import connect

from _harness import Server, agenthub, machine, percentile, scratch_database
from agenthub.accounts.models import ApiKey
from agenthub.accounts.secrets import API_KEY_PREFIX, digest, new_id, new_secret
from agenthub.agents.models import DEFAULT_ORG, Agent
from agenthub.db.engine import create_engine, create_session_factory, session_scope
from agenthub.scenarios.document import dump, parse
from agenthub.scenarios.models import Bot, BotVersion

BOT = "bench-scenario"


def step(key: str, following: str) -> dict:
    return {"key": key, "message": {"text": f"Step {key} for {{$message.text$}}"},
            "connection_groups": [{"connections": [
                {"rules": {"condition": "AND", "rules": [
                    {"field": "message.text", "operator": "is_not_empty"}]}, "next_step": following}]}]}


DOCUMENT = {"name": "Bench", "first_step": "a",
            "steps": [step("a", "b"), step("b", "c"), step("c", "a")]}


async def prepare(database_url: str, chats: int) -> list[str]:
    """The bot, and an API key for each chat."""
    engine = create_engine(database_url.replace("postgresql://", "postgresql+asyncpg://", 1))
    keys = [new_secret(API_KEY_PREFIX) for _ in range(chats)]
    try:
        async with session_scope(create_session_factory(engine)) as session:
            session.add(Agent(id=BOT, org_id=DEFAULT_ORG, name=BOT, kind="scenario", config_version=1,
                              settings={"isolation": "shared", "integrations": []}))
            await session.flush()
            session.add(Bot(id=BOT, org_id=DEFAULT_ORG, name="Bench", variables={}, first_step_id="a",
                            published_version=1))
            await session.flush()
            session.add(BotVersion(id=uuid.uuid4().hex, org_id=DEFAULT_ORG, bot_id=BOT, version=1,
                                   document=dump(parse(DOCUMENT))))
            for key in keys:
                session.add(ApiKey(id=new_id("key"), org_id=DEFAULT_ORG, name="bench", prefix=key[:12],
                                   key_hash=digest(key)))
    finally:
        await engine.dispose()
    return keys


async def run(
    ws_urls: list[str], keys: list[str], seconds: float, cpu: Callable[[], dict[int, tuple[str, float]]],
) -> tuple[float, float, float, int, dict[str, float]]:
    """Messages per second, p50 and p99 (ms), messages, CPU ms per message by process (net
    of what it spends idle). Chat i talks to gateway ``i % len(ws_urls)`` (a load balancer's
    round robin)."""
    sockets = [await connect(f"{ws_urls[index % len(ws_urls)]}/ws/agents/{BOT}", compression=None,
                             additional_headers={"Authorization": f"Bearer {key}"}) for index, key in enumerate(keys)]

    async def turn(socket, text: str) -> None:  # type: ignore[no-untyped-def]
        await socket.send(json.dumps({"type": "message", "content": text}))
        while True:
            event = json.loads(await socket.recv())
            if event["type"] == "message" and not event.get("more"):
                return
            if event["type"] == "error":
                raise RuntimeError(event["message"])

    await asyncio.gather(*(turn(socket, "warm") for socket in sockets))
    done = 0
    latencies: list[float] = []
    deadline = time.perf_counter() + seconds

    async def chat(socket) -> None:  # type: ignore[no-untyped-def]
        nonlocal done
        while time.perf_counter() < deadline:
            started = time.perf_counter()
            await turn(socket, "go")
            latencies.append((time.perf_counter() - started) * 1000)
            done += 1

    idle = await _idle_cpu(cpu)
    before = cpu()
    started = time.perf_counter()
    await asyncio.gather(*(chat(socket) for socket in sockets))
    elapsed = time.perf_counter() - started
    after = cpu()
    for socket in sockets:
        await socket.close()
    used = _used(before, after)
    per_message = {name: (spent - idle.get(name, 0.0) * elapsed) * 1000 / max(done, 1) for name, spent in used.items()}
    print("idle, CPU ms per second: " + ", ".join(f"{name} {ms * 1000:.0f}" for name, ms in sorted(idle.items())))
    return done / elapsed, percentile(latencies, 50), percentile(latencies, 99), done, per_message


IDLE_SECONDS = 2.0


async def _idle_cpu(cpu: Callable[[], dict[int, tuple[str, float]]]) -> dict[str, float]:
    """CPU seconds per second each kind of process spends with no message coming (timers,
    heartbeats, polling; the shared PostgreSQL writers and Redis, whatever else uses them):
    taken off what the run used, so a slow run does not look costlier per message."""
    before = cpu()
    await asyncio.sleep(IDLE_SECONDS)
    return {name: spent / IDLE_SECONDS for name, spent in _used(before, cpu()).items()}


def _used(before: dict[int, tuple[str, float]], after: dict[int, tuple[str, float]]) -> dict[str, float]:
    """CPU seconds used between two readings, by kind of process (one that ended in between,
    a database connection closed, is not counted)."""
    used: dict[str, float] = {}
    for pid, (name, total) in after.items():
        used[name] = used.get(name, 0.0) + total - before.get(pid, (name, 0.0))[1]
    ended = sum(1 for pid in before if pid not in after)
    if ended:
        print(f"({ended} processes ended meanwhile: their CPU time is not counted)")
    return used


def _spy(server: Server, seconds: float, out: str) -> subprocess.Popen:
    """py-spy on the process hosting the bot: the first worker, if any, else the gateway."""
    spy = shutil.which("py-spy") or os.path.join(os.path.dirname(sys.executable), "py-spy")
    if not os.path.exists(spy):
        sys.exit("py-spy is not installed: pip install -e \".[bench]\"")
    return subprocess.Popen([spy, "record", "--pid", str((server.workers or [server.process])[0].pid), "--rate", "200", "--duration",
                             str(max(1, int(seconds) - 1)), "--format", "raw", "--output", out],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--redis-url", required=True)
    parser.add_argument("--database-url", required=True, help="a PostgreSQL server (a scratch database is made)")
    parser.add_argument("--chats", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--rounds", type=int, default=1, help="timed rounds on the same server")
    parser.add_argument("--workers", type=int, default=0,
                        help="`agenthub worker` processes (the bot is then hosted in one, not in the gateway)")
    parser.add_argument("--gateways", type=int, default=1,
                        help="`agenthub serve` processes, the chats spread over them in turn (the bot is hosted in one)")
    parser.add_argument("--profile", default=None, help="py-spy the server during the last round into this file")
    args = parser.parse_args()
    print(machine())
    with scratch_database(args.database_url) as database, agenthub(
        redis_url=args.redis_url, database_url=database, workers=args.workers, gateways=args.gateways
    ) as server:
        assert database is not None
        keys = asyncio.run(prepare(database, args.chats))
        for index in range(args.rounds):
            spy = _spy(server, args.seconds, args.profile) if args.profile and index == args.rounds - 1 else None
            load = os.getloadavg()[0]
            ws_urls = [url.replace("http://", "ws://") for url in server.urls]
            rate, p50, p99, done, cpu = asyncio.run(run(ws_urls, keys, args.seconds,
                                                        lambda: process_cpu_by_pid(server, -1)))
            shares = ", ".join(f"{name} {ms:.2f}" for name, ms in sorted(cpu.items()))
            print(f"round {index + 1} (load {load:.1f}): {args.chats} chats, {done} messages: {rate:,.0f} messages/s, "
                  f"p50 {p50:.1f} ms, p99 {p99:.1f} ms; CPU ms per message: {shares}")
            if spy is not None:
                spy.wait()
    if args.profile:
        with open(args.profile) as raw:
            print(_summarise(raw.read()))


def _summarise(raw: str) -> str:
    """bench/profile.py's summary (loaded by its path: the standard library has a `profile`)."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("bench_profile", os.path.join(os.path.dirname(__file__), "profile.py"))
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return str(module.summarise(raw, 40))


if __name__ == "__main__":
    main()
