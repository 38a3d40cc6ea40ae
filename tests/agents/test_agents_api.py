"""The agents REST API as a client uses it, on SQLite and on PostgreSQL."""

from __future__ import annotations

import re

import httpx

from tests.agents.helpers import agent_body, assert_error, client_for

TOKEN = "123:abc-very-secret"


async def _create(client: httpx.AsyncClient, **overrides) -> dict:  # type: ignore[no-untyped-def]
    response = await client.post("/api/v1/agents", json=agent_body(**overrides))
    assert response.status_code == 201, response.text
    return response.json()


async def test_create_generates_an_id_and_reads_back(database_url: str) -> None:
    async with client_for(database_url) as (_, client):
        created = await _create(client, name="Generated", settings={"temperature": 0.2})
        assert re.fullmatch(r"agent_[0-9a-f]{12}", created["id"])
        assert created["name"] == "Generated"
        assert created["kind"] == "llm"
        assert created["config_version"] == 1
        assert created["settings"]["provider"] == "fake"
        assert created["settings"]["temperature"] == 0.2
        assert created["settings"]["isolation"] == "shared"
        # Timestamps carry their zone (UTC) on every database.
        assert created["created_at"].endswith(("Z", "+00:00"))

        fetched = await client.get(f"/api/v1/agents/{created['id']}")
        assert fetched.status_code == 200
        assert fetched.json() == created  # no `warning`: the fake provider needs no key

        other = await _create(client, name="Generated too")
        assert other["id"] != created["id"]


async def test_create_with_a_client_id(database_url: str) -> None:
    async with client_for(database_url) as (_, client):
        created = await _create(
            client, id="support-bot_1", settings={"base_url": "http://127.0.0.1:9999/v1/"}
        )
        assert created["id"] == "support-bot_1"
        # The stored endpoint is normalised without the trailing slash.
        assert created["settings"]["base_url"] == "http://127.0.0.1:9999/v1"
        fetched = await client.get("/api/v1/agents/support-bot_1")
        assert fetched.json()["name"] == "Helper"


async def test_list_counts_all_and_pages_with_limit_and_offset(database_url: str) -> None:
    async with client_for(database_url) as (_, client):
        empty = (await client.get("/api/v1/agents")).json()
        assert empty == {"items": [], "total": 0}

        ids = [(await _create(client, id=f"agent-{n}", name=f"Agent {n}"))["id"] for n in range(3)]

        everything = (await client.get("/api/v1/agents")).json()
        assert everything["total"] == 3
        assert [a["id"] for a in everything["items"]] == ids

        first = (await client.get("/api/v1/agents", params={"limit": 2})).json()
        rest = (await client.get("/api/v1/agents", params={"limit": 2, "offset": 2})).json()
        assert first["total"] == rest["total"] == 3
        assert [a["id"] for a in first["items"]] == ids[:2]
        assert [a["id"] for a in rest["items"]] == ids[2:]

        beyond = (await client.get("/api/v1/agents", params={"offset": 10})).json()
        assert beyond == {"items": [], "total": 3}


async def test_update_of_a_stopped_agent_needs_no_restart(database_url: str) -> None:
    async with client_for(database_url) as (_, client):
        agent = await _create(client, id="editable")

        renamed = await client.patch("/api/v1/agents/editable", json={"name": "Renamed"})
        assert renamed.status_code == 200, renamed.text
        body = renamed.json()
        assert body["name"] == "Renamed"
        assert body["config_version"] == 1, "a name is no config a runner uses"
        assert body["restart_required"] is False
        assert body["message"] == "Saved."
        assert body["updated_at"] >= agent["updated_at"]

        for same in ({}, {"name": "Renamed"}, {"settings": {"temperature": agent["settings"]["temperature"]}}):
            unchanged = (await client.patch("/api/v1/agents/editable", json=same)).json()
            assert unchanged["config_version"] == 1
            assert unchanged["message"] == "Nothing changed."

        new_settings = {**agent["settings"], "system_prompt": "Answer in French.", "temperature": 1.5}
        changed = (await client.patch("/api/v1/agents/editable", json={"settings": new_settings})).json()
        assert changed["config_version"] == 2
        assert changed["settings"]["system_prompt"] == "Answer in French."
        assert changed["settings"]["temperature"] == 1.5

        # Sending what is already stored is not a new version.
        same = (await client.patch("/api/v1/agents/editable", json={"name": "Renamed"})).json()
        assert same["config_version"] == 2

        fetched = (await client.get("/api/v1/agents/editable")).json()
        assert fetched["name"] == "Renamed"
        assert fetched["config_version"] == 2
        assert fetched["settings"]["system_prompt"] == "Answer in French."


