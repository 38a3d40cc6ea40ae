"""The audit log as an owner or admin reads it: every change of an agent, who made it (a
user or an API key), from which address, the agent before and after with its secrets
masked; newest first, filtered and paged; nobody else's records, and for nobody else."""

from __future__ import annotations

from typing import Any

import httpx

from tests.agents.helpers import assert_error, client_for
from tests.support.accounts import api_key, bearer, second_org, user_id, user_token

SECRET_SETTINGS = {
    "provider": "fake",
    "model_id": "demo",
    "base_url": "https://proxy:BASEPASS@llm.example.com/v1",
    "integrations": [{"type": "webhook", "settings": {"bot_token": "TOPTOKEN", "chat_id": 42}}],
}


async def _records(client: httpx.AsyncClient, **params: Any) -> list[dict[str, Any]]:
    response = await client.get("/api/v1/audit", params=params)
    assert response.status_code == 200, response.text
    return list(response.json()["items"])


async def test_agent_changes_are_recorded_with_who_where_before_and_after(database_url: str) -> None:
    async with client_for(database_url) as (app, client):
        owner = await user_id(app, app.token)
        created = await client.post("/api/v1/agents", json={"id": "audited", "name": "A", "settings": SECRET_SETTINGS})
        assert created.status_code == 201, created.text
        # A create refused is not a change: nothing is recorded for it.
        assert_error(await client.post("/api/v1/agents", json={"id": "audited", "name": "A", "settings": {
            "provider": "fake", "model_id": "demo"}}), 409)
        patch = {"name": "B", "settings": {"temperature": 0.5}}
        assert (await client.patch("/api/v1/agents/audited", json=patch)).status_code == 200
        assert (await client.patch("/api/v1/agents/audited", json=patch)).status_code == 200  # no change
        assert (await client.post("/api/v1/agents/audited/start")).status_code == 200
        assert (await client.post("/api/v1/agents/audited/stop")).status_code == 200
        assert (await client.delete("/api/v1/agents/audited")).status_code == 204

        response = await client.get("/api/v1/audit")
        assert response.status_code == 200
        for secret in ("TOPTOKEN", "BASEPASS"):
            assert secret not in response.text
        records = response.json()["items"]
        assert [r["action"] for r in records] == [
            "agent.delete", "agent.stop", "agent.start", "agent.update", "agent.create",
        ]
        for record in records:
            assert record["actor_user_id"] == owner and record["actor_api_key_id"] is None
            assert record["address"] == "127.0.0.1"
            assert (record["resource_type"], record["resource_id"]) == ("agent", "audited")
        delete, stop, start, update, create = records
        assert create["before"] is None
        assert create["after"]["name"] == "A"
        assert create["after"]["settings"]["integrations"][0]["settings"] == {"bot_token": "***", "chat_id": 42}
        assert create["after"]["settings"]["base_url"] == "https://proxy:***@llm.example.com/v1"
        assert (update["before"]["name"], update["after"]["name"]) == ("A", "B")
        assert update["before"]["settings"]["temperature"] != 0.5
        assert update["after"]["settings"]["temperature"] == 0.5
        assert update["after"]["config_version"] == update["before"]["config_version"] + 1
        assert start["after"]["status"] in ("starting", "running") and stop["after"]["status"] == "stopped"
        assert delete["before"]["name"] == "B" and delete["after"] is None
        assert records == sorted(records, key=lambda r: r["id"], reverse=True)


async def test_filters_and_pages(database_url: str) -> None:
    async with client_for(database_url) as (app, client):
        owner = await user_id(app, app.token)
        member_token = await user_token(app, "member@example.com")
        member = await user_id(app, member_token)
        key = await api_key(app)
        for n in range(4):
            assert (await client.post("/api/v1/agents", json={"name": f"n{n}", "settings": {
                "provider": "fake", "model_id": "demo"}})).status_code == 201
        for credentials, agent_id in ((member_token, "by-member"), (key, "by-key")):
            response = await client.post("/api/v1/agents", headers=bearer(credentials), json={
                "id": agent_id, "name": "x", "settings": {"provider": "fake", "model_id": "demo"}})
            assert response.status_code == 201, response.text
        assert (await client.delete("/api/v1/agents/by-key")).status_code == 204

        seen: list[int] = []
        params: dict[str, Any] = {"action": "agent.create", "limit": 4}
        while True:
            page = (await client.get("/api/v1/audit", params=params)).json()
            seen += [r["id"] for r in page["items"]]
            assert len(page["items"]) <= 4
            if page["next_before"] is None:
                break
            params["before"] = page["next_before"]
        assert len(seen) == 6 and seen == sorted(set(seen), reverse=True)

        assert [r["action"] for r in await _records(client, resource_type="agent")][0] == "agent.delete"
        assert await _records(client, resource_type="member") == []
        assert len(await _records(client, actor=owner)) == 5
        [by_member] = await _records(client, actor=member)
        assert by_member["resource_id"] == "by-member"
        keyed = [r for r in await _records(client) if r["actor_api_key_id"]]
        assert [(r["action"], r["resource_id"], r["actor_user_id"]) for r in keyed] == [
            ("agent.create", "by-key", None)]
        assert await _records(client, actor=keyed[0]["actor_api_key_id"]) == keyed


async def test_only_owners_and_admins_of_the_organisation_read_it(database_url: str) -> None:
    async with client_for(database_url) as (app, client):
        owner = await user_id(app, app.token)
        assert (await client.post("/api/v1/agents", json={"name": "mine", "settings": {
            "provider": "fake", "model_id": "demo"}})).status_code == 201
        admin = await user_token(app, "admin@example.com", role="admin")
        member = await user_token(app, "member@example.com")
        key = await api_key(app)
        other = await second_org(app)

        assert len((await client.get("/api/v1/audit", headers=bearer(admin))).json()["items"]) == 1
        async with httpx.AsyncClient(base_url=app.url, timeout=20) as anonymous:
            assert_error(await anonymous.get("/api/v1/audit"), 401)
        assert_error(await client.get("/api/v1/audit", headers=bearer(member)), 403, "forbidden")
        refused = assert_error(await client.get("/api/v1/audit", headers=bearer(key)), 403, "forbidden")
        assert "not an API key" in refused["message"]  # says what to use instead
        # Another organisation's owner sees its own log (its creation): nothing of the first's.
        theirs = (await client.get("/api/v1/audit", headers=bearer(other))).json()["items"]
        assert [r["action"] for r in theirs] == ["organization.create"]
        for params in ({"actor": owner}, {"resource_type": "agent"}):
            response = await client.get("/api/v1/audit", headers=bearer(other), params=params)
            assert response.status_code == 200 and response.json()["items"] == [], response.text

        for bad in ({"limit": 0}, {"limit": 501}, {"before": 0}, {"before": 2**31}, {"action": "DROP TABLE"},
                    {"actor": "x" * 65}, {"resource_type": "agent\x00"}):
            assert_error(await client.get("/api/v1/audit", params=bad), 422)
