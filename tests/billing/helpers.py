"""What the billing tests share: accounts made directly (members and API keys, whose own
routes belong to other parts), priced agents on the fake OpenAI server, spend read back."""

from __future__ import annotations

import uuid
from decimal import Decimal
from typing import Any

import httpx
from sqlalchemy import func, select

from agenthub.accounts import service as accounts_service
from agenthub.accounts.models import ApiKey
from agenthub.accounts.secrets import API_KEY_PREFIX, digest, new_id, new_secret
from agenthub.billing.models import TokenUsageLog
from agenthub.db.engine import session_scope
from tests.channels.helpers import create_agent, eventually
from tests.support.server import RunningApp, log_in
from tests.support.sse import parse_sse

PRICE_IN, PRICE_OUT = Decimal("0.15"), Decimal("0.60")
"""gpt-4o-mini, USD per million tokens."""


def cost(input_tokens: int, output_tokens: int) -> Decimal:
    return (PRICE_IN * input_tokens + PRICE_OUT * output_tokens) / Decimal(1_000_000)


async def priced_agent(client: httpx.AsyncClient, model_url: str) -> str:
    """An agent on gpt-4o-mini served by the fake OpenAI server, charged OpenAI's price."""
    return await create_agent(client, provider="openai", model_id="gpt-4o-mini", base_url=model_url)


async def me(client: httpx.AsyncClient) -> dict[str, Any]:
    response = await client.get("/api/v1/auth/me")
    assert response.status_code == 200, response.text
    return response.json()


async def member(app: RunningApp, *, org_id: str, role: str = "member") -> tuple[str, dict[str, str]]:
    """A user of the organisation, logged in: (id, headers)."""
    email = f"{role}-{uuid.uuid4().hex[:8]}@example.com"
    async with session_scope(app.app.state.session_factory) as session:
        user = await accounts_service.create_user(
            session, org_id=org_id, email=email, password="member-password-1", role=role
        )
        user_id = user.id
    token = await log_in(app.url, email, "member-password-1")
    return user_id, {"Authorization": f"Bearer {token}"}


async def api_key(app: RunningApp, *, org_id: str) -> tuple[str, dict[str, str]]:
    """An API key of the organisation: (id, headers)."""
    key = new_secret(API_KEY_PREFIX)
    key_id = new_id("key")
    async with session_scope(app.app.state.session_factory) as session:
        session.add(ApiKey(
            id=key_id, org_id=org_id, name="billing test", prefix=key[:8], key_hash=digest(key),
        ))
    return key_id, {"Authorization": f"Bearer {key}"}


async def other_org(app: RunningApp) -> dict[str, str]:
    """The headers of the owner of a new organisation."""
    async with httpx.AsyncClient(base_url=app.url, timeout=30) as client:
        response = await client.post("/api/v1/auth/register", json={
            "email": f"other-{uuid.uuid4().hex[:8]}@example.com", "password": "other-password-1",
            "org_name": "Other",
        })
        assert response.status_code == 201, response.text
        return {"Authorization": f"Bearer {response.json()['access_token']}"}


async def logged_spend(app: RunningApp, **where: str) -> tuple[int, Decimal]:
    """(turns, cost) of the usage logs matching ``where`` (``user_id=...``)."""
    async with app.app.state.session_factory() as session:
        query = select(func.count(), func.coalesce(func.sum(TokenUsageLog.cost), 0))
        for column, value in where.items():
            query = query.where(getattr(TokenUsageLog, column) == value)
        turns, total = (await session.execute(query)).one()
    return int(turns), Decimal(str(total)).quantize(Decimal("0.00000001"))


async def sse_turn(
    client: httpx.AsyncClient, agent_id: str, content: str, *, headers: dict[str, str] | None = None
) -> list[tuple[str, dict[str, Any]]]:
    """One turn over SSE, answered; its events."""
    response = await client.post(f"/api/v1/agents/{agent_id}/chat", json={"content": content}, headers=headers)
    assert response.status_code == 200, response.text
    events = parse_sse(response.text)
    assert [name for name, _ in events].count("message") == 1 and events[-1][0] == "done", events
    return events


async def budget(client: httpx.AsyncClient, *, headers: dict[str, str] | None = None) -> dict[str, Any]:
    response = await client.get("/api/v1/user/budget", headers=headers)
    assert response.status_code == 200, response.text
    return response.json()


async def spend_reaches(
    client: httpx.AsyncClient, amount: Decimal, *, headers: dict[str, str] | None = None
) -> dict[str, Any]:
    """The caller's budget once what it has spent reaches ``amount`` (usage is stored, and
    counted, shortly after its turn)."""

    async def reached() -> dict[str, Any] | None:
        status = await budget(client, headers=headers)
        return status if Decimal(status["spend"] or 0) >= amount else None

    return await eventually(reached, what=f"a spend of {amount} USD to be counted")