async def test_a_settings_patch_changes_only_the_fields_it_names(database_url: str) -> None:
    async with client_for(database_url) as (_, client):
        await _create(client, id="partial", settings={
            "provider": "openai_compatible", "model_id": "llama", "base_url": "http://127.0.0.1:9/v1",
            "system_prompt": "Be brief.", "isolation": "process",
        })
        patched = await client.patch("/api/v1/agents/partial", json={"settings": {"temperature": 0.2}})
        assert patched.status_code == 200, patched.text
        settings = patched.json()["settings"]
        assert settings["temperature"] == 0.2
        assert settings["system_prompt"] == "Be brief."
        assert settings["base_url"] == "http://127.0.0.1:9/v1"
        assert settings["isolation"] == "process"
        assert patched.json()["config_version"] == 2

        # Taking away the base_url the provider needs is refused, and nothing changes.
        refused = await client.patch("/api/v1/agents/partial", json={"settings": {"base_url": None}})
        assert_error(refused, 422, "invalid_input")
        assert (await client.get("/api/v1/agents/partial")).json()["settings"] == settings


async def test_update_of_a_running_agent_applies_on_its_next_restart(database_url: str) -> None:
    async with client_for(database_url) as (_, client):
        agent = await _create(client, id="live")
        started = await client.post("/api/v1/agents/live/start")
        assert started.status_code == 200, started.text
        assert started.json()["status"] == "running"
        assert started.json()["config_version"] == 1

        new_settings = {**agent["settings"], "system_prompt": "New prompt."}
        updated = await client.patch("/api/v1/agents/live", json={"settings": new_settings})
        assert updated.status_code == 200, updated.text
        body = updated.json()
        assert body["config_version"] == 2
        assert body["restart_required"] is True
        assert "next restart" in body["message"]

        # Still running the old config until it restarts.
        status = (await client.get("/api/v1/agents/live/status")).json()
        assert status["status"] == "running"
        assert status["config_version"] == 1
        unchanged = (await client.patch("/api/v1/agents/live", json={})).json()
        assert unchanged["restart_required"] is True
        assert unchanged["message"].startswith("Nothing changed.") and "next restart" in unchanged["message"]

        restarted = await client.post("/api/v1/agents/live/restart")
        assert restarted.status_code == 200, restarted.text
        assert restarted.json()["status"] == "running"
        assert restarted.json()["config_version"] == 2

        # Now it runs the newest config: an update that changes nothing needs no restart.
        again = (await client.patch("/api/v1/agents/live", json={"name": agent["name"]})).json()
        assert again["restart_required"] is False


async def test_start_stop_force_stop_restart_and_status(database_url: str) -> None:
    async with client_for(database_url) as (_, client):
        await _create(client, id="cycler")
        status = (await client.get("/api/v1/agents/cycler/status")).json()
        assert status["agent_id"] == "cycler"
        assert status["status"] == "stopped"

        started = (await client.post("/api/v1/agents/cycler/start")).json()
        assert started["status"] == "running"
        assert started["isolation"] == "shared"
        status = (await client.get("/api/v1/agents/cycler/status")).json()
        assert status["status"] == "running"
        assert status["host_id"]

        # Starting a running agent is harmless.
        assert (await client.post("/api/v1/agents/cycler/start")).json()["status"] == "running"

        stopped = await client.post("/api/v1/agents/cycler/stop")
        assert stopped.status_code == 200
        assert stopped.json()["status"] == "stopped"
        assert (await client.get("/api/v1/agents/cycler/status")).json()["status"] == "stopped"

        # Stopping a stopped agent is harmless too.
        assert (await client.post("/api/v1/agents/cycler/stop")).json()["status"] == "stopped"

        await client.post("/api/v1/agents/cycler/start")
        forced = await client.post("/api/v1/agents/cycler/stop", params={"force": "true"})
        assert forced.status_code == 200
        assert forced.json()["status"] == "stopped"

        restarted = await client.post("/api/v1/agents/cycler/restart")
        assert restarted.status_code == 200
        assert restarted.json()["status"] == "running"
        assert (await client.get("/api/v1/agents/cycler/status")).json()["status"] == "running"


async def test_delete_stops_a_running_agent_first(database_url: str) -> None:
    async with client_for(database_url) as (app, client):
        await _create(client, id="doomed")
        assert (await client.post("/api/v1/agents/doomed/start")).json()["status"] == "running"

        deleted = await client.delete("/api/v1/agents/doomed")
        assert deleted.status_code == 204
        assert deleted.content == b""

        assert_error(await client.get("/api/v1/agents/doomed"), 404, "not_found")
        assert_error(await client.get("/api/v1/agents/doomed/status"), 404, "not_found")
        assert (await client.get("/api/v1/agents")).json()["total"] == 0
        assert "doomed" not in app.app.state.supervisor.managed
        assert (await app.app.state.supervisor.statuses.get("doomed"))["status"] == "stopped"
        bus = app.app.state.bus
        # Its status stays 'stopped' a while (another gateway that owned it stops it too).
        left = await bus.get("agent_status:{doomed}")
        assert left["status"] == "stopped" and left["force"] is True and left["restart_count"] == 0
        assert await bus.pending_count("agent:{doomed}:input", "agenthub") == 0

        # Its id stays taken for the retention period (tests/agents/test_soft_delete.py).
        retained = assert_error(await client.post("/api/v1/agents", json=agent_body(id="doomed")), 409, "id_retained")
        assert "DELETED_RETENTION_DAYS" in retained["message"]

        assert_error(await client.delete("/api/v1/agents/nobody"), 404, "not_found")


