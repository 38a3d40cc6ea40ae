"""``isolation: process`` with Redis: every agent in a runner process of its own, started,
watched, restarted and stopped by the supervisor. Real runner processes, real Redis, real
SQLite / PostgreSQL."""

from __future__ import annotations

import asyncio
import json
import math
import os
import signal
import socket
from datetime import datetime

import httpx
import pytest
import redis.asyncio as aioredis

from agenthub.bus import keys, open_bus
from tests.runtime.helpers import (
    SupervisorPasses,
    chat,
    create_agent,
    eventually,
    get_status,
    pid_alive,
    process_state,
    said,
    start_runner_on,
    wait_status,
)
from tests.support import ws
from tests.support.server import make_settings, running_app

pytestmark = [pytest.mark.redis]


def _running(status: dict) -> bool:
    return status["status"] == "running" and bool(status["pid"])


async def test_runner_process_starts_answers_and_comes_back_after_a_crash(
    migrated_postgres_url: str, redis_server_url: str, redis_prefix: str
) -> None:
    settings = make_settings(
        database_url=migrated_postgres_url, redis_url=redis_server_url, redis_prefix=redis_prefix
    )
    async with running_app(settings) as app, httpx.AsyncClient(base_url=app.url, headers=app.headers, timeout=60) as client:
        agent_id = await create_agent(client, "isolated", isolation="process")
        assert (await get_status(client, agent_id))["status"] == "stopped"

        started = await client.post(f"/api/v1/agents/{agent_id}/start")
        assert started.status_code == 200, started.text
        assert started.json()["status"] == "starting"

        status = await wait_status(client, agent_id, _running, what="the runner to report running")
        pid = status["pid"]
        assert pid != os.getpid() and pid_alive(pid)
        assert status["isolation"] == "process"
        assert status["placement"] == "process"
        assert status["host"] == socket.gethostname()
        assert status["host_id"].startswith(f"runner-{agent_id}-")
        assert status["restart_count"] == 0
        first_beat = datetime.fromisoformat(status["last_heartbeat"])  # ISO-8601, as every time the API shows
        await wait_status(
            client, agent_id,
            lambda s: s["last_heartbeat"] is not None and datetime.fromisoformat(s["last_heartbeat"]) > first_beat,
            what="the heartbeat to advance",
        )

        reply = await chat(client, agent_id, "hello")
        assert reply.content == said("hello", 1)
        assert not reply.started_agent
        assert (await get_status(client, agent_id))["pid"] == pid, "answered by the same runner"

        old_host = status["host_id"]
        os.kill(pid, signal.SIGKILL)
        status = await wait_status(
            client, agent_id, lambda s: _running(s) and s["pid"] != pid,
            what="the supervisor to restart the killed runner",
        )
        assert status["restart_count"] == 1
        redis = aioredis.Redis.from_url(redis_server_url)
        try:
            leftovers = [key async for key in redis.scan_iter(match=f"{redis_prefix}host:{{{old_host}}}:*")]
        finally:
            await redis.aclose()
        assert leftovers == [], "the dead runner's keys are cleaned up"
        assert pid_alive(status["pid"]) and not pid_alive(pid)
        assert status["host_id"].startswith(f"runner-{agent_id}-")

        again = await chat(client, agent_id, "still there?", chat_id=reply.chat_id)
        assert again.content == said("still there?", 2), "the new runner knows the conversation"


