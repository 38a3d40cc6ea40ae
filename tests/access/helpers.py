"""What the access and API-key tests share: a running app whose ``llm`` agents are
answered by a probe engine that says who each message is from (and keeps the turns it was
given, so a test sees that a refused message never reached it), a second organisation, keys,
and chats over SSE and the WebSocket."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

import httpx
from sqlalchemy import select
from websockets.exceptions import ConnectionClosed

from agenthub.accounts import service as accounts_service
from agenthub.audit.models import AuditRecord
from agenthub.bus import Bus
from agenthub.caller import DEFAULT_ORG
from agenthub.config import Settings
from agenthub.db.engine import SessionFactory, session_scope
from agenthub.engines.base import Answer, Engine, Turn, TurnEvents
from agenthub.engines.registry import EngineRegistry
from tests.agents.helpers import migrated
from tests.support.server import RunningApp, log_in, make_settings, running_app
from tests.support.sse import parse_sse
from tests.support.ws import connect


class ProbeEngine(Engine):
    """Answers an ``llm`` agent's message with who sent it, as the agent sees it."""

    kind = "llm"

    def __init__(self) -> None:
        self.turns: list[Turn] = []

    async def answer(self, turn: Turn, events: TurnEvents) -> Answer:
        self.turns.append(turn)
        return Answer(text=json.dumps(sender_of(turn.message)))


def sender_of(envelope: dict[str, Any]) -> dict[str, Any]:
    return {name: envelope.get(name) for name in ("channel", "platform_user_id", "user_id", "api_key_id", "user_data")}


@dataclass
class Hub:
    app: RunningApp
    owner: httpx.AsyncClient
    probe: ProbeEngine
    clients: list[httpx.AsyncClient] = field(default_factory=list)

    def client(self, token: str | None = None) -> httpx.AsyncClient:
        """A client with these credentials (none: anonymous); closed with the hub."""
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        client = httpx.AsyncClient(base_url=self.app.url, timeout=20, headers=headers)
        self.clients.append(client)
        return client

    async def register(self, email: str) -> tuple[httpx.AsyncClient, str]:
        """A new account in a new organisation: its client and its user id."""
        response = await self.client().post(
            "/api/v1/auth/register", json={"email": email, "password": "password-123", "org_name": email}
        )
        assert response.status_code == 201, response.text
        client = self.client(response.json()["access_token"])
        me = await client.get("/api/v1/auth/me")
        return client, me.json()["id"]

    async def agent(self, client: httpx.AsyncClient | None = None, **settings: Any) -> str:
        """A new agent (of the owner's organisation unless ``client`` says otherwise)."""
        body = {"name": "Access test", "settings": {"provider": "fake", "model_id": "demo", **settings}}
        response = await (client or self.owner).post("/api/v1/agents", json=body)
        assert response.status_code == 201, response.text
        return str(response.json()["id"])

    async def key(self, client: httpx.AsyncClient | None = None, **body: Any) -> dict[str, Any]:
        response = await (client or self.owner).post("/api/v1/api-keys", json={"name": "a program", **body})
        assert response.status_code == 201, response.text
        return dict(response.json())

    def ws(self, path: str, token: str | None = None) -> str:
        query = f"{'&' if '?' in path else '?'}token={token}" if token else ""
        return f"{self.app.ws_url}{path}{query}"


async def member_of_default(hub: Hub, email: str = "member@example.com") -> tuple[httpx.AsyncClient, str]:
    """A member of the default organisation (made as the members routes would): client, id."""
    async with session_scope(hub.app.app.state.session_factory) as session:
        user = await accounts_service.create_user(
            session, org_id=DEFAULT_ORG, email=email, password="password-123", role="member"
        )
        user_id = user.id
    return hub.client(await log_in(hub.app.url, email, "password-123")), user_id


async def audit_actions(hub: Hub) -> list[tuple[str, str | None, Any, Any]]:
    async with session_scope(hub.app.app.state.session_factory) as session:
        rows = await session.scalars(select(AuditRecord).order_by(AuditRecord.id))
        return [(r.action, r.actor_user_id, r.before, r.after) for r in rows]


@asynccontextmanager
async def hub_on(database_url: str, **overrides: Any) -> AsyncIterator[Hub]:
    """The real app under uvicorn on ``database_url`` (migrated) with the probe engine."""
    await migrated(database_url)
    probe = ProbeEngine()

    def engines(settings: Settings, sessions: SessionFactory, bus: Bus | None = None, **_: Any) -> EngineRegistry:
        return EngineRegistry([probe])

    async with running_app(make_settings(database_url=database_url, **overrides), engines=engines) as app:
        async with httpx.AsyncClient(base_url=app.url, timeout=20, headers=app.headers) as owner:
            hub = Hub(app, owner, probe)
            try:
                yield hub
            finally:
                for client in hub.clients:
                    await client.aclose()


async def sse_chat(client: httpx.AsyncClient, agent_id: str, content: str = "hello", **extra: Any) -> httpx.Response:
    return await client.post(f"/api/v1/agents/{agent_id}/chat", json={"content": content, **extra})


def answer_of(response: httpx.Response) -> dict[str, Any]:
    """The ``message`` event of an SSE answer: who the agent was told the sender is, and the chat."""
    assert response.status_code == 200, response.text
    events = parse_sse(response.text)
    messages = [data for name, data in events if name == "message"]
    assert len(messages) == 1, events
    return {**json.loads(messages[0]["content"]), "chat_id": messages[0]["chat_id"]}


async def ws_turn(url: str, content: str = "hello", **extra: Any) -> list[dict[str, Any]]:
    """Connect, send one message, return the events up to its answer or error."""
    async with connect(url) as socket:
        await socket.send(json.dumps({"type": "message", "content": content, **extra}))
        events = []
        while True:
            event = json.loads(await socket.recv())
            events.append(event)
            if event["type"] in ("message", "error"):
                return events


async def ws_refusal(url: str) -> tuple[dict[str, Any], int]:
    """Connect to a socket that is refused: the error event and the close code."""
    async with connect(url) as socket:
        event = json.loads(await socket.recv())
        try:
            await socket.recv()
        except ConnectionClosed as closed:
            assert closed.rcvd is not None
            return event, closed.rcvd.code
    raise AssertionError("the socket was not closed")
