"""What a client is told of a mistake in what it sends: the same words whichever route or
operation it made it in, lengths in characters, and text that is not JSON said plainly."""

from __future__ import annotations

import re
from datetime import datetime, timedelta

import pytest

from tests.agents.helpers import agent_body, assert_error, client_for


@pytest.mark.parametrize(
    "settings",
    [{"provider": "openai_compatible", "base_url": None}, {"model_id": "  "}, {"temperature": 5}],
)
async def test_post_and_patch_give_the_same_details(sqlite_url: str, settings: dict) -> None:
    async with client_for(sqlite_url) as (_, client):
        assert (await client.post("/api/v1/agents", json=agent_body(id="target"))).status_code == 201
        posted = assert_error(await client.post("/api/v1/agents", json=agent_body(settings=settings)), 422)
        patched = assert_error(await client.patch("/api/v1/agents/target", json={"settings": settings}), 422)
    assert patched["details"] == posted["details"]
    assert patched["message"] == posted["message"]
    (detail,) = posted["details"]
    assert posted["message"] == f"{detail['field']}: {detail['problem']}"
    assert not detail["problem"].startswith(detail["field"]), "the field is named once"


@pytest.mark.parametrize("model_id", ["", "  ", "\u200b\u200b", "\t"])
async def test_a_model_id_that_shows_nothing_is_refused(sqlite_url: str, model_id: str) -> None:
    async with client_for(sqlite_url) as (_, client):
        assert (await client.post("/api/v1/agents", json=agent_body(id="kept"))).status_code == 201
        posted = await client.post("/api/v1/agents", json=agent_body(settings={"model_id": model_id}))
        patched = await client.patch("/api/v1/agents/kept", json={"settings": {"model_id": model_id}})
        stored = (await client.get("/api/v1/agents/kept")).json()
        listed = (await client.get("/api/v1/agents")).json()
    for refused in (posted, patched):
        assert assert_error(refused, 422, "invalid_input")["message"] == "settings.model_id: must not be blank"
    assert stored["settings"]["model_id"] == "demo"
    assert listed["total"] == 1


@pytest.mark.parametrize(
    ("body", "field", "limit"),
    [
        ({"name": "n" * 201}, "name", 200),
        ({"settings": {"model_id": "m" * 129}}, "settings.model_id", 128),
        ({"settings": {"system_prompt": "p" * 100_001}}, "settings.system_prompt", 100_000),
    ],
)
async def test_lengths_are_counted_in_characters(sqlite_url: str, body: dict, field: str, limit: int) -> None:
    async with client_for(sqlite_url) as (_, client):
        assert (await client.post("/api/v1/agents", json=agent_body(id="kept"))).status_code == 201
        posted = await client.post("/api/v1/agents", json=agent_body(**body))
        patched = await client.patch("/api/v1/agents/kept", json=body)
        chat = await client.post("/api/v1/agents/kept/chat", json={"content": "c" * 32_001})
    expected = f"{field}: String should have at most {limit} characters"
    assert assert_error(posted, 422)["message"] == expected
    assert assert_error(patched, 422)["message"] == expected
    assert assert_error(chat, 422)["message"] == "content: String should have at most 32000 characters"


async def test_a_body_that_is_not_utf_8_or_not_json_is_said_to_be_so(sqlite_url: str) -> None:
    headers = {"content-type": "application/json"}
    async with client_for(sqlite_url) as (_, client):
        not_utf_8 = await client.post("/api/v1/agents", content=b'{"name": "\xff\xfe"}', headers=headers)
        not_json = await client.post("/api/v1/agents", content=b'{"name": "x",\n "settings": nope}', headers=headers)
        trailing = await client.post("/api/v1/agents", content=b'{"name": "x", }', headers=headers)
    assert assert_error(not_utf_8, 400, "bad_request")["message"] == "the body is not valid UTF-8"
    assert assert_error(not_json, 400, "bad_request")["message"] == "the body is not valid JSON (at line 2, column 14)"
    assert assert_error(trailing, 400, "bad_request")["message"] == (
        "the body is not valid JSON: trailing comma is not allowed (at line 1, column 13)"
    )


async def test_a_retained_id_names_its_times_as_the_api_shows_times(sqlite_url: str) -> None:
    async with client_for(sqlite_url, deleted_retention_days=7) as (_, client):
        assert (await client.post("/api/v1/agents", json=agent_body(id="retired"))).status_code == 201
        assert (await client.delete("/api/v1/agents/retired")).status_code == 204
        refused = assert_error(await client.post("/api/v1/agents", json=agent_body(id="retired")), 409, "id_retained")
    when = r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ"
    found = re.search(f"deleted at ({when}); .* taken again after ({when}) ", refused["message"])
    assert found, refused["message"]
    deleted, reusable = (datetime.fromisoformat(found.group(n)) for n in (1, 2))
    assert reusable - deleted == timedelta(days=7)