async def test_runner_that_keeps_crashing_ends_in_error_and_stays_down(
    sqlite_url: str, redis_server_url: str, redis_prefix: str
) -> None:
    settings = make_settings(
        database_url=sqlite_url, redis_url=redis_server_url, redis_prefix=redis_prefix,
        max_restart_attempts=1,
    )
    async with running_app(settings) as app, httpx.AsyncClient(base_url=app.url, headers=app.headers, timeout=60) as client:
        agent_id = await create_agent(client, "fragile", isolation="process")
        assert (await client.post(f"/api/v1/agents/{agent_id}/start")).status_code == 200
        first = await wait_status(client, agent_id, _running, what="the first runner")

        os.kill(first["pid"], signal.SIGKILL)
        second = await wait_status(
            client, agent_id, lambda s: _running(s) and s["pid"] != first["pid"],
            what="the one restart allowed",
        )
        assert second["restart_count"] == 1

        os.kill(second["pid"], signal.SIGKILL)
        failed = await wait_status(
            client, agent_id, lambda s: s["status"] == "error", what="the agent to fail for good"
        )
        assert "killed by SIGKILL" in failed["error"]
        assert "gave up after 1 restarts" in failed["error"]
        assert failed["pid"] is None
        assert not pid_alive(second["pid"])

        # Several supervisor passes later, past the longest backoff, it is still down: no
        # runner was started again.
        passes = SupervisorPasses(app.app.state.supervisor)
        await passes.wait(5 + math.ceil(settings.restart_backoff_max / settings.process_check_interval))
        later = await get_status(client, agent_id)
        assert later["status"] == "error" and later["pid"] is None
        assert later["restart_count"] == failed["restart_count"]
        assert agent_id not in app.app.state.supervisor.managed

        # A user's message does not bring it back (tests/runtime/test_crash_loop.py); a start does.
        refused = await client.post(f"/api/v1/agents/{agent_id}/chat", json={"content": "are you back?"})
        assert refused.status_code == 409 and refused.json()["error"]["code"] == "agent_failed"
        assert (await client.post(f"/api/v1/agents/{agent_id}/start")).status_code == 200
        reply = await chat(client, agent_id, "are you back?")
        assert reply.content == said("are you back?", 1)
        assert (await get_status(client, agent_id))["status"] == "running"


async def test_runner_that_stops_heartbeating_is_killed_and_replaced(
    sqlite_url: str, redis_server_url: str, redis_prefix: str
) -> None:
    settings = make_settings(database_url=sqlite_url, redis_url=redis_server_url, redis_prefix=redis_prefix)
    async with running_app(settings) as app, httpx.AsyncClient(base_url=app.url, headers=app.headers, timeout=60) as client:
        agent_id = await create_agent(client, "sleepy", isolation="process")
        first = await chat(client, agent_id, "one")
        assert first.started_agent and first.content == said("one", 1)
        status = await wait_status(client, agent_id, _running)
        frozen = status["pid"]

        os.kill(frozen, signal.SIGSTOP)
        try:
            await eventually(lambda: process_state(frozen) == "T", what="the runner to be stopped")
            # Sent while the runner hangs: its replacement answers it.
            pending = asyncio.create_task(chat(client, agent_id, "two", chat_id=first.chat_id))
            replaced = await wait_status(
                client, agent_id, lambda s: _running(s) and s["pid"] != frozen,
                timeout=20.0, what="the silent runner to be replaced",
            )
            assert replaced["restart_count"] == 1
            assert not pid_alive(frozen), "the silent runner was killed"
            reply = await asyncio.wait_for(pending, 30)
            assert reply.content == said("two", 2)
            assert not reply.of("error")
        finally:
            try:
                os.kill(frozen, signal.SIGCONT)
            except ProcessLookupError:
                pass


async def test_stop_is_graceful_and_force_stop_kills_at_once(
    sqlite_url: str, redis_server_url: str, redis_prefix: str
) -> None:
    settings = make_settings(database_url=sqlite_url, redis_url=redis_server_url, redis_prefix=redis_prefix)
    async with running_app(settings) as app, httpx.AsyncClient(base_url=app.url, headers=app.headers, timeout=60) as client:
        supervisor = app.app.state.supervisor
        agent_id = await create_agent(client, "stoppable", isolation="process")
        assert (await chat(client, agent_id, "hi")).content == said("hi", 1)
        pid = (await wait_status(client, agent_id, _running))["pid"]
        process = supervisor.managed[agent_id].process

        stopped = await client.post(f"/api/v1/agents/{agent_id}/stop")
        assert stopped.status_code == 200, stopped.text
        assert stopped.json()["status"] == "stopped"
        assert process.exitcode == 0, "SIGTERM ends the runner cleanly"
        await eventually(lambda: not pid_alive(pid), what="the runner's pid to be gone")
        status = await get_status(client, agent_id)
        assert status["status"] == "stopped" and status["pid"] is None
        await SupervisorPasses(supervisor).wait(3)
        assert (await get_status(client, agent_id))["status"] == "stopped", "no restart after a stop"

        assert (await client.post(f"/api/v1/agents/{agent_id}/start")).status_code == 200
        pid = (await wait_status(client, agent_id, _running))["pid"]
        process = supervisor.managed[agent_id].process

        killed = await client.post(f"/api/v1/agents/{agent_id}/stop", params={"force": "true"})
        assert killed.status_code == 200, killed.text
        assert killed.json()["status"] == "stopped"
        assert process.exitcode == -signal.SIGKILL
        await eventually(lambda: not pid_alive(pid), what="the runner's pid to be gone")
        assert (await get_status(client, agent_id))["status"] == "stopped"


