"""``isolation: shared`` with Redis: agents run as tasks in pooled ``agenthub worker``
processes (real subprocesses), spread over the workers, and move when a worker dies."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from agenthub.bus import Bus, keys, open_bus
from tests.runtime.helpers import DEADLINE, chat, create_agent, eventually, get_status, said, wait_status
from tests.support.server import make_settings, running_app

pytestmark = [pytest.mark.redis]
AGENTHUB = Path(sys.executable).with_name("agenthub")


@dataclass
class Worker:
    process: asyncio.subprocess.Process
    log: Path
    host_id: str = ""

    @property
    def pid(self) -> int:
        return self.process.pid


async def start_worker(env: dict[str, str], log: Path, *options: str) -> Worker:
    with log.open("wb") as out:
        process = await asyncio.create_subprocess_exec(
            str(AGENTHUB), "worker", *options, env=env, cwd=log.parent, stdout=out, stderr=out,
        )
    return Worker(process, log)


async def stop_worker(worker: Worker) -> None:
    if worker.process.returncode is not None:
        return
    worker.process.send_signal(signal.SIGTERM)
    try:
        await asyncio.wait_for(worker.process.wait(), 15)
    except TimeoutError:
        worker.process.kill()
        await worker.process.wait()


@pytest.fixture
async def redis_bus(redis_server_url: str, redis_prefix: str) -> AsyncIterator[Bus]:
    bus = open_bus(redis_server_url, prefix=redis_prefix)
    yield bus
    await bus.close()


async def live_workers(bus: Bus) -> dict[int, str]:
    """pid -> host id of every ``agenthub worker`` with a heartbeat."""
    members = sorted(await bus.set_members(keys.WORKERS_SET))
    beats = await bus.get_many([keys.host_heartbeat(member) for member in members])
    return {beat["pid"]: member for member, beat in zip(members, beats, strict=True) if beat}


async def test_shared_agents_spread_over_workers_and_move_when_one_dies(
    migrated_postgres_url: str, redis_server_url: str, redis_prefix: str, redis_bus: Bus, tmp_path: Path
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
    workers = [await start_worker(env, tmp_path / f"worker-{n}.log") for n in range(2)]
    try:
        registered = await eventually(
            lambda: _both_registered(redis_bus, workers), timeout=30.0, what="two workers to register"
        )
        for worker in workers:
            worker.host_id = registered[worker.pid]
            assert worker.host_id.startswith("worker-")

        settings = make_settings(
            database_url=migrated_postgres_url, redis_url=redis_server_url, redis_prefix=redis_prefix
        )
        async with running_app(settings) as app, httpx.AsyncClient(base_url=app.url, headers=app.headers, timeout=60) as client:
            agents = [await create_agent(client, f"pooled-{n}", isolation="shared") for n in range(4)]
            for agent_id in agents:
                response = await client.post(f"/api/v1/agents/{agent_id}/start")
                assert response.status_code == 200, response.text
            placed = {
                agent_id: await wait_status(
                    client, agent_id,
                    lambda s: s["status"] == "running" and (s["host_id"] or "").startswith("worker-"),
                    what="the agent to run on a worker",
                )
                for agent_id in agents
            }
            by_worker = {worker.host_id: [a for a, s in placed.items() if s["host_id"] == worker.host_id] for worker in workers}
            assert all(by_worker.values()), f"both workers take agents: {by_worker}"
            for status in placed.values():
                worker = next(w for w in workers if w.host_id == status["host_id"])
                assert status["pid"] == worker.pid and status["isolation"] == "shared"
                assert status["placement"] == "worker"

            chats = {}
            for agent_id in agents:
                reply = await chat(client, agent_id, f"hi {agent_id}")
                assert reply.content == said(f"hi {agent_id}", 1)
                chats[agent_id] = reply.chat_id

            doomed, survivor = workers
            orphans = by_worker[doomed.host_id]
            doomed.process.kill()
            await doomed.process.wait()
            # Sent while its worker is dead: answered once the agent runs elsewhere.
            in_the_gap = asyncio.create_task(chat(client, orphans[0], "anyone?", chat_id=chats[orphans[0]]))

            for agent_id in orphans:
                moved = await wait_status(
                    client, agent_id,
                    lambda s: s["status"] == "running" and s["host_id"] not in (None, doomed.host_id),
                    timeout=DEADLINE + 5, what="the agent to be restarted elsewhere",
                )
                assert moved["host_id"] in (survivor.host_id, app.app.state.supervisor._local.host_id)
                assert moved["restart_count"] == 1
            gap_reply = await asyncio.wait_for(in_the_gap, 40)
            assert gap_reply.content == said("anyone?", 2)

            for agent_id in orphans[1:]:
                reply = await chat(client, agent_id, "after the move", chat_id=chats[agent_id])
                assert reply.content == said("after the move", 2)
            for agent_id in by_worker[survivor.host_id]:
                assert (await get_status(client, agent_id))["restart_count"] == 0, "untouched"
                reply = await chat(client, agent_id, "you too", chat_id=chats[agent_id])
                assert reply.content == said("you too", 2)

            # The surviving worker stops cleanly on SIGTERM.
            survivor.process.send_signal(signal.SIGTERM)
            assert await asyncio.wait_for(survivor.process.wait(), 15) == 0, survivor.log.read_text()[-3000:]
    finally:
        for worker in workers:
            await stop_worker(worker)


async def _both_registered(bus: Bus, workers: list[Worker]) -> dict[int, str] | None:
    for worker in workers:
        if worker.process.returncode is not None:
            raise AssertionError(f"worker exited early:\n{worker.log.read_text()[-3000:]}")
    live = await live_workers(bus)
    return live if all(worker.pid in live for worker in workers) else None


@pytest.mark.parametrize("queues", [True, False])
async def test_a_worker_stores_the_history_queue_only_when_asked(
    migrated_postgres_url: str, redis_server_url: str, redis_prefix: str, redis_bus: Bus, tmp_path: Path,
    queues: bool,
) -> None:
    """No gateway runs: an answer waiting on ``history_queue`` is stored by a worker started
    with ``--queues``; a plain worker leaves it for the gateways."""
    from sqlalchemy import select

    from agenthub.chats.models import ChatMessage
    from tests.runtime.helpers import create_agent_row, migrated_sessions

    engine, sessions = await migrated_sessions(migrated_postgres_url)
    await create_agent_row(sessions, "scribe")
    await redis_bus.add(keys.HISTORY_QUEUE, {
        "message_id": "answer-1", "reply_to": "question-1", "org_id": "default", "agent_id": "scribe",
        "chat_id": "c1", "position": 3, "role": "assistant", "content": "stored by a worker", "channel": "web",
    })
    env = {**os.environ, "DATABASE_URL": migrated_postgres_url, "REDIS_URL": redis_server_url,
           "REDIS_KEY_PREFIX": redis_prefix, "LOG_JSON": "false"}
    worker = await start_worker(env, tmp_path / "worker.log", *(["--queues"] if queues else []))

    async def stored() -> list[str]:
        async with sessions() as session:
            return list(await session.scalars(select(ChatMessage.content)))

    try:
        await eventually(lambda: live_workers(redis_bus), timeout=30.0, what="the worker to register")
        if queues:
            assert await eventually(stored, what="the answer to be stored") == ["stored by a worker"]
        else:
            # Registered, so set up: it joined no queue's consumer group, and nothing of the
            # queue was read.
            assert await _history_groups(redis_server_url, redis_prefix) == []
            assert await stored() == []
    finally:
        await stop_worker(worker)
        await engine.dispose()


async def _history_groups(redis_url: str, prefix: str) -> list[dict]:
    """The consumer groups reading the history queue (queue workers create theirs at set-up)."""
    import redis.asyncio as aioredis

    client = aioredis.Redis.from_url(redis_url)
    try:
        return await client.xinfo_groups(prefix + keys.HISTORY_QUEUE)
    finally:
        await client.aclose()
