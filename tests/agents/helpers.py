"""Helpers shared by the API tests: a running app with a client, agent bodies, SSE parsing
and the error-shape check."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx

from agenthub.db import migrate
from agenthub.db.engine import create_engine
from tests.support.server import RunningApp, make_settings, running_app
from tests.support.sse import parse_sse


async def migrated(database_url: str) -> None:
    """Run ``agenthub migrate``'s upgrade (PostgreSQL is never migrated by ``serve``)."""
    engine = create_engine(database_url, pool_size=1)
    try:
        await migrate.upgrade(engine)
    finally:
        await engine.dispose()


@asynccontextmanager
async def client_for(database_url: str, **overrides: Any) -> AsyncIterator[tuple[RunningApp, httpx.AsyncClient]]:
    """The real app under uvicorn on ``database_url`` (migrated; embedded bus unless
    ``redis_url`` is given) and a client for it."""
    await migrated(database_url)
    async with running_app(make_settings(database_url=database_url, **overrides)) as app:
        # Generous: a loaded CI machine (browser tests beside) can stall a request for seconds.
        async with httpx.AsyncClient(base_url=app.url, timeout=60, headers=app.headers) as client:
            yield app, client


def agent_body(**overrides: Any) -> dict[str, Any]:
    """A valid create body for an agent on the ``fake`` provider."""
    settings = {"provider": "fake", "model_id": "demo", "system_prompt": "Be brief."}
    settings.update(overrides.pop("settings", {}))
    return {"name": "Helper", "settings": settings, **overrides}


def assert_error(response: httpx.Response, status: int, code: str | None = None) -> dict[str, Any]:
    """The response is the documented JSON error, with no trace in it."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json")
    body = response.json()
    assert set(body) == {"error"}, body
    error = body["error"]
    assert isinstance(error["code"], str) and error["code"]
    assert isinstance(error["message"], str) and error["message"]
    if code is not None:
        assert error["code"] == code, error
    if status == 422:  # every 422 says which field, as validation errors do
        assert error["details"] and all(set(d) == {"field", "problem"} for d in error["details"]), error
        assert not any(d["problem"].startswith("Value error") for d in error["details"]), error
        assert "Value error" not in error["message"], error
    assert "Traceback" not in response.text
    return error


async def chat(client: httpx.AsyncClient, agent_id: str, content: str, **extra: Any) -> dict[str, Any]:
    """One turn over SSE; returns the ``message`` event's data."""
    response = await client.post(f"/api/v1/agents/{agent_id}/chat", json={"content": content, **extra})
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/event-stream")
    events = parse_sse(response.text)
    messages = [data for name, data in events if name == "message"]
    assert len(messages) == 1, events
    assert events[-1][0] == "done"
    return messages[0]


async def wait_for(probe, *, timeout: float = 5.0, interval: float = 0.05):  # type: ignore[no-untyped-def]
    """Poll ``probe`` (an async callable) until it returns something truthy."""
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        value = await probe()
        if value or asyncio.get_running_loop().time() > deadline:
            return value
        await asyncio.sleep(interval)
