"""An organisation's members over HTTP: who may add, change and remove whom, the last
owner, another organisation's ids, and the audit log of every change."""

from __future__ import annotations

import json

import httpx

from agenthub.accounts.models import ApiKey
from agenthub.accounts.secrets import API_KEY_PREFIX, digest, new_secret
from agenthub.db.engine import create_engine, create_session_factory
from tests.accounts.helpers import PASSWORD, add_member, audit_records, bearer, login, me, register
from tests.agents.helpers import assert_error, client_for
from tests.support.server import OWNER_EMAIL

MEMBERS = "/api/v1/orgs/default/members"


async def test_an_added_member_logs_in_at_once_and_is_listed(database_url: str) -> None:
    async with client_for(database_url) as (_, client):
        added = await add_member(client, "default", "Bob@Example.com", username="Bobby")
        assert set(added) == {"id", "email", "username", "role", "created_at"}
        assert added["email"] == "bob@example.com"
        assert (added["username"], added["role"]) == ("Bobby", "member")
        assert PASSWORD not in json.dumps(added)

        tokens = await login(client, "bob@example.com")
        account = await me(client, tokens["access_token"])
        assert (account["id"], account["org_id"], account["role"]) == (added["id"], "default", "member")

        defaulted = await add_member(client, "default", "carol@example.com", role="admin")
        assert (defaulted["username"], defaulted["role"]) == ("carol", "admin")

        listed = (await client.get(MEMBERS)).json()["items"]
        assert [(m["email"], m["role"]) for m in listed] == [
            (OWNER_EMAIL, "owner"), ("bob@example.com", "member"), ("carol@example.com", "admin"),
        ]
        assert_error(await client.post(MEMBERS, json={
            "email": "BOB@example.com", "password": PASSWORD, "role": "member",
        }), 409, "conflict")


async def test_a_member_reads_but_can_not_manage(sqlite_url: str) -> None:
    async with client_for(sqlite_url) as (_, client):
        bob = await add_member(client, "default", "bob@example.com")
        as_bob = bearer((await login(client, "bob@example.com"))["access_token"])
        owner_id = (await client.get("/api/v1/auth/me")).json()["id"]

        assert (await client.get(MEMBERS, headers=as_bob)).status_code == 200
        organization = await client.get("/api/v1/orgs/default", headers=as_bob)
        assert organization.json() == {"id": "default", "name": "Default", "role": "member"}
        refused = [
            await client.post(MEMBERS, headers=as_bob, json={"email": "e@example.com", "password": PASSWORD}),
            await client.patch(f"{MEMBERS}/{owner_id}", headers=as_bob, json={"username": "mine"}),
            await client.patch(f"{MEMBERS}/{bob['id']}", headers=as_bob, json={"role": "admin"}),
            await client.delete(f"{MEMBERS}/{owner_id}", headers=as_bob),
            await client.patch("/api/v1/orgs/default", headers=as_bob, json={"name": "Bob's now"}),
            await client.post("/api/v1/orgs/default/invitations", headers=as_bob, json={"role": "member"}),
            await client.get("/api/v1/orgs/default/invitations", headers=as_bob),
        ]
        for response in refused:
            assert_error(response, 403, "forbidden")
        assert len((await client.get(MEMBERS)).json()["items"]) == 2
        assert (await me(client, as_bob["Authorization"].split()[1]))["role"] == "member"


