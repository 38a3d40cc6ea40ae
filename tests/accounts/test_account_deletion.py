"""Deleting one's own account (``DELETE /api/v1/auth/me``, confirmed by the password)."""

from __future__ import annotations

import httpx

from tests.accounts.helpers import PASSWORD, add_member, bearer, login, me, register
from tests.agents.helpers import assert_error, client_for
from tests.support.server import OWNER_PASSWORD


async def _delete_me(client: httpx.AsyncClient, token: str, password: str = PASSWORD) -> httpx.Response:
    return await client.request("DELETE", "/api/v1/auth/me", json={"password": password}, headers=bearer(token))


async def test_a_deleted_accounts_tokens_get_401(database_url: str) -> None:
    async with client_for(database_url) as (_, client):
        tokens = await register(client, "leaving@example.com")
        org_id = (await me(client, tokens["access_token"]))["org_id"]

        deleted = await _delete_me(client, tokens["access_token"])
        assert deleted.status_code == 204, deleted.text
        assert_error(await client.get("/api/v1/auth/me", headers=bearer(tokens["access_token"])), 401, "unauthorized")
        assert_error(await client.get(f"/api/v1/orgs/{org_id}", headers=bearer(tokens["access_token"])),
                     401, "unauthorized")
        refresh = await client.post("/api/v1/auth/refresh", json={"refresh_token": tokens["refresh_token"]})
        assert_error(refresh, 401, "unauthorized")
        relogin = await client.post("/api/v1/auth/login", json={"email": "leaving@example.com", "password": PASSWORD})
        assert_error(relogin, 401, "unauthorized")
        # The e-mail is free again: registering makes a new organisation.
        again = await register(client, "leaving@example.com")
        assert (await me(client, again["access_token"]))["org_id"] != org_id


async def test_the_password_confirms_a_deletion(sqlite_url: str) -> None:
    async with client_for(sqlite_url) as (_, client):
        await add_member(client, "default", "bob@example.com")
        token = (await login(client, "bob@example.com"))["access_token"]
        wrong = await _delete_me(client, token, password="not-my-password")
        assert_error(wrong, 403, "forbidden")
        assert "not-my-password" not in wrong.text
        missing = await client.request("DELETE", "/api/v1/auth/me", json={}, headers=bearer(token))
        error = assert_error(missing, 422, "invalid_input")
        assert [detail["field"] for detail in error["details"]] == ["password"]
        assert (await me(client, token))["email"] == "bob@example.com"
        assert (await _delete_me(client, token)).status_code == 204
        emails = [m["email"] for m in (await client.get("/api/v1/orgs/default/members")).json()["items"]]
        assert "bob@example.com" not in emails


async def test_the_last_owner_of_an_organisation_with_members_can_not_leave(database_url: str) -> None:
    async with client_for(database_url) as (app, client):
        bob = await add_member(client, "default", "bob@example.com")
        assert_error(await _delete_me(client, app.token, OWNER_PASSWORD), 409, "conflict")

        await client.patch(f"/api/v1/orgs/default/members/{bob['id']}", json={"role": "owner"})
        assert (await _delete_me(client, app.token, OWNER_PASSWORD)).status_code == 204
        as_bob = bearer((await login(client, "bob@example.com"))["access_token"])
        members = (await client.get("/api/v1/orgs/default/members", headers=as_bob)).json()["items"]
        assert [(m["email"], m["role"]) for m in members] == [("bob@example.com", "owner")]
