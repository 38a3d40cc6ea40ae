"""A worker's listeners survive being idle on Redis for longer than the Redis client's socket
timeout (5 s by default in redis-py): blocking reads must end before the socket gives up."""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import AsyncIterator

import pytest

from agenthub.bus import Bus, keys, open_bus
from agenthub.engines.registry import build_engines
from agenthub.runtime.assembly import build_host
from agenthub.runtime.host import new_host_id
from agenthub.runtime.tasks import stop_tasks
from agenthub.runtime.worker_main import ControlListener
from tests.runtime.helpers import create_agent_row, eventually, migrated_sessions, said
from tests.support.server import make_settings

pytestmark = [pytest.mark.redis]
IDLE = 6.0
"""Longer than redis-py's default socket timeout."""


@pytest.fixture
async def redis_bus(redis_server_url: str, redis_prefix: str) -> AsyncIterator[Bus]:
    bus = open_bus(redis_server_url, prefix=redis_prefix)
    yield bus
    await bus.close()


async def test_idle_worker_still_takes_agents_and_answers(
    redis_bus: Bus, sqlite_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    engine, sessions = await migrated_sessions(sqlite_url)
    await create_agent_row(sessions, "early")
    await create_agent_row(sessions, "late")
    settings = make_settings(database_url=sqlite_url)
    host = build_host(
        host_id=new_host_id("worker"), role="worker", bus=redis_bus, session_factory=sessions, settings=settings,
        engines=build_engines(settings, sessions),
    )
    control = ControlListener(redis_bus, host)
    await control.setup()
    await host.start()
    listening = asyncio.create_task(control.run())
    output = await redis_bus.subscribe(keys.agent_output("early"), keys.agent_output("late"))
    try:
        await redis_bus.add(keys.host_control(host.host_id), {"op": "host", "agent_id": "early"})
        await eventually(lambda: "early" in host.agents, what="the first agent to be hosted")

        with caplog.at_level(logging.WARNING, logger="agenthub"):
            await asyncio.sleep(IDLE)
        assert not listening.done(), f"the control listener died: {listening}"
        assert [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR] == []

        await redis_bus.add(keys.host_control(host.host_id), {"op": "host", "agent_id": "late"})
        await eventually(lambda: "late" in host.agents, what="a command after the idle time to be carried out")

        for agent_id in ("early", "late"):
            message_id = uuid.uuid4().hex
            await redis_bus.add(keys.agent_input(agent_id), {
                "message_id": message_id, "agent_id": agent_id, "chat_id": "c", "text": "ping",
                "platform_user_id": None, "user_data": {}, "channel": "web",
            })

            async def answered(message_id: str = message_id) -> dict | None:
                event = await output.get(timeout=0.2)
                ok = event is not None and event.get("reply_to") == message_id and event["type"] == "message"
                return event if ok else None

            reply = await eventually(answered, timeout=5.0, interval=0, what=f"{agent_id} to answer")
            assert reply["response"] == said("ping", 1)
    finally:
        await output.close()
        await stop_tasks([listening])
        await host.close()
        await engine.dispose()
