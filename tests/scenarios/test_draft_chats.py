"""Test chats over REST (``/api/v1/bots/{bot_id}/test``), on SQLite and PostgreSQL: a test
message runs the bot's draft (unpublished edits included) in a test session apart from the
caller's real one, a test chat continues by its id and takes button presses and the test
user's ``user_data`` (``user.first_name``...), resetting it starts again at the first step,
and a draft that is not a valid bot is a 422 saying where."""

from __future__ import annotations

from typing import Any

import httpx

from tests.agents.helpers import assert_error, chat, client_for
from tests.scenarios.helpers import equal, go

BOT: dict[str, Any] = {
    "name": "Tea", "first_step": "hello",
    "steps": [
        {"key": "hello", "message": {"text": "Tea or coffee?", "widget": {"buttons": [{"text": "Tea", "value": "tea"}]}},
         "connection_groups": [{"connections": [go("tea", equal("tea"), 10, filters=["button"]), go("hello")]}]},
        {"key": "tea", "message": {"text": "Green or black?"}},
    ],
}


async def _bot(client: httpx.AsyncClient) -> tuple[str, dict[str, str]]:
    created = await client.post("/api/v1/bots/import", json=BOT)
    assert created.status_code == 201, created.text
    bot_id = created.json()["id"]
    steps = (await client.get("/api/v1/steps", params={"bot_id": bot_id})).json()["items"]
    return bot_id, {step["key"]: step["id"] for step in steps}


async def _test(client: httpx.AsyncClient, bot_id: str, **body: Any) -> dict[str, Any]:
    response = await client.post(f"/api/v1/bots/{bot_id}/test", json=body)
    assert response.status_code == 200, response.text
    return dict(response.json())


async def test_a_test_chat_runs_the_draft_apart_from_real_sessions(database_url: str) -> None:
    async with client_for(database_url) as (_app, client):
        bot_id, steps = await _bot(client)
        edited = await client.patch(f"/api/v1/steps/{steps['tea']}", json={"message": {"text": "Sencha or Assam?"}})
        assert edited.status_code == 200, edited.text

        first = await _test(client, bot_id, text="hi")
        assert first["ran"] == "draft" and "error" not in first
        assert first["messages"] == [{"text": "Tea or coffee?", "widget": {"buttons": [{"text": "Tea", "value": "tea"}]}}]
        typed = await _test(client, bot_id, text="tea", chat_id=first["chat_id"])
        assert typed["messages"] == [{"text": "Tea or coffee?", "widget": {"buttons": [{"text": "Tea", "value": "tea"}]}}]
        pressed = await _test(client, bot_id, text="tea", button="tea", chat_id=first["chat_id"])
        assert pressed == {"chat_id": first["chat_id"], "ran": "draft", "messages": [{"text": "Sencha or Assam?"}]}

        real = await chat(client, bot_id, "tea", button="tea")  # the caller's real session: the published version
        assert real["content"] == "Green or black?"
        sessions = (await client.get(f"/api/v1/bots/{bot_id}/sessions")).json()["items"]
        assert sorted((s["user_key"].startswith("test:"), s["step_id"]) for s in sessions) == [
            (False, "tea"), (True, "tea")]

        reset = await client.delete(f"/api/v1/bots/{bot_id}/test")
        assert reset.status_code == 204
        sessions = (await client.get(f"/api/v1/bots/{bot_id}/sessions")).json()["items"]
        assert [s["user_key"].startswith("test:") for s in sessions] == [False]  # the real one is kept
        again = await _test(client, bot_id, text="tea", button="tea", chat_id=first["chat_id"])
        assert again["messages"] == [{"text": "Sencha or Assam?"}]  # from the first step again
        assert (await client.delete(f"/api/v1/bots/{bot_id}/test")).status_code == 204
        assert (await client.delete(f"/api/v1/bots/{bot_id}/test")).status_code == 204  # nothing left: no error


async def test_bad_test_messages_and_drafts_are_refused_saying_where(database_url: str) -> None:
    async with client_for(database_url) as (_app, client):
        bot_id, steps = await _bot(client)
        path = f"/api/v1/bots/{bot_id}/test"
        assert assert_error(await client.post(path, json={}), 422)["details"][0]["field"] == "text"
        assert assert_error(await client.post(path, json={"text": "   "}), 422)["details"][0]["field"] == "text"
        for bad in ("Ada", ["Ada"], {"first_name": "A\u0000da"}):
            refused = assert_error(await client.post(path, json={"text": "hi", "user_data": bad}), 422)
            assert refused["details"][0]["field"].startswith("user_data")
        bad_chat = await client.post(path, json={"text": "hi", "chat_id": "no spaces"})
        assert assert_error(bad_chat, 422)["details"][0]["field"] == "chat_id"
        assert_error(await client.post(path, json={"text": "hi", "colour": "red"}), 422)
        assert_error(await client.post("/api/v1/bots/bot-missing/test", json={"text": "hi"}), 404)
        assert_error(await client.delete("/api/v1/bots/bot-missing/test"), 404)

        empty = await client.post("/api/v1/bots", json={"name": "Empty"})
        refused = await client.post(f"/api/v1/bots/{empty.json()['id']}/test", json={"text": "hi"})
        error = assert_error(refused, 422)
        assert "can't be tested" in error["message"] and error["details"][0]["field"] == "first_step"

        emptied = await client.patch(f"/api/v1/bots/{bot_id}", json={"first_step_id": None})
        assert emptied.status_code == 200, emptied.text
        assert assert_error(await client.post(path, json={"text": "hi"}), 422)["details"][0]["field"] == "first_step"
        sessions = (await client.get(f"/api/v1/bots/{bot_id}/sessions")).json()
        assert sessions["total"] == 0  # nothing was sent


GREETER: dict[str, Any] = {
    "name": "Greeter", "first_step": "hello",
    "steps": [{"key": "hello", "message": {"text": "Hi {$user.first_name$} ({$user.username$})!"},
               "connection_groups": [{"connections": [go("hello")]}]}],
}


async def test_a_test_message_says_who_the_test_user_is(database_url: str) -> None:
    """The console sends the account's name as ``user_data``, as its chat does: the draft
    greets the builder by it."""
    async with client_for(database_url) as (_app, client):
        created = await client.post("/api/v1/bots/import", json=GREETER)
        assert created.status_code == 201, created.text
        bot_id = created.json()["id"]
        named = await _test(client, bot_id, text="hi", user_data={"first_name": "Ada", "username": "ada"})
        assert named["messages"] == [{"text": "Hi Ada (ada)!"}]
        # What each message says is current: a new name is used at once, in the same test chat.
        renamed = await _test(client, bot_id, text="hi", chat_id=named["chat_id"],
                              user_data={"first_name": "Grace", "username": "grace"})
        assert renamed["messages"] == [{"text": "Hi Grace (grace)!"}]
