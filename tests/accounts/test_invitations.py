"""Invitations over HTTP: made by owners and admins, used by registering with their token,
refused when used up, expired, for another e-mail or revoked; closed registration."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from sqlalchemy import update

from agenthub.accounts.models import Invitation
from agenthub.db.engine import create_engine, create_session_factory
from tests.accounts.helpers import PASSWORD, audit_records, bearer, login, me
from tests.agents.helpers import assert_error, client_for

INVITATIONS = "/api/v1/orgs/default/invitations"


async def _invite(client: httpx.AsyncClient, **body: Any) -> dict[str, Any]:
    response = await client.post(INVITATIONS, json={"role": "member", **body})
    assert response.status_code == 201, response.text
    return dict(response.json())


async def _register(client: httpx.AsyncClient, email: str, invitation: object) -> httpx.Response:
    return await client.post(
        "/api/v1/auth/register", json={"email": email, "password": PASSWORD, "invitation": invitation}
    )


async def test_an_invitation_lets_one_person_join_with_its_role(database_url: str) -> None:
    async with client_for(database_url) as (_, client):
        made = await _invite(client, role="admin")
        assert set(made) >= {"id", "token", "role", "expires_at"}
        assert made["role"] == "admin"
        expires_at = datetime.fromisoformat(str(made["expires_at"]).replace("Z", "+00:00"))
        assert timedelta(days=6.9) < expires_at - datetime.now(UTC) <= timedelta(days=7)

        joined = await _register(client, "Ann@Example.com", made["token"])
        assert joined.status_code == 201, joined.text
        account = await me(client, joined.json()["access_token"])
        assert (account["org_id"], account["role"], account["email"]) == ("default", "admin", "ann@example.com")

        again = await _register(client, "ben@example.com", made["token"])
        error = assert_error(again, 422, "invalid_input")
        assert [detail["field"] for detail in error["details"]] == ["invitation"]

        listed = (await client.get(INVITATIONS)).json()["items"]
        assert [(i["id"], i["role"], i["uses"], i["max_uses"]) for i in listed] == [(made["id"], "admin", 1, 1)]
        assert made["token"] not in json.dumps(listed) and "token" not in listed[0]

        records = await audit_records(database_url, org_id="default")
        assert [(r.action, r.resource_id) for r in records] == [
            ("invitation.create", made["id"]), ("member.join", account["id"]),
        ]
        invited, joined_record = records[0].after or {}, records[1].after or {}
        assert invited["role"] == "admin" and invited["max_uses"] == 1
        assert joined_record["invitation"] == made["id"] and records[1].actor_user_id == account["id"]
        assert str(made["token"]) not in json.dumps([[r.before, r.after] for r in records])


async def test_a_join_link_takes_as_many_as_it_says(database_url: str) -> None:
    async with client_for(database_url) as (_, client):
        link = await _invite(client, max_uses=2)
        for email in ("a@example.com", "b@example.com"):
            assert (await _register(client, email, link["token"])).status_code == 201
        assert_error(await _register(client, "c@example.com", link["token"]), 422, "invalid_input")
        assert_error(await client.post("/api/v1/auth/login", json={"email": "c@example.com", "password": PASSWORD}),
                     401, "unauthorized")


async def test_two_registrations_at_once_take_the_last_use_once(database_url: str) -> None:
    async with client_for(database_url) as (_, client):
        made = await _invite(client)
        answers = await asyncio.gather(*(
            _register(client, f"racer{n}@example.com", made["token"]) for n in range(4)
        ))
        assert sorted(response.status_code for response in answers) == [201, 422, 422, 422]
        members = (await client.get("/api/v1/orgs/default/members")).json()["items"]
        assert len(members) == 2


async def _expire(database_url: str, invitation_id: object) -> None:
    engine = create_engine(database_url, pool_size=1)
    try:
        async with create_session_factory(engine)() as session:
            await session.execute(
                update(Invitation).where(Invitation.id == invitation_id)
                .values(expires_at=datetime.now(UTC) - timedelta(seconds=1))
            )
            await session.commit()
    finally:
        await engine.dispose()


async def test_a_refused_invitation_joins_nobody_anywhere(database_url: str) -> None:
    async with client_for(database_url) as (_, client):
        expired = await _invite(client)
        await _expire(database_url, expired["id"])
        for_someone = await _invite(client, email="Zoe@Example.com")
        revoked = await _invite(client)
        assert (await client.delete(f"{INVITATIONS}/{revoked['id']}")).status_code == 204
        assert_error(await client.delete(f"{INVITATIONS}/{revoked['id']}"), 404, "not_found")

        for token in (expired["token"], for_someone["token"], revoked["token"], "made-up-token"):
            response = await _register(client, "mallory@example.com", token)
            error = assert_error(response, 422, "invalid_input")
            assert [detail["field"] for detail in error["details"]] == ["invitation"]
        assert_error(await _register(client, "mallory@example.com", ""), 422, "invalid_input")
        # Mallory has no account, in this organisation or a new one.
        assert_error(await client.post("/api/v1/auth/login", json={"email": "mallory@example.com", "password": PASSWORD}),
                     401, "unauthorized")
        assert len((await client.get("/api/v1/orgs/default/members")).json()["items"]) == 1

        # The invitation for Zoe works for Zoe, in any case of her e-mail.
        assert (await _register(client, "zoe@example.COM", for_someone["token"])).status_code == 201
        revoke_records = await audit_records(database_url, action="invitation.delete")
        assert [r.resource_id for r in revoke_records] == [revoked["id"]]


async def test_a_taken_email_does_not_use_up_the_invitation(sqlite_url: str) -> None:
    async with client_for(sqlite_url) as (_, client):
        made = await _invite(client)
        assert_error(await _register(client, "OWNER@example.com", made["token"]), 409, "conflict")
        assert (await client.get(INVITATIONS)).json()["items"][0]["uses"] == 0
        assert (await _register(client, "new@example.com", made["token"])).status_code == 201


async def test_bad_invitation_input_is_422(sqlite_url: str) -> None:
    async with client_for(sqlite_url) as (_, client):
        for body, field in (
            ({"role": "boss"}, "role"), ({"role": "member", "max_uses": 0}, "max_uses"),
            ({"role": "member", "expires_in": 0}, "expires_in"), ({"role": "member", "email": "nope"}, "email"),
            ({"role": "member", "token": "mine"}, "token"),
        ):
            error = assert_error(await client.post(INVITATIONS, json=body), 422, "invalid_input")
            assert [detail["field"] for detail in error["details"]] == [field], error
        assert (await client.get(INVITATIONS)).json() == {"items": []}


async def test_closed_registration_needs_an_invitation(sqlite_url: str) -> None:
    async with client_for(sqlite_url, registration="closed") as (_, client):
        refused = await client.post("/api/v1/auth/register", json={"email": "x@example.com", "password": PASSWORD})
        assert_error(refused, 403, "forbidden")
        made = await _invite(client, expires_in=3600)
        joined = await _register(client, "x@example.com", made["token"])
        assert joined.status_code == 201, joined.text
        token = (await login(client, "x@example.com"))["access_token"]
        assert (await client.get("/api/v1/auth/me", headers=bearer(token))).json()["org_id"] == "default"
