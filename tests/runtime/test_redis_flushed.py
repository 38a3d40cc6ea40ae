"""Redis restarted empty (no persistence): every consumer group is gone, and so are the
workers' registrations. Everything recovers by itself: groups are created again by the
next read, workers register again, and messages sent afterwards are answered and stored.
The test empties only its own keys (its prefix), as a restart would empty them all."""

from __future__ import annotations

import os
from pathlib import Path

import httpx
import pytest
import redis.asyncio as aioredis

from agenthub.bus import Bus, keys
from tests.runtime.helpers import chat, create_agent, eventually, said, wait_status
from tests.runtime.test_worker_pool import live_workers, redis_bus, start_worker, stop_worker  # noqa: F401
from tests.support.server import make_settings, running_app

pytestmark = [pytest.mark.redis]


async def flush_prefix(redis_url: str, prefix: str) -> int:
    """Delete every key of this test (and nothing else); returns how many."""
    client = aioredis.Redis.from_url(redis_url)
    try:
        doomed = [key async for key in client.scan_iter(match=f"{prefix}*", count=1000)]
        if doomed:
            await client.delete(*doomed)
        return len(doomed)
    finally:
        await client.aclose()


async def history(client: httpx.AsyncClient, agent_id: str, chat_id: str) -> list[str]:
    response = await client.get(f"/api/v1/agents/{agent_id}/chats/{chat_id}/messages")
    return [message["content"] for message in response.json()["items"]]


async def test_everything_recovers_after_redis_lost_its_data(
    migrated_postgres_url: str, redis_server_url: str, redis_prefix: str, redis_bus: Bus,  # noqa: F811
    tmp_path: Path,
) -> None:
    env = {
        **os.environ,
        "DATABASE_URL": migrated_postgres_url,
        "REDIS_URL": redis_server_url,
        "REDIS_KEY_PREFIX": redis_prefix,
        "AGENT_RUNNER_HEARTBEAT_INTERVAL": "0.5",
        "STOP_GRACE_PERIOD": "2",
        "LOG_JSON": "false",
    }
    worker = await start_worker(env, tmp_path / "worker.log")
    try:
        [host_id] = (await eventually(lambda: live_workers(redis_bus), timeout=30.0, what="the worker")).values()
        settings = make_settings(
            database_url=migrated_postgres_url, redis_url=redis_server_url, redis_prefix=redis_prefix
        )
        async with running_app(settings) as app, httpx.AsyncClient(base_url=app.url, timeout=30, headers=app.headers) as client:
            pooled = await create_agent(client, "pooled", isolation="shared")
            local = await create_agent(client, "local", isolation="shared")
            assert (await client.post(f"/api/v1/agents/{pooled}/start")).status_code == 200
            await wait_status(client, pooled, lambda s: s["status"] == "running" and s["host_id"] == host_id)
            first = {agent_id: await chat(client, agent_id, "before") for agent_id in (pooled, local)}
            for agent_id, reply in first.items():
                assert reply.content == said("before", 1)
                # Both the message and its answer stored: what is still on a queue when Redis
                # loses its data is lost with it (the README says so).
                await eventually(
                    lambda a=agent_id, r=reply: _count(history(client, a, r.chat_id), 2), what="stored"
                )

            assert await flush_prefix(redis_server_url, redis_prefix) > 0

            # The worker puts itself back on the list of workers.
            await eventually(lambda: _registered(redis_bus, host_id), what="the worker to register again")
            for agent_id, reply in first.items():
                after = await chat(client, agent_id, "after", chat_id=reply.chat_id)
                assert after.content == said("after", 2)
                stored = await eventually(
                    lambda a=agent_id, r=reply: _count(history(client, a, r.chat_id), 4),
                    what="the answers after the flush stored",
                )
                assert stored == ["before", said("before", 1), "after", said("after", 2)]
            # A new chat, and a new agent, work too.
            fresh = await create_agent(client, "fresh", isolation="shared")
            assert (await chat(client, fresh, "hello")).content == said("hello", 1)
    finally:
        await stop_worker(worker)
        assert "Traceback" not in (tmp_path / "worker.log").read_text(), (tmp_path / "worker.log").read_text()[-3000:]


async def _registered(bus: Bus, host_id: str) -> bool:
    return host_id in await bus.set_members(keys.WORKERS_SET)


async def _count(messages, n: int) -> list[str] | None:  # type: ignore[no-untyped-def]
    found = await messages
    return found if len(found) >= n else None
