"""Helpers for the runtime tests: talking to a running app over HTTP, waiting for
conditions with generous deadlines, and preparing a database for the turn-level tests."""

from __future__ import annotations

import asyncio
import inspect
import os
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import httpx

from agenthub.agents import service as agents_service
from agenthub.agents.models import DEFAULT_ORG
from agenthub.agents.schemas import AgentCreate
from agenthub.db import migrate
from agenthub.db.engine import SessionFactory, create_engine, create_session_factory, session_scope
from tests.support.sse import parse_sse

DEADLINE = 15.0
CHAT_TIMEOUT = 60.0


async def eventually(
    probe: Callable[[], Any | Awaitable[Any]],
    *,
    timeout: float = DEADLINE,
    interval: float = 0.05,
    what: str = "the condition",
) -> Any:
    """Call ``probe`` until it returns something truthy; return that. Fails with the last
    value seen when ``timeout`` passes first."""
    deadline = time.monotonic() + timeout
    while True:
        value = probe()
        if inspect.isawaitable(value):
            value = await value
        if value:
            return value
        if time.monotonic() >= deadline:
            raise AssertionError(f"timed out after {timeout:.0f}s waiting for {what}; last value: {value!r}")
        await asyncio.sleep(interval)


class SupervisorPasses:
    """Counts a supervisor's check passes, so that a test which must show that nothing
    happens (no restart after a stop, ...) waits for passes of the supervisor, not for a
    time it guesses. The real ``check`` runs; each pass completed sets an event."""

    def __init__(self, supervisor: Any) -> None:
        self.count = 0
        self._passed = asyncio.Event()
        check = supervisor.check

        async def counted() -> None:
            try:
                await check()
            finally:
                self.count += 1
                self._passed.set()

        supervisor.check = counted

    async def wait(self, passes: int, *, timeout: float = DEADLINE) -> None:
        """Return once ``passes`` more passes are complete."""
        target = self.count + passes
        async with asyncio.timeout(timeout):
            while self.count < target:
                self._passed.clear()
                await self._passed.wait()


def pid_alive(pid: int) -> bool:
    """True while a process with this pid exists (and is not a zombie)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] != "Z"
    except FileNotFoundError:
        return False


def process_state(pid: int) -> str | None:
    """The one-letter state of a process from /proc (R, S, T for stopped, ...)."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0]
    except FileNotFoundError:
        return None


# --- the HTTP API -------------------------------------------------------------------------


def agent_body(name: str, *, isolation: str, model_id: str = "demo", **settings: Any) -> dict[str, Any]:
    return {
        "name": name,
        "settings": {"provider": "fake", "model_id": model_id, "isolation": isolation, **settings},
    }


async def create_agent(client: httpx.AsyncClient, name: str = "agent", *, isolation: str) -> str:
    response = await client.post("/api/v1/agents", json=agent_body(name, isolation=isolation))
    assert response.status_code == 201, response.text
    return response.json()["id"]


async def get_status(client: httpx.AsyncClient, agent_id: str) -> dict[str, Any]:
    response = await client.get(f"/api/v1/agents/{agent_id}/status")
    assert response.status_code == 200, response.text
    return response.json()


async def wait_status(
    client: httpx.AsyncClient,
    agent_id: str,
    predicate: Callable[[dict[str, Any]], bool],
    *,
    timeout: float = DEADLINE,
    what: str = "the status",
) -> dict[str, Any]:
    last: dict[str, Any] = {}

    async def probe() -> dict[str, Any] | None:
        nonlocal last
        last = await get_status(client, agent_id)
        return last if predicate(last) else None

    try:
        return await eventually(probe, timeout=timeout, interval=0.05, what=what)
    except AssertionError:
        raise AssertionError(f"timed out after {timeout:.0f}s waiting for {what}; last status: {last}") from None


@dataclass
class Reply:
    """What an SSE client saw for one message."""

    events: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    chat_id: str = ""
    message_id: str = ""

    def of(self, name: str) -> list[dict[str, Any]]:
        return [data for event, data in self.events if event == name]

    @property
    def content(self) -> str | None:
        messages = self.of("message")
        return messages[-1]["content"] if messages else None

    @property
    def started_agent(self) -> bool:
        return any(data.get("message") == "Agent is starting…" for data in self.of("status"))


async def chat(
    client: httpx.AsyncClient, agent_id: str, content: str, *, chat_id: str | None = None
) -> Reply:
    """Send one message over ``POST /chat`` and read the event stream to ``done``."""
    body: dict[str, Any] = {"content": content}
    if chat_id:
        body["chat_id"] = chat_id
    response = await client.post(f"/api/v1/agents/{agent_id}/chat", json=body, timeout=CHAT_TIMEOUT)
    assert response.status_code == 200, response.text
    events = parse_sse(response.text)
    assert events and events[-1][0] == "done", f"the stream did not end with done: {events}"
    done = events[-1][1]
    return Reply(events=events, chat_id=done["chat_id"], message_id=done["message_id"])


def said(text: str, n: int) -> str:
    """The demo model's answer to ``text`` as the ``n``-th user message of a chat."""
    return f'You said: "{text}". That is message {n} of this chat.'


# --- the database, for tests below the HTTP API -------------------------------------------


async def migrated_sessions(url: str):  # type: ignore[no-untyped-def]
    """An engine on a freshly migrated database and its session factory."""
    engine = create_engine(url)
    await migrate.upgrade(engine)
    return engine, create_session_factory(engine)


async def start_runner_on(client: httpx.AsyncClient, agent_id: str, model_url: str) -> dict[str, Any]:
    """Create an ``isolation: process`` agent on the OpenAI-compatible server at
    ``model_url``, start it and wait for its runner: returns the running status."""
    created = await client.post("/api/v1/agents", json={
        "id": agent_id, "name": agent_id,
        "settings": {
            "provider": "openai_compatible", "model_id": "m", "base_url": model_url, "isolation": "process",
        },
    })
    assert created.status_code == 201, created.text
    assert (await client.post(f"/api/v1/agents/{agent_id}/start")).status_code == 200
    return await wait_status(
        client, agent_id, lambda s: s["status"] == "running" and bool(s["pid"]), what="the runner"
    )


async def create_agent_row(
    sessions: SessionFactory, agent_id: str, *, model_id: str = "demo", isolation: str = "shared"
) -> str:
    data = AgentCreate.model_validate(
        {"id": agent_id, **agent_body(agent_id, isolation=isolation, model_id=model_id)}
    )
    async with session_scope(sessions) as session:
        agent = await agents_service.create(session, org_id=DEFAULT_ORG, data=data)
        return agent.id
