"""More callers for a test server than its owner: a member or admin of an organisation, an
API key, the owner of a second organisation. Made through the app's own services and
routes, on its own database."""

from __future__ import annotations

import httpx

from agenthub.accounts import service as accounts_service
from agenthub.accounts.models import ApiKey
from agenthub.accounts.secrets import API_KEY_PREFIX, digest, new_id, new_secret
from agenthub.caller import DEFAULT_ORG
from agenthub.db.engine import session_scope
from tests.support.server import RunningApp, log_in

PASSWORD = "a-good-password-1"


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def user_token(app: RunningApp, email: str, *, role: str = "member", org_id: str = DEFAULT_ORG) -> str:
    """An access token of a new user of ``org_id`` with ``role``."""
    async with session_scope(app.app.state.session_factory) as session:
        await accounts_service.create_user(session, org_id=org_id, email=email, password=PASSWORD, role=role)
    return await log_in(app.url, email, PASSWORD)


async def user_id(app: RunningApp, token: str) -> str:
    async with httpx.AsyncClient(base_url=app.url, timeout=20) as client:
        response = await client.get("/api/v1/auth/me", headers=bearer(token))
        response.raise_for_status()
        return str(response.json()["id"])


async def api_key(app: RunningApp, *, org_id: str = DEFAULT_ORG) -> str:
    """A new API key of ``org_id`` (stored as its hash, as the keys' route stores it)."""
    key = new_secret(API_KEY_PREFIX)
    async with session_scope(app.app.state.session_factory) as session:
        session.add(ApiKey(
            id=new_id("key"), org_id=org_id, name="test key", prefix=key[:12], key_hash=digest(key),
        ))
    return key


async def second_org(app: RunningApp, email: str = "other-owner@example.com") -> str:
    """An access token of the owner of a newly registered organisation."""
    async with httpx.AsyncClient(base_url=app.url, timeout=20) as client:
        response = await client.post(
            "/api/v1/auth/register", json={"email": email, "password": PASSWORD, "org_name": "Other"}
        )
        assert response.status_code == 201, response.text
        return str(response.json()["access_token"])
