"""``GET``/``PUT /api/v1/agents/{id}/memory``: a user's core memory blocks with an agent, as
people read and change them: defaults, partial replacement, limits (422), another user's
memory (owners and admins only: 403 for others), another organisation's agent (404)."""

from __future__ import annotations

import httpx

from tests.agents.helpers import agent_body, assert_error, client_for
from tests.support.accounts import api_key, bearer, second_org, user_id, user_token

MEMORY = "/api/v1/agents/mem/memory"


async def _agent(client: httpx.AsyncClient, **settings: object) -> None:
    body = agent_body(id="mem", settings={"tools": ["core_memory_append"], **settings})
    created = await client.post("/api/v1/agents", json=body)
    assert created.status_code == 201, created.text


async def test_blocks_start_from_the_agents_settings_and_a_put_replaces_only_those_it_names(database_url: str) -> None:
    async with client_for(database_url) as (_, client):
        await _agent(client, memory_blocks=[
            {"label": "persona", "value": "I am Memo.", "limit": 100}, {"label": "human", "limit": 50},
        ])
        start = await client.get(MEMORY)
        assert start.status_code == 200, start.text
        assert start.json() == {"blocks": [
            {"label": "persona", "value": "I am Memo.", "limit": 100}, {"label": "human", "value": "", "limit": 50},
        ]}

        put = await client.put(MEMORY, json={"blocks": [
            {"label": "human", "value": "Likes short answers."}, {"label": "projects", "value": "Heron", "limit": 300},
        ]})
        assert put.status_code == 200, put.text
        expected = {"blocks": [
            {"label": "persona", "value": "I am Memo.", "limit": 100},
            {"label": "human", "value": "Likes short answers.", "limit": 50},
            {"label": "projects", "value": "Heron", "limit": 300},
        ]}
        assert put.json() == expected
        assert (await client.get(MEMORY)).json() == expected

        over = await client.put(MEMORY, json={"blocks": [
            {"label": "projects", "value": "ok"}, {"label": "human", "value": "x" * 51},
        ]})
        assert "over its limit of 50" in assert_error(over, 422)["message"]
        twice = await client.put(MEMORY, json={"blocks": [{"label": "human"}, {"label": "human"}]})
        assert_error(twice, 422)
        assert_error(await client.put(MEMORY, json={"blocks": [{"label": "Bad Label"}]}), 422)
        assert_error(await client.put(MEMORY, json={"blocks": [{"label": "human", "limit": 0}]}), 422)
        assert (await client.get(MEMORY)).json() == expected  # nothing of a refused PUT was kept

        audit = (await client.get("/api/v1/audit", params={"action": "memory.update"})).json()["items"]
        assert len(audit) == 1 and audit[0]["resource_id"] == "mem"
        assert "Likes short answers" not in str(audit)  # what people told the agent stays out of the audit


async def test_another_users_memory_is_for_owners_and_admins_and_other_orgs_get_404(database_url: str) -> None:
    async with client_for(database_url) as (app, owner):
        await _agent(owner)
        member = await user_token(app, "member@example.com")
        admin = await user_token(app, "admin@example.com", role="admin")
        member_id = await user_id(app, member)
        owner_id = (await owner.get("/api/v1/auth/me")).json()["id"]
        put = await owner.put(MEMORY, params={"user_id": member_id}, json={"blocks": [{"label": "human", "value": "M."}]})
        assert put.status_code == 200, put.text

        async with httpx.AsyncClient(base_url=app.url, timeout=20) as client:
            own = await client.get(MEMORY, headers=bearer(member))
            assert {"label": "human", "value": "M.", "limit": 2000} in own.json()["blocks"]
            as_admin = await client.get(MEMORY, params={"user_id": member_id}, headers=bearer(admin))
            assert as_admin.json() == own.json()
            assert_error(await client.get(MEMORY, params={"user_id": owner_id}, headers=bearer(member)), 403)
            assert_error(await client.put(
                MEMORY, params={"user_id": owner_id}, headers=bearer(member), json={"blocks": []}
            ), 403)
            assert_error(await client.get(MEMORY, params={"user_id": "bad user id!"}, headers=bearer(member)), 422)

            key = await api_key(app)
            keyed = await client.put(MEMORY, headers=bearer(key), json={"blocks": [{"label": "human", "value": "K."}]})
            assert keyed.status_code == 200, keyed.text  # an API key's own memory (its messages' user)
            assert_error(await client.get(MEMORY, params={"user_id": member_id}, headers=bearer(key)), 403)

            other = await second_org(app)
            for path in (MEMORY, "/api/v1/agents/nobody/memory"):
                assert_error(await client.get(path, headers=bearer(other)), 404)
                assert_error(await client.get(path, params={"user_id": member_id}, headers=bearer(other)), 404)
                assert_error(await client.put(path, headers=bearer(other), json={"blocks": []}), 404)
        assert (await owner.get(MEMORY, params={"user_id": member_id})).json() == own.json()