async def test_a_running_runner_is_not_announced_as_starting(
    sqlite_url: str, redis_server_url: str, redis_prefix: str
) -> None:
    """Once the runner reports running, a message gets no "Agent is starting…" even before
    the supervisor's next check (its interval here is far longer than the test)."""
    settings = make_settings(
        database_url=sqlite_url, redis_url=redis_server_url, redis_prefix=redis_prefix,
        process_check_interval=60,
    )
    async with running_app(settings) as app, httpx.AsyncClient(base_url=app.url, headers=app.headers, timeout=60) as client:
        agent_id = await create_agent(client, "warm", isolation="process")
        first = await chat(client, agent_id, "wake up")
        assert first.started_agent
        await wait_status(client, agent_id, _running, what="the runner to report running")
        second = await chat(client, agent_id, "again", chat_id=first.chat_id)
        assert [data["message"] for data in second.of("status")] == ["received"]
        assert second.events[-3][1]["content"] == said("again", 2)


async def test_a_runner_process_is_named_after_its_agent(
    sqlite_url: str, redis_server_url: str, redis_prefix: str
) -> None:
    settings = make_settings(database_url=sqlite_url, redis_url=redis_server_url, redis_prefix=redis_prefix)
    async with running_app(settings) as app, httpx.AsyncClient(base_url=app.url, headers=app.headers, timeout=60) as client:
        agent_id = await create_agent(client, "named", isolation="process")
        assert (await client.post(f"/api/v1/agents/{agent_id}/start")).status_code == 200
        pid = (await wait_status(client, agent_id, _running, what="the runner"))["pid"]
        with open(f"/proc/{pid}/cmdline", "rb") as cmdline:
            assert cmdline.read().replace(b"\0", b" ").strip() == f"agenthub runner {agent_id}".encode()


async def _left_behind(bus, agent_id: str, *, gateway: str, runner: str) -> None:  # type: ignore[no-untyped-def]
    """What a gateway killed without a shutdown leaves behind: its lease on the agent and a
    'running' status naming a runner that is gone (no heartbeat)."""
    await bus.set(keys.agent_lease(agent_id), {"owner": gateway}, ttl=600)
    await bus.set(keys.agent_status(agent_id), {
        "status": "running", "pid": 2**22 + 1, "host_id": runner, "restart_count": 0,
    }, ttl=600)


async def test_an_agent_left_behind_by_a_dead_gateway_is_taken_over(
    sqlite_url: str, redis_server_url: str, redis_prefix: str
) -> None:
    """A gateway killed without a shutdown leaves a lease and a 'running' status with no
    heartbeat behind; the next message through another gateway starts the agent at once
    instead of waiting for a lease to expire."""
    settings = make_settings(database_url=sqlite_url, redis_url=redis_server_url, redis_prefix=redis_prefix)
    bus = open_bus(redis_server_url, prefix=redis_prefix)
    try:
        async with running_app(settings) as app, httpx.AsyncClient(base_url=app.url, headers=app.headers, timeout=60) as client:
            agent_id = await create_agent(client, "orphan", isolation="process")
            await _left_behind(bus, agent_id, gateway="gateway-that-died", runner="runner-that-died")

            # Its status no longer claims it runs: its runner sends no heartbeat.
            left = await get_status(client, agent_id)
            assert left["status"] == "stopped" and "heartbeats" in left["error"], left

            reply = await asyncio.wait_for(chat(client, agent_id, "anyone there?"), 15)
            assert reply.content == said("anyone there?", 1)
            status = await get_status(client, agent_id)
            assert status["status"] == "running" and pid_alive(status["pid"])
            assert (await bus.get(keys.agent_lease(agent_id)))["owner"] == app.app.state.supervisor.id
    finally:
        await bus.close()


