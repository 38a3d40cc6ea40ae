"""Helpers of the account tests: register and log in over HTTP, read the audit log and the
signing key straight from the database."""

from __future__ import annotations

from typing import Any

import httpx
from sqlalchemy import select

from agenthub.accounts.tokens import signing_key
from agenthub.audit.models import AuditRecord
from agenthub.db.engine import create_engine, create_session_factory

PASSWORD = "a-good-password"


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def register(client: httpx.AsyncClient, email: str, password: str = PASSWORD, **extra: Any) -> dict[str, Any]:
    """Register (a new organisation unless ``invitation`` is given); the token pair."""
    response = await client.post("/api/v1/auth/register", json={"email": email, "password": password, **extra})
    assert response.status_code == 201, response.text
    return dict(response.json())


async def login(client: httpx.AsyncClient, email: str, password: str = PASSWORD) -> dict[str, Any]:
    response = await client.post("/api/v1/auth/login", json={"email": email, "password": password})
    assert response.status_code == 200, response.text
    return dict(response.json())


async def me(client: httpx.AsyncClient, token: str) -> dict[str, Any]:
    response = await client.get("/api/v1/auth/me", headers=bearer(token))
    assert response.status_code == 200, response.text
    return dict(response.json())


async def add_member(
    client: httpx.AsyncClient, org_id: str, email: str, role: str = "member", **extra: Any
) -> dict[str, Any]:
    """Add a member with the client's own credentials; the member as the API shows it."""
    response = await client.post(
        f"/api/v1/orgs/{org_id}/members", json={"email": email, "password": PASSWORD, "role": role, **extra}
    )
    assert response.status_code == 201, response.text
    return dict(response.json())


async def audit_records(database_url: str, **where: Any) -> list[AuditRecord]:
    """The audit log's rows (oldest first), read from the database; ``where``: column values."""
    engine = create_engine(database_url, pool_size=1)
    try:
        async with create_session_factory(engine)() as session:
            query = select(AuditRecord).order_by(AuditRecord.id)
            for column, value in where.items():
                query = query.where(getattr(AuditRecord, column) == value)
            return list(await session.scalars(query))
    finally:
        await engine.dispose()


async def app_signing_key(database_url: str) -> str:
    """The key the app signs access tokens with (made on its first start, kept in the database)."""
    engine = create_engine(database_url, pool_size=1)
    try:
        async with create_session_factory(engine)() as session:
            return await signing_key(session, None)
    finally:
        await engine.dispose()
