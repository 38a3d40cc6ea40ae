"""An agent's base_url through the outbound guard: a local model server only for owners and
admins, cloud metadata for nobody, checked again at every turn."""

from __future__ import annotations

from tests.agents.helpers import agent_body, assert_error, client_for
from tests.support.accounts import bearer, user_token
from tests.support.fake_openai import FakeOpenAI
from tests.support.sse import parse_sse

METADATA = "http://169.254.169.254/v1"


def _on(base_url: str, **more: object) -> dict:
    return agent_body(settings={"provider": "openai_compatible", "model_id": "m", "base_url": base_url}, **more)


async def test_owners_and_admins_may_use_a_local_model_server_members_may_not(sqlite_url: str) -> None:
    with FakeOpenAI(answers=["hi from the local model"]) as model:
        async with client_for(sqlite_url) as (app, client):
            assert (await client.post("/api/v1/agents", json=_on(model.url, id="owners"))).status_code == 201
            admin = bearer(await user_token(app, "admin@example.com", role="admin"))
            member = bearer(await user_token(app, "member@example.com"))
            by_admin = await client.post("/api/v1/agents", json=_on(model.url, id="admins"), headers=admin)
            assert by_admin.status_code == 201, by_admin.text
            by_member = await client.post("/api/v1/agents", json=_on(model.url, id="members"), headers=member)
            error = assert_error(by_member, 422)
            assert error["details"][0]["field"] == "settings.base_url"
            assert error["message"].startswith("refused: 127.0.0.1 is a loopback address")
            # A member may still edit the agent an owner pointed at a local server...
            renamed = await client.patch("/api/v1/agents/owners", json={"settings": {"temperature": 0.5}}, headers=member)
            assert renamed.status_code == 200, renamed.text
            # ...but not point one there.
            assert (await client.post("/api/v1/agents", json=agent_body(id="plain"), headers=member)).status_code == 201
            moved = await client.patch("/api/v1/agents/plain", json={"settings": {
                "provider": "openai_compatible", "base_url": model.url}}, headers=member)
            assert assert_error(moved, 422)["details"][0]["field"] == "settings.base_url"


async def test_metadata_addresses_are_refused_for_everyone(sqlite_url: str) -> None:
    async with client_for(sqlite_url) as (_, client):
        created = await client.post("/api/v1/agents", json=_on(METADATA))
        error = assert_error(created, 422)
        assert error["message"] == "refused: 169.254.169.254 is a link-local address (cloud metadata)"
        assert error["details"][0]["field"] == "settings.base_url"
        assert (await client.post("/api/v1/agents", json=agent_body(id="plain"))).status_code == 201
        patched = await client.patch("/api/v1/agents/plain", json={"settings": {
            "provider": "openai_compatible", "base_url": METADATA}})
        assert assert_error(patched, 422)["message"] == error["message"]


async def test_the_turn_checks_the_base_url_before_the_model_is_called(sqlite_url: str) -> None:
    # Allowed when it was saved; the allow-list has changed since.
    async with client_for(sqlite_url, outbound_allowlist="169.254.169.254") as (_, client):
        assert (await client.post("/api/v1/agents", json=_on(METADATA, id="meta"))).status_code == 201
    async with client_for(sqlite_url) as (_, client):
        response = await client.post("/api/v1/agents/meta/chat", json={"content": "hello"}, timeout=60)
    errors = [data for name, data in parse_sse(response.text) if name == "error"]
    assert errors, response.text
    assert errors[0]["message"] == "refused: 169.254.169.254 is a link-local address (cloud metadata)"


async def test_mcp_servers_are_held_to_the_same_rule(sqlite_url: str) -> None:
    """An MCP server is reached with the trust of the agent's configuration, as its model is:
    a member may not point one at a loopback or private address, nobody at cloud metadata."""
    async with client_for(sqlite_url) as (app, client):
        member = bearer(await user_token(app, "member@example.com"))
        local = {"mcp_servers": [{"name": "tools", "url": "http://127.0.0.2:8602/mcp"}]}
        by_member = await client.post("/api/v1/agents", json=agent_body(id="m1", settings=local), headers=member)
        error = assert_error(by_member, 422)
        assert error["details"][0]["field"] == "settings.mcp_servers.0.url"
        assert error["message"].startswith("refused: 127.0.0.2 is a loopback address")
        # The owner may; a member may then edit the agent, not add another such server.
        assert (await client.post("/api/v1/agents", json=agent_body(id="o1", settings=local))).status_code == 201
        assert (await client.patch("/api/v1/agents/o1", json={"settings": {"temperature": 0.3}}, headers=member)).status_code == 200
        more = {"mcp_servers": [*local["mcp_servers"], {"name": "more", "url": "http://10.1.2.3/mcp"}]}
        added = await client.patch("/api/v1/agents/o1", json={"settings": more}, headers=member)
        assert assert_error(added, 422)["details"][0]["field"] == "settings.mcp_servers.1.url"
        metadata = {"mcp_servers": [{"name": "meta", "url": "http://169.254.169.254/mcp"}]}
        assert_error(await client.post("/api/v1/agents", json=agent_body(id="o2", settings=metadata)), 422)