async def test_a_message_sent_just_after_its_gateway_died_is_answered(
    sqlite_url: str, redis_server_url: str, redis_prefix: str
) -> None:
    """The gateway holding the agent's lease was killed a moment ago: its heartbeat still
    looks fresh, so its lease can't be taken over yet. The message is answered as soon as
    it can be, not left waiting for a next message."""
    import time

    settings = make_settings(database_url=sqlite_url, redis_url=redis_server_url, redis_prefix=redis_prefix)
    bus = open_bus(redis_server_url, prefix=redis_prefix)
    try:
        async with running_app(settings) as app, httpx.AsyncClient(base_url=app.url, headers=app.headers, timeout=60) as client:
            agent_id = await create_agent(client, "bereaved", isolation="process")
            await _left_behind(bus, agent_id, gateway="gateway-just-killed", runner="its-runner")
            await bus.set(keys.host_heartbeat("gateway-just-killed"), {"at": time.time()}, ttl=600)

            started = time.monotonic()
            reply = await asyncio.wait_for(chat(client, agent_id, "still there?"), 15)
            assert reply.content == said("still there?", 1)
            # Taken over once the dead gateway's heartbeat was stale, not before.
            assert time.monotonic() - started >= settings.heartbeat_stale_after - 1.0
            assert (await bus.get(keys.agent_lease(agent_id)))["owner"] == app.app.state.supervisor.id
    finally:
        await bus.close()


async def test_clients_waiting_for_an_answer_hear_at_once_that_the_agent_was_stopped(
    sqlite_url: str, redis_server_url: str, redis_prefix: str
) -> None:
    import json
    import time

    from tests.support.fake_openai import FakeOpenAI
    from tests.support.sse import parse_sse

    settings = make_settings(database_url=sqlite_url, redis_url=redis_server_url, redis_prefix=redis_prefix)
    with FakeOpenAI() as model:
        # Slow answers for every turn: the two first ones, both again once the agent runs
        # again after its stop, and "one more".
        for _ in range(6):
            model.add_answer("a very slow answer that takes its time to come out", delay=1.0)
        async with running_app(settings) as app, httpx.AsyncClient(base_url=app.url, timeout=60, headers=app.headers) as client:
            await start_runner_on(client, "halted", model.url)

            async with ws.connect(app.ws("/ws/agents/halted")) as socket:
                await socket.send(json.dumps({"type": "message", "content": "take your time"}))
                sse = asyncio.create_task(client.post("/api/v1/agents/halted/chat", json={"content": "me too"}))
                # Both are being answered, slowly: the model has both, the first streams.
                await _next_event(socket, "chunk")
                await eventually(lambda: _completions(model) >= 2, what="both turns at the model")
                stopped_at = time.monotonic()
                assert (await client.post("/api/v1/agents/halted/stop", params={"force": "true"})).status_code == 200

                events = []
                while not events or events[-1]["type"] not in ("message", "error"):
                    events.append(json.loads(await asyncio.wait_for(socket.recv(), 10)))
                assert events[-1]["type"] == "error" and "stopped" in events[-1]["message"], events
                response = await asyncio.wait_for(sse, 10)
                names = [name for name, _ in parse_sse(response.text)]
                assert names[-2:] == ["error", "done"], names
                assert time.monotonic() - stopped_at < 5, "told at once, not after the turn's timeout"

                # Deleted while a client waits: told it will not be answered at all.
                await socket.send(json.dumps({"type": "message", "content": "one more"}))
                accepted = await _next_event(socket, "status")
                assert accepted["message"] == "received", accepted
                await _next_event(socket, "chunk", chat_id=accepted["chat_id"])  # being answered
                assert (await client.delete("/api/v1/agents/halted")).status_code == 204
                events = []
                while not events or events[-1]["type"] not in ("message", "error"):
                    events.append(json.loads(await asyncio.wait_for(socket.recv(), 10)))
                assert events[-1]["type"] == "error" and "deleted" in events[-1]["message"], events
                assert "will not be answered" in events[-1]["message"]


async def _next_event(socket, kind: str, *, chat_id: str | None = None) -> dict:  # type: ignore[no-untyped-def]
    """Read WebSocket events up to the next one of ``kind`` (of the chat, if given); none
    may end a turn first."""
    while True:
        event = json.loads(await asyncio.wait_for(socket.recv(), 30))
        assert event["type"] not in ("message", "error"), event
        if event["type"] == kind and chat_id in (None, event.get("chat_id")):
            return event


def _completions(model) -> int:  # type: ignore[no-untyped-def]
    return sum(1 for request in model.requests if request.path.endswith("/chat/completions"))
