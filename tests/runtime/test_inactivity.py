"""Scale to zero: an agent idle for AGENT_INACTIVITY_TIMEOUT is stopped by the inactivity
monitor, and the next message starts it again."""

from __future__ import annotations

import asyncio
import time

import httpx

from tests.runtime.helpers import chat, create_agent, eventually, get_status, pid_alive, said, wait_status
from tests.support.server import make_settings, running_app


async def test_idle_agent_is_stopped_and_the_next_message_starts_it_again(sqlite_url: str) -> None:
    settings = make_settings(
        database_url=sqlite_url, agent_inactivity_timeout=2.0, agent_inactivity_check_interval=0.2
    )
    async with running_app(settings) as app, httpx.AsyncClient(base_url=app.url, headers=app.headers, timeout=60) as client:
        agent_id = await create_agent(client, "sleeper", isolation="shared")
        first = await chat(client, agent_id, "hello")
        assert first.started_agent and first.content == said("hello", 1)

        # Kept busy for longer than the timeout: it stays up.
        for n in range(2, 6):
            await asyncio.sleep(0.5)
            reply = await chat(client, agent_id, f"busy {n}", chat_id=first.chat_id)
            assert not reply.started_agent, f"stopped while in use (message {n})"
            assert reply.content == said(f"busy {n}", n)
        last_answer = time.monotonic()

        stopped = await wait_status(client, agent_id, lambda s: s["status"] == "stopped", what="the idle stop")
        assert time.monotonic() - last_answer >= 1.0, "stopped only once idle"
        assert stopped["pid"] is None and stopped["host_id"] is None
        assert agent_id not in app.app.state.supervisor.managed

        again = await chat(client, agent_id, "back?", chat_id=first.chat_id)
        assert again.started_agent
        assert again.content == said("back?", 6), "the conversation survives the stop"
        assert (await get_status(client, agent_id))["status"] == "running"


async def test_idle_runner_process_is_stopped_and_started_again(
    sqlite_url: str, redis_server_url: str, redis_prefix: str
) -> None:
    settings = make_settings(
        database_url=sqlite_url, redis_url=redis_server_url, redis_prefix=redis_prefix,
        agent_inactivity_timeout=1.0, agent_inactivity_check_interval=0.2,
    )
    async with running_app(settings) as app, httpx.AsyncClient(base_url=app.url, headers=app.headers, timeout=60) as client:
        agent_id = await create_agent(client, "idle-runner", isolation="process")
        first = await chat(client, agent_id, "hello")
        assert first.started_agent and first.content == said("hello", 1)
        status = await wait_status(client, agent_id, lambda s: s["status"] == "running")
        pid = status["pid"]
        assert pid_alive(pid)

        await wait_status(client, agent_id, lambda s: s["status"] == "stopped", what="the idle stop")
        # The status says stopped once the runner has said goodbye (its heartbeat gone); the
        # process exits right after.
        await eventually(lambda: not pid_alive(pid), what="the runner process to exit")

        again = await chat(client, agent_id, "back?", chat_id=first.chat_id)
        assert again.started_agent
        assert again.content == said("back?", 2)
        restarted = await wait_status(client, agent_id, lambda s: s["status"] == "running")
        assert restarted["pid"] != pid and pid_alive(restarted["pid"])
        assert restarted["restart_count"] == 0, "a stop and a start is not a crash"
