"""Where a turn's CPU goes: py-spy samples the process that runs the agent while chats load it.

    python bench/profile.py [--setup embedded|runner] [--model http|fake] [--transport ws|sse]
                            [--chats 8] [--seconds 8] [--rate 500] [--out profile.txt]
                            [--process agent|gateway]

Starts the model server and AgentHub as bench/turns.py does, keeps ``--chats`` chats busy,
and records the agent's process (the gateway when embedded, the runner process otherwise;
``--process gateway``: the gateway in either setup) with py-spy (``pip install py-spy``).
Prints the share of the busy samples of the process's main thread by package (the frame
nearest the leaf that belongs to a known package) and by function (inclusive), and writes
the raw collapsed stacks to ``--out`` for a flame graph.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import os
import shutil
import subprocess
import sys
import time

import aiohttp
from turns import _chat_factory, _process_table

from _harness import (
    FAKE_MODEL,
    agenthub,
    create_agent,
    http_model,
    model_server,
    redis_available,
    scratch_database,
)

PACKAGES = [
    ("agenthub", "/agenthub/"), ("openai SDK", "/openai/"), ("langchain-openai", "/langchain_openai/"),
    ("langchain-core", "/langchain_core/"), ("langgraph", "/langgraph/"), ("httpx/httpcore", "/httpcore"), ("aiohttp", "/aiohttp/"), ("aiohttp", "/yarl/"), ("aiohttp", "/multidict/"),
    ("httpx/httpcore", "/httpx"), ("pydantic", "/pydantic"), ("redis-py", "/redis/"), ("sqlalchemy", "/sqlalchemy/"),
    ("asyncpg", "/asyncpg/"), ("aiosqlite", "/aiosqlite/"), ("uvicorn/starlette/fastapi", "/uvicorn/"),
    ("uvicorn/starlette/fastapi", "/starlette/"), ("uvicorn/starlette/fastapi", "/fastapi/"),
    ("websockets", "/websockets/"), ("orjson/json", "json/"), ("asyncio", "asyncio/"),
]
IDLE_LEAVES = ("select (", "epoll", "poll (", "Runner.run (asyncio/runners.py")


def _package(frame: str) -> str | None:
    location = frame.split(" (", 1)[1] if " (" in frame else ""
    for name, marker in PACKAGES:
        if marker in "/" + location:
            return name
    return None


def summarise(raw: str, top: int) -> str:
    by_package: collections.Counter[str] = collections.Counter()
    by_function: collections.Counter[str] = collections.Counter()
    busy = 0
    for line in raw.splitlines():
        stack, _, count = line.rpartition(" ")
        frames = stack.split(";")
        if not frames or frames[0].startswith("Thread.") or frames[-1].startswith(IDLE_LEAVES):
            continue  # other threads (SQLite's, the executor's) and the idle loop
        samples = int(count)
        busy += samples
        owner = next((p for p in map(_package, reversed(frames)) if p), "other")
        by_package[owner] += samples
        for function in {f.split(" (")[0] + " (" + f.split(" (")[1].split(":")[0].rsplit("/", 2)[-2] + ")"
                         for f in frames if " (" in f and "/" in f}:
            by_function[function] += samples
    lines = [f"busy samples of the main thread: {busy}", "", "| package (self time) | share |", "|---|---|"]
    lines += [f"| {name} | {count * 100 / busy:.1f} % |" for name, count in by_package.most_common()]
    lines += ["", "| function (inclusive) | share |", "|---|---|"]
    lines += [f"| `{name}` | {count * 100 / busy:.1f} % |" for name, count in by_function.most_common(top)]
    return "\n".join(lines)


async def load(open_chat, chats: int, seconds: float) -> int:  # type: ignore[no-untyped-def]
    sessions = [await open_chat(i) for i in range(chats)]
    for session in sessions:
        await session.turn("warm")
    deadline = time.perf_counter() + seconds
    done = 0

    async def run(chat) -> None:  # type: ignore[no-untyped-def]
        nonlocal done
        while time.perf_counter() < deadline:
            await chat.turn("hello")
            done += 1

    await asyncio.gather(*(run(s) for s in sessions))
    for session in sessions:
        await session.close()
    return done


def _runner_pid(gateway_pid: int) -> int:
    """The runner process that the gateway started (through its fork server)."""
    table = _process_table()
    for pid, (_, _, command) in table.items():
        ancestor = pid
        while command.startswith("agenthub runner") and ancestor > 1:
            ancestor = table[ancestor][0] if ancestor in table else 0
            if ancestor == gateway_pid:
                return pid
    raise RuntimeError(f"no runner process under {gateway_pid}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--setup", choices=["embedded", "runner"], default="embedded")
    parser.add_argument("--model", choices=["http", "fake"], default="http")
    parser.add_argument("--transport", choices=["ws", "sse"], default="ws")
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/0")
    parser.add_argument("--database-url", default=None)
    parser.add_argument("--chats", type=int, default=8)
    parser.add_argument("--seconds", type=float, default=8.0)
    parser.add_argument("--rate", type=int, default=500, help="py-spy samples per second")
    parser.add_argument("--top", type=int, default=30)
    parser.add_argument("--out", default="profile.txt")
    parser.add_argument("--process", choices=["agent", "gateway"], default="agent",
                        help="sample the process running the agent (default) or the gateway")
    args = parser.parse_args()
    spy = shutil.which("py-spy") or os.path.join(os.path.dirname(sys.executable), "py-spy")
    if not os.path.exists(spy):
        sys.exit("py-spy is not installed: pip install -e \".[bench]\"")
    redis = args.setup == "runner"
    if redis and not redis_available(args.redis_url):
        sys.exit(f"Redis at {args.redis_url} is not reachable")
    with model_server() as (model_url, _), scratch_database(args.database_url if redis else None) as database, \
            agenthub(redis_url=args.redis_url if redis else None, database_url=database) as server:
        agent_id = f"profile-{args.model}"
        create_agent(server, agent_id=agent_id, isolation="process" if redis else "shared",
                     model=FAKE_MODEL if args.model == "fake" else http_model(model_url))

        async def warm_and_load(seconds: float) -> int:
            async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=60)) as http:
                open_chat = _chat_factory(args.transport, server, [agent_id], model_url, http)
                return await load(open_chat, args.chats, seconds)

        asyncio.run(warm_and_load(1.0))
        runner = redis and args.process == "agent"
        target = _runner_pid(server.process.pid) if runner else server.process.pid
        recorder = subprocess.Popen([spy, "record", "--pid", str(target), "--rate", str(args.rate), "--duration",
                                     str(int(args.seconds)), "--format", "raw", "--idle", "--output", args.out],
                                    stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        turns = asyncio.run(warm_and_load(args.seconds + 1.0))
        recorder.wait()
    with open(args.out) as raw:
        print(f"{args.setup}, `{args.model}` model, {args.transport}, {args.chats} chats: {turns} turns; "
              f"process {'runner' if runner else 'gateway'}")
        print(summarise(raw.read(), args.top))


if __name__ == "__main__":
    main()