async def test_another_organisations_ids_are_404(database_url: str) -> None:
    async with client_for(database_url) as (_, client):
        bob = await add_member(client, "default", "bob@example.com")
        invitation = (await client.post("/api/v1/orgs/default/invitations", json={"role": "member"})).json()
        stranger = bearer((await register(client, "eve@example.com"))["access_token"])
        eve = (await client.get("/api/v1/auth/me", headers=stranger)).json()

        tried = [
            await client.get("/api/v1/orgs/default", headers=stranger),
            await client.patch("/api/v1/orgs/default", headers=stranger, json={"name": "Mine"}),
            await client.get(MEMBERS, headers=stranger),
            await client.post(MEMBERS, headers=stranger, json={"email": "x@example.com", "password": PASSWORD}),
            await client.patch(f"{MEMBERS}/{bob['id']}", headers=stranger, json={"role": "admin"}),
            await client.delete(f"{MEMBERS}/{bob['id']}", headers=stranger),
            await client.get("/api/v1/orgs/default/invitations", headers=stranger),
            await client.post("/api/v1/orgs/default/invitations", headers=stranger, json={"role": "owner"}),
            await client.delete(f"/api/v1/orgs/default/invitations/{invitation['id']}", headers=stranger),
            # Their own organisation's path with the first one's ids.
            await client.patch(f"/api/v1/orgs/{eve['org_id']}/members/{bob['id']}", headers=stranger, json={"role": "admin"}),
            await client.delete(f"/api/v1/orgs/{eve['org_id']}/members/{bob['id']}", headers=stranger),
            await client.delete(f"/api/v1/orgs/{eve['org_id']}/invitations/{invitation['id']}", headers=stranger),
            # And the other way round; an id nobody has looks the same.
            await client.get(f"/api/v1/orgs/{eve['org_id']}/members"),
            await client.delete(f"{MEMBERS}/{eve['id']}"),
            await client.get("/api/v1/orgs/org_nobody_has/members"),
        ]
        for response in tried:
            error = assert_error(response, 404, "not_found")
            assert "bob@example.com" not in response.text and "eve@example.com" not in error["message"]

        listed = (await client.get(MEMBERS)).json()["items"]
        assert [(m["email"], m["role"]) for m in listed] == [(OWNER_EMAIL, "owner"), ("bob@example.com", "member")]
        assert (await client.get("/api/v1/orgs/default")).json()["name"] == "Default"
        assert len((await client.get("/api/v1/orgs/default/invitations")).json()["items"]) == 1


async def _as(client: httpx.AsyncClient, email: str) -> dict[str, str]:
    return bearer((await login(client, email))["access_token"])


async def test_an_admin_manages_members_and_admins_but_not_owners(sqlite_url: str) -> None:
    async with client_for(sqlite_url) as (_, client):
        await add_member(client, "default", "ann@example.com", role="admin")
        owner_id = (await client.get("/api/v1/auth/me")).json()["id"]
        as_ann = await _as(client, "ann@example.com")

        made = await client.post(MEMBERS, headers=as_ann, json={"email": "bob@example.com", "password": PASSWORD})
        assert made.status_code == 201, made.text
        bob = made.json()
        promoted = await client.patch(f"{MEMBERS}/{bob['id']}", headers=as_ann, json={"role": "admin"})
        assert promoted.json()["role"] == "admin"

        refused = [
            await client.post(MEMBERS, headers=as_ann, json={
                "email": "olga@example.com", "password": PASSWORD, "role": "owner",
            }),
            await client.post("/api/v1/orgs/default/invitations", headers=as_ann, json={"role": "owner"}),
            await client.patch(f"{MEMBERS}/{bob['id']}", headers=as_ann, json={"role": "owner"}),
            await client.patch(f"{MEMBERS}/{owner_id}", headers=as_ann, json={"role": "member"}),
            await client.patch(f"{MEMBERS}/{owner_id}", headers=as_ann, json={"username": "renamed"}),
            await client.delete(f"{MEMBERS}/{owner_id}", headers=as_ann),
        ]
        for response in refused:
            assert_error(response, 403, "forbidden")

        # An owner makes owners.
        olga = await add_member(client, "default", "olga@example.com", role="owner")
        assert olga["role"] == "owner"
        bob_owner = await client.patch(f"{MEMBERS}/{bob['id']}", json={"role": "owner"})
        assert bob_owner.json()["role"] == "owner"
        roles = {m["email"]: m["role"] for m in (await client.get(MEMBERS)).json()["items"]}
        assert roles == {
            OWNER_EMAIL: "owner", "ann@example.com": "admin", "bob@example.com": "owner", "olga@example.com": "owner",
        }


