"""/api/v1/credentials on the real app, SQLite and PostgreSQL: a value goes in and never
comes out (responses, the database, the audit log), each organisation sees its own."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import text

from agenthub.accounts import service as accounts_service
from agenthub.caller import DEFAULT_ORG
from agenthub.credentials import service
from agenthub.db.engine import session_scope
from tests.agents.helpers import assert_error, client_for
from tests.support.server import RunningApp, log_in

VALUE = "123456789:AAE-telegram-bot-token-value-xyz"
MEMBER_EMAIL = "member@example.com"
MEMBER_PASSWORD = "member-password-1"


@asynccontextmanager
async def _app(database_url: str, tmp_path: Path, **overrides: Any) -> AsyncIterator[tuple[RunningApp, httpx.AsyncClient]]:
    async with client_for(database_url, data_dir=tmp_path / "data", **overrides) as (app, client):
        yield app, client


async def _create(client: httpx.AsyncClient, **body: Any) -> dict[str, Any]:
    response = await client.post(
        "/api/v1/credentials", json={"name": "Support bot", "type": "telegram_bot_token", "value": VALUE, **body}
    )
    assert response.status_code == 201, response.text
    return dict(response.json())


async def _other_organisation(app: RunningApp) -> dict[str, str]:
    async with httpx.AsyncClient(base_url=app.url, timeout=20) as client:
        registered = await client.post(
            "/api/v1/auth/register",
            json={"email": "other@example.com", "password": "other-password-1", "org_name": "Other"},
        )
    assert registered.status_code == 201, registered.text
    return {"Authorization": f"Bearer {registered.json()['access_token']}"}


async def _member(app: RunningApp) -> dict[str, str]:
    async with session_scope(app.app.state.session_factory) as session:
        await accounts_service.create_user(
            session, org_id=DEFAULT_ORG, email=MEMBER_EMAIL, password=MEMBER_PASSWORD, role="member"
        )
    return {"Authorization": f"Bearer {await log_in(app.url, MEMBER_EMAIL, MEMBER_PASSWORD)}"}


async def test_create_list_read_delete_never_show_the_value(database_url: str, tmp_path: Path) -> None:
    async with _app(database_url, tmp_path) as (_, client):
        created = await _create(client)
        assert set(created) == {"id", "name", "type", "created_at"}
        assert (created["name"], created["type"]) == ("Support bot", "telegram_bot_token")
        listed = await client.get("/api/v1/credentials")
        read = await client.get(f"/api/v1/credentials/{created['id']}")
        assert listed.status_code == read.status_code == 200
        assert listed.json() == {"items": [created], "total": 1}
        assert read.json() == created
        for response in (listed, read):
            assert VALUE not in response.text and "sealed" not in response.text

        deleted = await client.delete(f"/api/v1/credentials/{created['id']}")
        assert deleted.status_code == 204
        assert_error(await client.get(f"/api/v1/credentials/{created['id']}"), 404, "not_found")
        assert_error(await client.delete(f"/api/v1/credentials/{created['id']}"), 404, "not_found")
        assert (await client.get("/api/v1/credentials")).json() == {"items": [], "total": 0}


async def test_the_database_holds_the_value_sealed(database_url: str, tmp_path: Path) -> None:
    async with _app(database_url, tmp_path) as (app, client):
        created = await _create(client)
        async with session_scope(app.app.state.session_factory) as session:
            rows = (await session.execute(text("SELECT * FROM credentials"))).all()
            opened = await service.reveal(session, DEFAULT_ORG, created["id"], app.app.state.secret_box)
    assert len(rows) == 1
    assert not any(VALUE in str(column) for column in rows[0])
    assert not any("telegram-bot-token" in str(column) for column in rows[0])
    assert opened == VALUE


async def test_another_organisation_sees_and_changes_nothing(database_url: str, tmp_path: Path) -> None:
    async with _app(database_url, tmp_path) as (app, client):
        mine = await _create(client)
        other = await _other_organisation(app)
        listed = await client.get("/api/v1/credentials", headers=other)
        assert listed.json() == {"items": [], "total": 0}
        for method in ("GET", "DELETE"):
            refused = await client.request(method, f"/api/v1/credentials/{mine['id']}", headers=other)
            assert_error(refused, 404, "not_found")
            assert VALUE not in refused.text and "Support bot" not in refused.text
        await _create(client, name="Second bot")
        created_by_other = await client.post(
            "/api/v1/credentials", headers=other, json={"name": "Theirs", "type": "api_key", "value": "sk-theirs-123456"}
        )
        assert created_by_other.status_code == 201
        assert_error(await client.get(f"/api/v1/credentials/{created_by_other.json()['id']}"), 404)
        names = [item["name"] for item in (await client.get("/api/v1/credentials")).json()["items"]]
        assert names == ["Support bot", "Second bot"]
        async with session_scope(app.app.state.session_factory) as session:
            with pytest.raises(Exception, match="not found"):
                await service.reveal(session, DEFAULT_ORG, created_by_other.json()["id"], app.app.state.secret_box)


async def test_members_read_owners_and_admins_change(database_url: str, tmp_path: Path) -> None:
    async with _app(database_url, tmp_path) as (app, client):
        created = await _create(client)
        member = await _member(app)
        assert (await client.get("/api/v1/credentials", headers=member)).json()["total"] == 1
        assert (await client.get(f"/api/v1/credentials/{created['id']}", headers=member)).status_code == 200
        refused = await client.post(
            "/api/v1/credentials", headers=member, json={"name": "x", "type": "api_key", "value": "member-secret-1"}
        )
        assert_error(refused, 403, "forbidden")
        assert_error(await client.delete(f"/api/v1/credentials/{created['id']}", headers=member), 403, "forbidden")
        assert (await client.get("/api/v1/credentials")).json()["total"] == 1


async def test_every_change_is_audited_without_the_value(database_url: str, tmp_path: Path) -> None:
    async with _app(database_url, tmp_path) as (app, client):
        created = await _create(client)
        await client.delete(f"/api/v1/credentials/{created['id']}")
        async with session_scope(app.app.state.session_factory) as session:
            rows = (await session.execute(text(
                "SELECT action, resource_type, resource_id, org_id, actor_user_id, address, before, after "
                "FROM audit_log WHERE resource_type = 'credential' ORDER BY id"
            ))).all()
    assert [(row.action, row.resource_id, row.org_id) for row in rows] == [
        ("credential.create", created["id"], DEFAULT_ORG), ("credential.delete", created["id"], DEFAULT_ORG),
    ]
    assert all(row.actor_user_id and row.address == "127.0.0.1" for row in rows)
    assert "Support bot" in str(rows[0].after) and "Support bot" in str(rows[1].before)
    assert not any(VALUE in str(tuple(row)) for row in rows)


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"name": "x", "type": "api_key"}, "value"),
        ({"name": "x", "type": "api_key", "value": ""}, "value"),
        ({"name": " ", "type": "api_key", "value": VALUE}, "name"),
        ({"name": "x", "type": "", "value": VALUE}, "type"),
        ({"name": "x", "type": "t" * 65, "value": VALUE}, "type"),
        ({"name": "x", "type": "api_key", "value": VALUE, "shown": True}, "shown"),
        ({"name": "x", "type": "api_key", "value": VALUE * 2000}, "value"),
        ({"name": "x", "type": "api_key", "value": 12345678}, "value"),
    ],
)
async def test_bad_input_is_a_clear_422_that_repeats_no_value(
    sqlite_url: str, tmp_path: Path, body: dict[str, Any], field: str
) -> None:
    async with _app(sqlite_url, tmp_path) as (_, client):
        error = assert_error(await client.post("/api/v1/credentials", json=body), 422, "invalid_input")
        assert [detail["field"] for detail in error["details"]] == [field], error
        assert VALUE not in str(error) and "12345678" not in str(error)
        assert (await client.get("/api/v1/credentials")).json()["total"] == 0


async def test_no_credentials_no_access(sqlite_url: str, tmp_path: Path) -> None:
    async with _app(sqlite_url, tmp_path) as (app, _):
        async with httpx.AsyncClient(base_url=app.url, timeout=20) as anonymous:
            assert_error(await anonymous.get("/api/v1/credentials"), 401, "unauthorized")
            assert_error(
                await anonymous.post("/api/v1/credentials", json={"name": "x", "type": "t", "value": "v" * 8}), 401
            )
            assert_error(await anonymous.delete("/api/v1/credentials/cred_x"), 401)


@pytest.mark.redis
async def test_production_without_a_key_serves_but_credentials_answer_503(
    sqlite_url: str, tmp_path: Path, redis_server_url: str, redis_prefix: str
) -> None:
    async with _app(sqlite_url, tmp_path, redis_url=redis_server_url, redis_prefix=redis_prefix) as (_, client):
        assert (await client.get("/health")).status_code == 200
        for method, path, body in (
            ("GET", "/api/v1/credentials", None),
            ("POST", "/api/v1/credentials", {"name": "x", "type": "api_key", "value": VALUE}),
            ("GET", "/api/v1/credentials/cred_x", None),
            ("DELETE", "/api/v1/credentials/cred_x", None),
        ):
            error = assert_error(await client.request(method, path, json=body), 503, "secret_box_key_missing")
            assert "SECRET_BOX_KEY" in error["message"]
    assert not (tmp_path / "data" / "secret_box.key").exists(), "no key file outside the embedded mode"