async def test_config_is_what_a_runner_needs(database_url: str) -> None:
    async with client_for(database_url) as (_, client):
        await _create(client, id="configured", settings={"isolation": "process", "temperature": 0.0})
        config = await client.get("/api/v1/agents/configured/config")
        assert config.status_code == 200
        body = config.json()
        assert body["id"] == "configured"
        assert body["kind"] == "llm"
        assert body["config_version"] == 1
        assert body["settings"]["isolation"] == "process"
        assert body["settings"]["temperature"] == 0.0
        assert body["settings"]["model_id"] == "demo"


async def test_integration_secrets_never_leave_the_server(database_url: str) -> None:
    integration = {"type": "custom", "settings": {"bot_token": TOKEN, "chat_id": 42, "api_key": "sk-zzz"}}
    async with client_for(database_url) as (_, client):
        created = await client.post(
            "/api/v1/agents", json=agent_body(id="tg", settings={"integrations": [integration]})
        )
        responses = [created]
        responses.append(await client.get("/api/v1/agents"))
        responses.append(await client.get("/api/v1/agents/tg"))
        responses.append(await client.get("/api/v1/agents/tg/config"))
        responses.append(await client.patch("/api/v1/agents/tg", json={"name": "Telegram bot"}))
        settings = {**created.json()["settings"], "integrations": [
            {"type": "custom", "settings": {"bot_token": "456:new-secret", "chat_id": 42}}
        ]}
        responses.append(await client.patch("/api/v1/agents/tg", json={"settings": settings}))
        responses.append(await client.post("/api/v1/agents/tg/start"))
        responses.append(await client.get("/api/v1/agents/tg/status"))

        for response in responses:
            assert response.status_code in (200, 201), response.text
            for secret in (TOKEN, "sk-zzz", "456:new-secret"):
                assert secret not in response.text, response.request.url

        shown = (await client.get("/api/v1/agents/tg")).json()["settings"]["integrations"]
        assert shown == [{"type": "custom", "settings": {"bot_token": "***", "chat_id": 42}}]
        # The new token was stored: the update counted as a change (the rename did not).
        assert (await client.get("/api/v1/agents/tg")).json()["config_version"] == 2
        assert_error(await client.get("/api/v1/agents/tg/nothing"), 404)


async def test_every_change_is_visible_to_the_very_next_request(database_url: str) -> None:
    """A success status means the change is stored: the next request already sees it."""
    async with client_for(database_url) as (_, client):
        for n in range(15):
            created = await _create(client, id=f"quick-{n}")
            assert (await client.get(f"/api/v1/agents/{created['id']}")).status_code == 200
            assert (await client.get("/api/v1/agents")).json()["total"] == 1
            await client.patch(f"/api/v1/agents/quick-{n}", json={"name": f"Quick {n}"})
            assert (await client.get(f"/api/v1/agents/quick-{n}")).json()["name"] == f"Quick {n}"
            assert (await client.delete(f"/api/v1/agents/quick-{n}")).status_code == 204
            assert (await client.get(f"/api/v1/agents/quick-{n}")).status_code == 404


async def _stored_settings(database_url: str, agent_id: str) -> dict:  # type: ignore[type-arg]
    """What the runtime will load: the settings as stored in the database."""
    from sqlalchemy import select

    from agenthub.agents.models import Agent
    from agenthub.db.engine import create_engine, create_session_factory

    engine = create_engine(database_url, pool_size=1)
    try:
        async with create_session_factory(engine)() as session:
            return await session.scalar(select(Agent.settings).where(Agent.id == agent_id))
    finally:
        await engine.dispose()


async def test_sending_back_masked_settings_keeps_the_secret(database_url: str) -> None:
    integration = {"type": "custom", "settings": {"bot_token": TOKEN, "chat_id": 42}}
    async with client_for(database_url) as (_, client):
        await _create(client, id="tg", settings={"integrations": [integration]})
        read_back = (await client.get("/api/v1/agents/tg")).json()["settings"]
        assert read_back["integrations"][0]["settings"]["bot_token"] == "***"

        # Unchanged settings, as read: nothing changes, not even the version.
        same = (await client.patch("/api/v1/agents/tg", json={"settings": read_back})).json()
        assert same["config_version"] == 1

        # Only the prompt changes; the masked token means "keep it".
        edited = {**read_back, "system_prompt": "Shorter answers."}
        updated = (await client.patch("/api/v1/agents/tg", json={"settings": edited})).json()
        assert updated["config_version"] == 2
        assert updated["settings"]["integrations"][0]["settings"]["bot_token"] == "***"

        stored = await _stored_settings(database_url, "tg")
        assert stored["system_prompt"] == "Shorter answers."
        assert stored["integrations"][0]["settings"] == {"bot_token": TOKEN, "chat_id": 42}