async def test_the_last_owner_stays(database_url: str) -> None:
    async with client_for(database_url) as (_, client):
        owner_id = (await client.get("/api/v1/auth/me")).json()["id"]
        assert_error(await client.patch(f"{MEMBERS}/{owner_id}", json={"role": "admin"}), 409, "conflict")
        assert_error(await client.delete(f"{MEMBERS}/{owner_id}"), 409, "conflict")

        second = await add_member(client, "default", "second@example.com", role="owner")
        demoted = await client.patch(f"{MEMBERS}/{owner_id}", json={"role": "admin"})
        assert demoted.status_code == 200, demoted.text
        # The change holds at once: the first owner is an admin now, who can't touch an owner.
        assert_error(await client.delete(f"{MEMBERS}/{second['id']}"), 403, "forbidden")
        as_second = await _as(client, "second@example.com")
        assert_error(
            await client.patch(f"{MEMBERS}/{second['id']}", headers=as_second, json={"role": "member"}), 409, "conflict"
        )
        assert_error(await client.delete(f"{MEMBERS}/{second['id']}", headers=as_second), 409, "conflict")


async def test_a_removed_member_is_logged_out_at_once(database_url: str) -> None:
    async with client_for(database_url) as (_, client):
        bob = await add_member(client, "default", "bob@example.com")
        tokens = await login(client, "bob@example.com")
        await me(client, tokens["access_token"])  # known (and remembered) before the removal

        removed = await client.delete(f"{MEMBERS}/{bob['id']}")
        assert removed.status_code == 204, removed.text
        assert_error(await client.get("/api/v1/auth/me", headers=bearer(tokens["access_token"])), 401, "unauthorized")
        refresh = await client.post("/api/v1/auth/refresh", json={"refresh_token": tokens["refresh_token"]})
        assert_error(refresh, 401, "unauthorized")
        login_again = await client.post("/api/v1/auth/login", json={"email": "bob@example.com", "password": PASSWORD})
        assert_error(login_again, 401, "unauthorized")
        assert [m["email"] for m in (await client.get(MEMBERS)).json()["items"]] == [OWNER_EMAIL]
        assert_error(await client.delete(f"{MEMBERS}/{bob['id']}"), 404, "not_found")


async def test_a_new_role_holds_at_once(sqlite_url: str) -> None:
    async with client_for(sqlite_url) as (_, client):
        bob = await add_member(client, "default", "bob@example.com")
        as_bob = await _as(client, "bob@example.com")
        body = {"email": "carol@example.com", "password": PASSWORD}
        assert_error(await client.post(MEMBERS, headers=as_bob, json=body), 403, "forbidden")
        await client.patch(f"{MEMBERS}/{bob['id']}", json={"role": "admin"})
        assert (await client.post(MEMBERS, headers=as_bob, json=body)).status_code == 201
        assert (await me(client, as_bob["Authorization"].split()[1]))["role"] == "admin"


