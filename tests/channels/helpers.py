"""What the channel, end-to-end and CLI tests share: a WebSocket turn, SSE parsing,
polling, the JSON error shape, and agent bodies."""

from __future__ import annotations

import asyncio
import json
import os
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, TypeVar

import httpx

from tests.agents.helpers import assert_error

T = TypeVar("T")
FINAL = ("message", "error")


def agent_body(*, provider: str = "fake", model_id: str = "demo", **settings: Any) -> dict[str, Any]:
    """A create body; ``settings`` go into the agent's settings (base_url, isolation, ...)."""
    return {
        "name": "Channel test agent",
        "settings": {"provider": provider, "model_id": model_id, "system_prompt": "Be brief.", **settings},
    }


async def create_agent(client: httpx.AsyncClient, **settings: Any) -> str:
    response = await client.post("/api/v1/agents", json=agent_body(**settings))
    assert response.status_code == 201, response.text
    return response.json()["id"]


async def send(socket: Any, content: str, **extra: Any) -> None:
    await socket.send(json.dumps({"type": "message", "content": content, **extra}))


async def receive_until_final(socket: Any, *, timeout: float = 30.0) -> list[dict[str, Any]]:
    """Events up to and including the next ``message`` or ``error``."""
    events: list[dict[str, Any]] = []
    async with asyncio.timeout(timeout):
        while True:
            event = json.loads(await socket.recv())
            events.append(event)
            if event["type"] in FINAL:
                return events


async def turn(socket: Any, content: str, *, timeout: float = 30.0, **extra: Any) -> list[dict[str, Any]]:
    """Send one message and return every event up to its answer (or error)."""
    await send(socket, content, **extra)
    return await receive_until_final(socket, timeout=timeout)


def received(events: list[dict[str, Any]]) -> dict[str, Any]:
    found = [e for e in events if e["type"] == "status" and e.get("message") == "received"]
    assert len(found) == 1, events
    return found[0]


def chunks(events: list[dict[str, Any]]) -> list[str]:
    return [e["content"] for e in events if e["type"] == "chunk"]


def assert_json_error(response: httpx.Response, status: int) -> dict[str, Any]:
    """The documented JSON error shape with ``status``, and no stack trace."""
    return assert_error(response, status)


async def eventually(
    probe: Callable[[], Awaitable[T]], *, timeout: float = 20.0, interval: float = 0.1, what: str = "condition"
) -> T:
    """Poll ``probe`` until it returns something truthy; fail with its last value."""
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        value = await probe()
        if value:
            return value
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"timed out waiting for {what}; last value: {value!r}")
        await asyncio.sleep(interval)


async def agent_status(client: httpx.AsyncClient, agent_id: str) -> dict[str, Any]:
    response = await client.get(f"/api/v1/agents/{agent_id}/status")
    assert response.status_code == 200, response.text
    return response.json()


async def chat_messages(client: httpx.AsyncClient, agent_id: str, chat_id: str) -> list[dict[str, Any]]:
    response = await client.get(f"/api/v1/agents/{agent_id}/chats/{chat_id}/messages")
    if response.status_code == 404:
        return []
    assert response.status_code == 200, response.text
    return response.json()["items"]


def process_alive(pid: int) -> bool:
    """True while ``pid`` runs; a zombie (exited, not yet reaped) counts as gone."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except (FileNotFoundError, ProcessLookupError):
        return False
    except OSError:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return False
        return True
    state = stat.rsplit(")", 1)[1].split()[0]
    return state not in ("Z", "X")
