"""``user.first_name`` (and ``user.username``, ``user.last_name``) of a scenario bot come from
the ``user_data`` a client sends with each message: the README's Pizza bot greets its user
by name over the WebSocket."""

from __future__ import annotations

from typing import Any

import httpx

from agenthub.scenarios.engine import user_profile
from tests.scenarios.helpers import ws_turn
from tests.support.server import make_settings, running_app
from tests.support.ws import connect

PIZZA: dict[str, Any] = {
    "format": "agenthub.bot/v1", "name": "Pizza", "first_step": "hello",
    "connection_groups": [{"search_type": "message", "connections": [
        {"rules": {"condition": "AND", "rules": [{"field": "message.text", "operator": "equal", "value": "/start"}]},
         "priority": 100, "next_step": "hello"}]}],
    "steps": [
        {"key": "hello", "message": {"text": "Hi {$user.first_name$}! Pizza or pasta?", "widget": {"buttons": [
            {"text": "Pizza", "value": "pizza"}, {"text": "Pasta", "value": "pasta"}]}},
         "connection_groups": [{"search_type": "message", "connections": [
             {"rules": {"condition": "AND", "rules": [
                 {"field": "message.text", "operator": "contains", "value": "pizza"}]},
              "priority": 10, "next_step": "size"},
             {"rules": {}, "priority": 0, "next_step": "hello"}]}]},
        {"key": "size", "message": {"text": "Which size, {$user.first_name$} ({$user.username$})?"},
         "connection_groups": []},
    ],
    "requests": [], "templates": [],
}


async def test_the_bot_greets_its_user_by_the_name_user_data_gives(sqlite_url: str) -> None:
    async with running_app(make_settings(database_url=sqlite_url)) as app:
        async with httpx.AsyncClient(base_url=app.url, timeout=30, headers=app.headers) as client:
            imported = await client.post("/api/v1/bots/import", json=PIZZA)
        assert imported.status_code == 201, imported.text
        bot_id = imported.json()["id"]
        ada = {"first_name": "Ada", "username": "ada"}
        async with connect(app.ws(f"/ws/agents/{bot_id}?chat_id=pizza")) as socket:
            greeted = await ws_turn(socket, "/start", user_data=ada)
            asked = await ws_turn(socket, "pizza", button="pizza", user_data={**ada, "first_name": "Ada L."})
            # Without user_data the name is empty, as any missing variable.
            again = await ws_turn(socket, "/start", user_data={"first_name": 42})
    assert [e["content"] for e in greeted] == ["Hi Ada! Pizza or pasta?"], greeted
    assert [e["content"] for e in asked] == ["Which size, Ada L. (ada)?"], asked
    assert [e["content"] for e in again] == ["Hi ! Pizza or pasta?"], again


def test_only_text_profile_fields_are_read() -> None:
    envelope = {"user_data": {"first_name": "Grace", "username": "  ", "last_name": ["x"], "role": "admin",
                              "email": "g@example.com"}}
    assert user_profile(envelope) == {"first_name": "Grace"}
    assert user_profile({"user_data": {"first_name": "x" * 500}}) == {"first_name": "x" * 128}
    assert user_profile({}) == user_profile({"user_data": "Grace"}) == {}