async def test_bad_member_input_is_422_and_unknown_ids_404(sqlite_url: str) -> None:
    async with client_for(sqlite_url) as (_, client):
        bob = await add_member(client, "default", "bob@example.com")
        cases = [
            (await client.post(MEMBERS, json={"email": "x@example.com", "password": "short"}), "password"),
            (await client.post(MEMBERS, json={"email": "nope", "password": PASSWORD}), "email"),
            (await client.post(MEMBERS, json={"email": "x@example.com", "password": PASSWORD, "role": "boss"}), "role"),
            (await client.post(MEMBERS, json={"email": "x@example.com", "password": PASSWORD, "username": " "}),
             "username"),
            (await client.patch(f"{MEMBERS}/{bob['id']}", json={"role": None}), "role"),
            (await client.patch(f"{MEMBERS}/{bob['id']}", json={"username": None}), "username"),
            (await client.patch(f"{MEMBERS}/{bob['id']}", json={"password": PASSWORD}), "password"),
            (await client.patch("/api/v1/orgs/default", json={"name": ""}), "name"),
        ]
        for response, field in cases:
            error = assert_error(response, 422, "invalid_input")
            assert [detail["field"] for detail in error["details"]] == [field], error
            assert PASSWORD not in response.text
        assert_error(await client.patch(f"{MEMBERS}/usr_nobody", json={"role": "admin"}), 404, "not_found")
        unchanged = await client.patch(f"{MEMBERS}/{bob['id']}", json={})
        assert unchanged.json()["role"] == "member"


async def test_every_change_is_in_the_audit_log_without_secrets(database_url: str) -> None:
    async with client_for(database_url) as (_, client):
        owner_id = (await client.get("/api/v1/auth/me")).json()["id"]
        bob = await add_member(client, "default", "bob@example.com")
        await client.patch(f"{MEMBERS}/{bob['id']}", json={"role": "admin", "username": "robert"})
        await client.patch(f"{MEMBERS}/{bob['id']}", json={"role": "admin"})  # no change: no record
        await client.delete(f"{MEMBERS}/{bob['id']}")
        await client.patch("/api/v1/orgs/default", json={"name": "Headquarters"})
        carol = await register(client, "carol@example.com")
        deleted = await client.request(
            "DELETE", "/api/v1/auth/me", json={"password": PASSWORD}, headers=bearer(carol["access_token"])
        )
        assert deleted.status_code == 204, deleted.text

        records = await audit_records(database_url)
        changes = [(r.action, r.resource_type, r.resource_id) for r in records if r.org_id == "default"]
        assert changes == [
            ("member.create", "member", bob["id"]),
            ("member.update", "member", bob["id"]),
            ("member.delete", "member", bob["id"]),
            ("organization.update", "organization", "default"),
        ]
        create, update, delete, rename = [r for r in records if r.org_id == "default"]
        assert create.before is None and create.after == {"email": "bob@example.com", "username": "bob", "role": "member"}
        assert update.before == create.after
        assert update.after == {"email": "bob@example.com", "username": "robert", "role": "admin"}
        assert delete.before == update.after and delete.after is None
        assert (rename.before, rename.after) == ({"name": "Default"}, {"name": "Headquarters"})
        for record in (create, update, delete, rename):
            assert (record.actor_user_id, record.actor_api_key_id, record.address) == (owner_id, None, "127.0.0.1")
        assert [r.action for r in records if r.org_id != "default"] == ["organization.create", "user.delete"]
        everything = json.dumps([[r.before, r.after] for r in records])
        assert PASSWORD not in everything and "argon2" not in everything


async def test_an_api_key_can_not_use_the_organisation_routes(sqlite_url: str) -> None:
    async with client_for(sqlite_url) as (_, client):
        key = new_secret(API_KEY_PREFIX)
        engine = create_engine(sqlite_url, pool_size=1)
        try:
            async with create_session_factory(engine)() as session:
                session.add(ApiKey(id="key_test", org_id="default", name="ci", prefix=key[:12], key_hash=digest(key)))
                await session.commit()
        finally:
            await engine.dispose()
        as_key = bearer(key)
        for response in (
            await client.get("/api/v1/orgs/default", headers=as_key),
            await client.get(MEMBERS, headers=as_key),
            await client.post(MEMBERS, headers=as_key, json={"email": "k@example.com", "password": PASSWORD}),
            await client.post("/api/v1/orgs/default/invitations", headers=as_key, json={"role": "member"}),
            await client.request("DELETE", "/api/v1/auth/me", headers=as_key, json={"password": PASSWORD}),
        ):
            assert_error(response, 403, "forbidden")
