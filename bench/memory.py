"""Memory per idle agent, in a shared host and per runner process.

    python bench/memory.py [--agents 10000] [--redis-url redis://127.0.0.1:6379/0]

1. Shared: one AgentHost (what `agenthub worker` runs) on the Redis bus hosts N idle `fake`
   agents; reported is the growth of this process's resident memory divided by N.
2. Process: `agenthub serve` starts runner processes for a few `isolation: process` agents;
   reported is each runner's resident (RSS) and proportional (PSS) memory. Runners are forks
   of a warm fork server, so much of their RSS is shared pages; PSS counts shared pages
   divided among the processes that share them.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import os
import tempfile
import time
import uuid
from pathlib import Path

import httpx

from _harness import agenthub, create_agent, redis_available

PAGE = os.sysconf("SC_PAGE_SIZE")


def rss_bytes(pid: int | str = "self") -> int:
    return int(Path(f"/proc/{pid}/statm").read_text().split()[1]) * PAGE


def pss_bytes(pid: int) -> int:
    for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
        if line.startswith("Pss:"):
            return int(line.split()[1]) * 1024
    return 0


async def shared_host(agents: int, redis_url: str) -> dict:
    from agenthub.agents.models import Agent
    from agenthub.bus import open_bus
    from agenthub.config import Settings
    from agenthub.db import migrate
    from agenthub.db.engine import create_engine, create_session_factory, session_scope
    from agenthub.engines.registry import build_engines
    from agenthub.runtime.assembly import build_host

    scratch = tempfile.mkdtemp(prefix="agenthub-mem-")
    settings = Settings(_env_file=None, redis_url=redis_url, redis_key_prefix=f"bench:{uuid.uuid4().hex[:8]}:",
                        data_dir=Path(scratch), agent_runner_heartbeat_interval=5)
    engine = create_engine(settings.effective_database_url)
    await migrate.upgrade(engine)
    sessions = create_session_factory(engine)
    ids = [f"idle-{i:05d}" for i in range(agents)]
    async with session_scope(sessions) as session:
        session.add_all(Agent(id=agent_id, org_id="default", name=agent_id, kind="llm", config_version=1,
                              settings={"provider": "fake", "model_id": "demo", "isolation": "shared",
                                        "system_prompt": "", "temperature": 0.7, "base_url": None,
                                        "integrations": []}) for agent_id in ids)
    bus = open_bus(settings.redis_url, prefix=settings.redis_key_prefix)
    host = build_host(host_id="bench-worker", role="worker", bus=bus, session_factory=sessions, settings=settings,
                      engines=build_engines(settings, sessions))
    await host.start()
    await host.host(ids[0])  # pay one-time costs (first query, first reader) before measuring
    gc.collect()
    before = rss_bytes()
    started = time.perf_counter()
    for agent_id in ids[1:]:
        await host.host(agent_id)
    hosting_s = time.perf_counter() - started
    await asyncio.sleep(1)
    gc.collect()
    after = rss_bytes()
    per_agent = (after - before) / (agents - 1)
    await host.close()
    await bus.close()
    await engine.dispose()
    return {"agents": agents, "rss_growth_mb": (after - before) / 2**20, "per_agent_kb": per_agent / 1024,
            "host_time_s": hosting_s}


def runner_processes(redis_url: str, count: int) -> dict:
    with agenthub(redis_url=redis_url, database_url=None) as server:
        pids = []
        for i in range(count):
            agent_id = f"mem-proc-{i}"
            create_agent(server, agent_id=agent_id, isolation="process")
            httpx.post(f"{server.url}/api/v1/agents/{agent_id}/start", headers=server.headers, timeout=30).raise_for_status()
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline:
                status = httpx.get(f"{server.url}/api/v1/agents/{agent_id}/status", headers=server.headers, timeout=5).json()
                if status["status"] == "running":
                    pids.append(status["pid"])
                    break
                time.sleep(0.05)
        time.sleep(1)
        rss = [rss_bytes(pid) for pid in pids]
        pss = [pss_bytes(pid) for pid in pids]
    return {"runners": len(pids), "rss_mb": sum(rss) / len(rss) / 2**20, "pss_mb": sum(pss) / len(pss) / 2**20}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--agents", type=int, default=10_000)
    parser.add_argument("--runners", type=int, default=4)
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/0")
    args = parser.parse_args()
    if not redis_available(args.redis_url):
        raise SystemExit(f"Redis at {args.redis_url} is not reachable")
    shared = asyncio.run(shared_host(args.agents, args.redis_url))
    print(json.dumps({"shared": shared}))
    process = runner_processes(args.redis_url, args.runners)
    print(json.dumps({"process": process}))
    print("| measure | result |")
    print("|---|---|")
    print(f"| idle agents hosted in one shared worker | {shared['agents']} (hosted in {shared['host_time_s']:.1f} s) |")
    print(f"| memory per idle agent in a shared worker | {shared['per_agent_kb']:.1f} KB |")
    print(f"| memory per runner process (RSS / PSS) | {process['rss_mb']:.1f} MB / {process['pss_mb']:.1f} MB |")


if __name__ == "__main__":
    main()
