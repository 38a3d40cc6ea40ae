"""API keys: made by users and shown once, stored as their SHA-256, listed with when they
were last used, revoked at once; a key acts for its organisation, on every agent or only
on those it lists, and may not manage keys, members or authorisations."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from agenthub.accounts.models import ApiKey
from agenthub.db.engine import session_scope
from tests.access.helpers import (
    answer_of,
    audit_actions,
    hub_on,
    member_of_default,
    sse_chat,
    ws_refusal,
    ws_turn,
)
from tests.agents.helpers import assert_error


async def test_a_key_is_shown_once_stored_hashed_listed_with_its_last_use_and_refused_once_revoked(
    database_url: str,
) -> None:
    async with hub_on(database_url) as hub:
        agent_id = await hub.agent()
        before = datetime.now(UTC) - timedelta(seconds=1)
        response = await hub.owner.post("/api/v1/api-keys", json={"name": "nightly report"})
        assert response.status_code == 201, response.text
        created = response.json()
        assert {"id", "name", "key", "prefix", "created_at"} <= set(created)
        key = created["key"]
        assert key.startswith("ahk_") and len(key) > 40 and created["prefix"] == key[:12]
        assert created["name"] == "nightly report" and created["agent_ids"] is None
        async with session_scope(hub.app.app.state.session_factory) as session:
            row = await session.scalar(select(ApiKey).where(ApiKey.id == created["id"]))
            assert row is not None and row.key_hash == hashlib.sha256(key.encode()).hexdigest()

        listed = (await hub.owner.get("/api/v1/api-keys")).json()["items"]
        assert [(k["id"], k["prefix"], k["last_used_at"]) for k in listed] == [
            (created["id"], created["prefix"], None)
        ]
        assert key not in str(listed) and "key" not in listed[0]

        program = hub.client(key)
        assert (await program.get("/api/v1/agents")).json()["items"][0]["id"] == agent_id
        answer_of(await sse_chat(program, agent_id))
        used = (await hub.owner.get("/api/v1/api-keys")).json()["items"][0]["last_used_at"]
        assert used is not None and datetime.fromisoformat(used) >= before

        assert (await hub.owner.delete(f"/api/v1/api-keys/{created['id']}")).status_code == 204
        assert_error(await program.get("/api/v1/agents"), 401, "unauthorized")
        assert_error(await sse_chat(program, agent_id), 401, "unauthorized")
        event, code = await ws_refusal(hub.ws(f"/ws/agents/{agent_id}", key))
        assert (event["code"], code) == ("unauthorized", 4401)
        assert (await hub.owner.get("/api/v1/api-keys")).json()["items"] == []
        assert_error(await hub.owner.delete(f"/api/v1/api-keys/{created['id']}"), 404, "not_found")

        owner_id = (await hub.owner.get("/api/v1/auth/me")).json()["id"]
        described = {"name": "nightly report", "prefix": created["prefix"], "agent_ids": None}
        assert [a for a in await audit_actions(hub) if a[0].startswith("api_key.")] == [
            ("api_key.create", owner_id, None, described), ("api_key.delete", owner_id, described, None),
        ]


async def test_a_key_limited_to_agents_reaches_those_alone_and_the_rest_are_404(database_url: str) -> None:
    async with hub_on(database_url) as hub:
        mine, other = await hub.agent(), await hub.agent()
        public = await hub.agent(access="public")
        created = await hub.key(agent_ids=[mine])
        assert created["agent_ids"] == [mine]
        program = hub.client(created["key"])

        assert [a["id"] for a in (await program.get("/api/v1/agents")).json()["items"]] == [mine]
        assert (await program.get(f"/api/v1/agents/{mine}")).status_code == 200
        answer_of(await sse_chat(program, mine))
        assert (await ws_turn(hub.ws(f"/ws/agents/{mine}", created["key"])))[-1]["type"] == "message"
        for agent_id in (other, public):
            for response in (
                await program.get(f"/api/v1/agents/{agent_id}"),
                await program.get(f"/api/v1/agents/{agent_id}/config"),
                await program.get(f"/api/v1/agents/{agent_id}/status"),
                await program.get(f"/api/v1/agents/{agent_id}/usage"),
                await program.get(f"/api/v1/agents/{agent_id}/chats/c1/messages"),
                await program.patch(f"/api/v1/agents/{agent_id}", json={"name": "taken over"}),
                await program.post(f"/api/v1/agents/{agent_id}/stop"),
                await program.delete(f"/api/v1/agents/{agent_id}"),
                await sse_chat(program, agent_id),
            ):
                assert_error(response, 404, "not_found")
            event, code = await ws_refusal(hub.ws(f"/ws/agents/{agent_id}", created["key"]))
            assert (event["code"], code) == ("not_found", 4404)
        assert_error(await program.post("/api/v1/agents", json={"name": "x", "settings": {
            "provider": "fake", "model_id": "demo"}}), 403, "forbidden")
        assert (await hub.owner.get(f"/api/v1/agents/{other}")).json()["name"] == "Access test"


async def test_a_key_may_not_manage_keys_or_read_who_it_is(sqlite_url: str) -> None:
    async with hub_on(sqlite_url) as hub:
        created = await hub.key()
        program = hub.client(created["key"])
        assert_error(await program.post("/api/v1/api-keys", json={"name": "another"}), 403, "forbidden")
        assert_error(await program.get("/api/v1/api-keys"), 403, "forbidden")
        assert_error(await program.delete(f"/api/v1/api-keys/{created['id']}"), 403, "forbidden")
        assert_error(await program.get("/api/v1/auth/me"), 403, "forbidden")
        assert_error(await hub.client().get("/api/v1/api-keys"), 401, "unauthorized")
        assert_error(await hub.client("ahk_not-a-key").get("/api/v1/agents"), 401, "unauthorized")
        assert len((await hub.owner.get("/api/v1/api-keys")).json()["items"]) == 1


async def test_members_see_their_own_keys_admins_every_key_and_other_organisations_none(sqlite_url: str) -> None:
    async with hub_on(sqlite_url) as hub:
        member, _ = await member_of_default(hub)
        owners = await hub.key(name="the owner's")
        members = await hub.key(member, name="the member's")
        stranger, _ = await hub.register("stranger@example.com")
        strangers = await hub.key(stranger, name="another organisation's")

        def names(response) -> list[str]:  # type: ignore[no-untyped-def]
            return [k["name"] for k in response.json()["items"]]

        assert names(await hub.owner.get("/api/v1/api-keys")) == ["the owner's", "the member's"]
        assert names(await member.get("/api/v1/api-keys")) == ["the member's"]
        assert names(await stranger.get("/api/v1/api-keys")) == ["another organisation's"]
        assert_error(await member.delete(f"/api/v1/api-keys/{owners['id']}"), 404, "not_found")
        for key in (owners, members):
            assert_error(await stranger.delete(f"/api/v1/api-keys/{key['id']}"), 404, "not_found")
        assert_error(await hub.owner.delete(f"/api/v1/api-keys/{strangers['id']}"), 404, "not_found")
        # An admin may revoke a member's key; the key of the other organisation lives on.
        assert (await hub.owner.delete(f"/api/v1/api-keys/{members['id']}")).status_code == 204
        assert_error(await hub.client(members["key"]).get("/api/v1/agents"), 401)
        assert (await hub.client(strangers["key"]).get("/api/v1/agents")).status_code == 200


async def test_a_bad_key_request_is_refused_with_the_field_named(sqlite_url: str) -> None:
    async with hub_on(sqlite_url) as hub:
        stranger, _ = await hub.register("stranger@example.com")
        theirs = await hub.agent(stranger)
        ours = await hub.agent()
        for body, field in (
            ({}, "name"),
            ({"name": " "}, "name"),
            ({"name": "x", "agent_ids": []}, "agent_ids"),
            ({"name": "x", "agent_ids": ["Not An Id"]}, "agent_ids.0"),
            ({"name": "x", "scopes": ["*"]}, "scopes"),
        ):
            error = assert_error(await hub.owner.post("/api/v1/api-keys", json=body), 422, "invalid_input")
            assert error["details"][0]["field"] == field, (body, error)
        # An agent the organisation doesn't have, and another organisation's alike: 404.
        error = assert_error(
            await hub.owner.post("/api/v1/api-keys", json={"name": "x", "agent_ids": [ours, "no-such-agent"]}),
            404, "not_found",
        )
        assert error["message"] == "agent_ids: no such agent: no-such-agent"
        error = assert_error(await hub.owner.post("/api/v1/api-keys", json={"name": "x", "agent_ids": [theirs]}), 404)
        assert error["message"] == f"agent_ids: no such agent: {theirs}"
        assert (await hub.owner.get("/api/v1/api-keys")).json()["items"] == []
