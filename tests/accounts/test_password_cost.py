"""The cost of hashing passwords is the install's (ARGON2_*); a password hashed at another
cost still verifies."""

from __future__ import annotations

import httpx
from sqlalchemy import select

from agenthub.accounts.models import User
from agenthub.db.engine import session_scope
from tests.agents.helpers import migrated
from tests.support.server import OWNER_EMAIL, OWNER_PASSWORD, make_settings, running_app


async def _hashes(app) -> dict[str, str]:  # type: ignore[no-untyped-def]
    async with session_scope(app.app.state.session_factory) as session:
        return {user.email: user.password_hash for user in await session.scalars(select(User))}


async def test_new_passwords_take_the_configured_cost_and_older_ones_still_log_in(sqlite_url: str) -> None:
    await migrated(sqlite_url)
    async with running_app(make_settings(database_url=sqlite_url)) as cheap:
        assert (await _hashes(cheap))[OWNER_EMAIL].startswith("$argon2id$v=19$m=1024,t=1,p=1$")

    costly = make_settings(database_url=sqlite_url, argon2_time_cost=2, argon2_memory_kib=4096, argon2_parallelism=2)
    async with running_app(costly) as app, httpx.AsyncClient(base_url=app.url, timeout=30) as client:
        registered = await client.post(
            "/api/v1/auth/register", json={"email": "new@example.com", "password": "new-password-1"}
        )
        assert registered.status_code == 201, registered.text
        hashes = await _hashes(app)
        assert hashes["new@example.com"].startswith("$argon2id$v=19$m=4096,t=2,p=2$")
        for email, password in ((OWNER_EMAIL, OWNER_PASSWORD), ("new@example.com", "new-password-1")):
            login = await client.post("/api/v1/auth/login", json={"email": email, "password": password})
            assert login.status_code == 200, login.text
