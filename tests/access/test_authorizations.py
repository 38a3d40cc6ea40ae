"""``/api/v1/agents/{id}/authorizations``: owners and admins grant, list and revoke who may
chat with an ``authorized`` agent; every change is in the audit log; members and keys get
403, another organisation 404."""

from __future__ import annotations

from tests.access.helpers import audit_actions, hub_on, member_of_default
from tests.agents.helpers import assert_error


async def test_admins_grant_list_and_revoke_authorisations_and_each_change_is_audited(database_url: str) -> None:
    async with hub_on(database_url) as hub:
        agent_id = await hub.agent(access="authorized")
        owner_id = (await hub.owner.get("/api/v1/auth/me")).json()["id"]
        url = f"/api/v1/agents/{agent_id}/authorizations"

        granted = await hub.owner.post(url, json={"channel": "web", "platform_user_id": "usr_1"})
        assert granted.status_code == 201, granted.text
        body = granted.json()
        assert set(body) == {"id", "agent_id", "channel", "platform_user_id", "created_at"}
        assert (body["agent_id"], body["channel"], body["platform_user_id"]) == (agent_id, "web", "usr_1")
        assert_error(await hub.owner.post(url, json={"channel": "web", "platform_user_id": "usr_1"}), 409, "conflict")
        telegram = await hub.owner.post(url, json={"channel": "telegram", "platform_user_id": "usr_1"})
        assert telegram.status_code == 201, telegram.text

        listed = await hub.owner.get(url)
        assert [(a["channel"], a["platform_user_id"]) for a in listed.json()["items"]] == [
            ("web", "usr_1"), ("telegram", "usr_1"),
        ]
        assert (await hub.owner.delete(f"{url}/{body['id']}")).status_code == 204
        assert_error(await hub.owner.delete(f"{url}/{body['id']}"), 404, "not_found")
        assert [a["channel"] for a in (await hub.owner.get(url)).json()["items"]] == ["telegram"]

        expected = {"agent_id": agent_id, "channel": "web", "platform_user_id": "usr_1"}
        actions = [a for a in await audit_actions(hub) if a[0].startswith("authorization.")]
        assert actions == [
            ("authorization.create", owner_id, None, expected),
            ("authorization.create", owner_id, None, {**expected, "channel": "telegram"}),
            ("authorization.delete", owner_id, expected, None),
        ]


async def test_members_and_keys_get_403_and_another_organisation_404_without_any_data(database_url: str) -> None:
    async with hub_on(database_url) as hub:
        agent_id = await hub.agent(access="authorized")
        url = f"/api/v1/agents/{agent_id}/authorizations"
        granted = (await hub.owner.post(url, json={"channel": "web", "platform_user_id": "usr_1"})).json()
        member, _ = await member_of_default(hub)
        key = hub.client((await hub.key())["key"])
        stranger, _ = await hub.register("admin@other.example")  # the owner of another organisation
        body = {"channel": "web", "platform_user_id": "usr_2"}

        for client in (member, key):
            assert_error(await client.get(url), 403, "forbidden")
            assert_error(await client.post(url, json=body), 403, "forbidden")
            assert_error(await client.delete(f"{url}/{granted['id']}"), 403, "forbidden")
        for response in (
            await stranger.get(url), await stranger.post(url, json=body),
            await stranger.delete(f"{url}/{granted['id']}"),
        ):
            assert "usr_1" not in assert_error(response, 404, "not_found")["message"]
        # and in their own organisation, another agent's authorisation is not found either
        theirs = await hub.agent(stranger)
        assert_error(await stranger.delete(f"/api/v1/agents/{theirs}/authorizations/{granted['id']}"), 404)
        assert [a["platform_user_id"] for a in (await hub.owner.get(url)).json()["items"]] == ["usr_1"]
        assert_error(await hub.client().get(url), 401, "unauthorized")


async def test_a_bad_authorisation_is_refused_with_the_field_named(sqlite_url: str) -> None:
    async with hub_on(sqlite_url) as hub:
        agent_id = await hub.agent()
        url = f"/api/v1/agents/{agent_id}/authorizations"
        for body, field in (
            ({"platform_user_id": "usr_1"}, "channel"),
            ({"channel": "Web", "platform_user_id": "usr_1"}, "channel"),
            ({"channel": "web", "platform_user_id": " "}, "platform_user_id"),
            ({"channel": "web", "platform_user_id": "x" * 129}, "platform_user_id"),
            ({"channel": "web", "platform_user_id": "usr_1", "role": "admin"}, "role"),
        ):
            error = assert_error(await hub.owner.post(url, json=body), 422, "invalid_input")
            assert error["details"][0]["field"] == field, error
        response = await hub.owner.post(
            "/api/v1/agents/no-such-agent/authorizations", json={"channel": "web", "platform_user_id": "usr_1"}
        )
        assert_error(response, 404, "not_found")
        assert_error(await hub.owner.get("/api/v1/agents/no-such-agent/authorizations"), 404, "not_found")
