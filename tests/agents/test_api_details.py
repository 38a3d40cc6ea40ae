"""What a new user tripped over in the agents API: a missing provider key said up front, a
model server that can't be reached named by its host, the same words for the same mistake
in POST and PATCH, blank names refused, ISO-8601 times, and no restart asked for a new name."""

from __future__ import annotations

from datetime import datetime

import pytest

from tests.agents.helpers import agent_body, assert_error, chat, client_for
from tests.support.server import free_port
from tests.support.sse import parse_sse


async def test_an_openai_agent_without_the_key_gets_a_warning(sqlite_url: str) -> None:
    async with client_for(sqlite_url) as (_, client):
        created = await client.post("/api/v1/agents", json=agent_body(settings={"provider": "openai", "model_id": "gpt-4o"}))
        assert created.status_code == 201, created.text
        assert "OPENAI_API_KEY is not set" in created.json()["warning"]
        demo = await client.post("/api/v1/agents", json=agent_body(id="offline"))
        assert "warning" not in demo.json()

        # Switched to openai later: the same warning.
        switched = await client.patch("/api/v1/agents/offline", json={"settings": {"provider": "openai"}})
        assert switched.status_code == 200, switched.text
        assert "OPENAI_API_KEY is not set" in switched.json()["warning"]


async def test_with_the_key_set_there_is_no_warning(sqlite_url: str) -> None:
    async with client_for(sqlite_url, openai_api_key="a-key-for-the-test") as (_, client):
        created = await client.post("/api/v1/agents", json=agent_body(settings={"provider": "openai", "model_id": "gpt-4o"}))
        assert created.status_code == 201, created.text
        assert "warning" not in created.json()
        assert "a-key-for-the-test" not in created.text


async def test_a_model_server_that_cannot_be_reached_is_named_by_its_host(sqlite_url: str) -> None:
    port = free_port()  # nothing listens there
    base_url = f"http://someone:pa55word-xyz@127.0.0.1:{port}/v1"
    async with client_for(sqlite_url) as (_, client):
        body = agent_body(id="nowhere", settings={"provider": "openai_compatible", "model_id": "m", "base_url": base_url})
        assert (await client.post("/api/v1/agents", json=body)).status_code == 201
        response = await client.post("/api/v1/agents/nowhere/chat", json={"content": "hello"}, timeout=60)
    errors = [data for name, data in parse_sse(response.text) if name == "error"]
    assert errors and f"127.0.0.1:{port} could not be reached" in errors[0]["message"], response.text
    assert "pa55word" not in response.text and "someone" not in response.text


@pytest.mark.parametrize(
    "settings",
    [{"model_id": ""}, {"temperature": 5}, {"provider": "openai_compatible", "base_url": None}, {"isolation": "x"}],
)
async def test_post_and_patch_say_the_same_about_the_same_mistake(sqlite_url: str, settings: dict) -> None:
    async with client_for(sqlite_url) as (_, client):
        assert (await client.post("/api/v1/agents", json=agent_body(id="target"))).status_code == 201
        posted = await client.post("/api/v1/agents", json=agent_body(settings=settings))
        patched = await client.patch("/api/v1/agents/target", json={"settings": settings})
    assert assert_error(posted, 422)["message"] == assert_error(patched, 422)["message"]


@pytest.mark.parametrize("name", ["", "   ", "\u200b", "\u200b\u200d \u2060", "\t\n"])
async def test_blank_or_invisible_names_are_refused_like_blank_content(sqlite_url: str, name: str) -> None:
    async with client_for(sqlite_url) as (_, client):
        assert (await client.post("/api/v1/agents", json=agent_body(id="named"))).status_code == 201
        posted = await client.post("/api/v1/agents", json=agent_body(name=name))
        patched = await client.patch("/api/v1/agents/named", json={"name": name})
        blank_content = await client.post("/api/v1/agents/named/chat", json={"content": "   "})
        assert (await client.get("/api/v1/agents/named")).json()["name"] == "Helper"
    posted_error, patched_error = assert_error(posted, 422), assert_error(patched, 422)
    assert posted_error["message"] == patched_error["message"]
    if name:
        assert posted_error["message"] == "name: must not be blank"
        assert assert_error(blank_content, 422)["message"] == "content: must not be blank"


async def test_status_times_are_iso_8601(sqlite_url: str) -> None:
    async with client_for(sqlite_url) as (_, client):
        assert (await client.post("/api/v1/agents", json=agent_body(id="timed"))).status_code == 201
        await chat(client, "timed", "hello")
        status = (await client.get("/api/v1/agents/timed/status")).json()
        agent = (await client.get("/api/v1/agents/timed")).json()
    for value in (status["last_heartbeat"], status["last_activity"], agent["created_at"], agent["updated_at"]):
        assert isinstance(value, str) and datetime.fromisoformat(value).tzinfo is not None, value


async def test_a_new_name_alone_asks_for_no_restart(sqlite_url: str) -> None:
    async with client_for(sqlite_url) as (_, client):
        assert (await client.post("/api/v1/agents", json=agent_body(id="renamed"))).status_code == 201
        await chat(client, "renamed", "hello")  # running now
        renamed = await client.patch("/api/v1/agents/renamed", json={"name": "A better name"})
        assert renamed.status_code == 200, renamed.text
        assert renamed.json()["name"] == "A better name"
        assert renamed.json()["restart_required"] is False and renamed.json()["message"] == "Saved."
        reconfigured = await client.patch("/api/v1/agents/renamed", json={"settings": {"system_prompt": "Shorter."}})
        assert reconfigured.json()["restart_required"] is True
        assert (await client.get("/api/v1/agents/renamed")).json()["name"] == "A better name"
