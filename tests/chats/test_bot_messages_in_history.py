"""A scenario bot's messages keep their buttons (``widget``) and files (``attachments``) after
they were sent live: the chat's history, the replay of a reconnecting WebSocket and the
user's export show them as the live ``message`` events had them, on SQLite and PostgreSQL,
and through the Redis bus."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.agents.helpers import client_for
from tests.channels.helpers import eventually
from tests.scenarios.helpers import equal, go, receive_turn
from tests.support.server import RunningApp
from tests.support.ws import connect

SHOWN = ("content", "widget", "attachments", "more")
"""What a client shows of a ``message`` event (and the history must give back)."""
MEAL = {"buttons": [{"text": "Pizza", "value": "pizza"}, {"text": "Pasta", "value": "pasta"}]}


def _menu_bot(file_id: str) -> dict[str, Any]:
    """Anything but ``menu`` (re)enters ``start``; ``menu`` sends two messages in one turn: the
    menu file, then the buttons to choose."""
    return {
        "format": "agenthub.bot/v1", "name": "Menu", "first_step": "start",
        "steps": [
            {"key": "start", "message": {"text": "Hello! The menu?",
                                         "widget": {"buttons": [{"text": "Menu", "value": "menu"}]}},
             "connection_groups": [{"connections": [go("card", equal("menu"), 10), go("start")]}]},
            {"key": "card", "is_proxy": True, "message": {"text": "Our menu:", "attachments": [file_id]},
             "connection_groups": [{"connections": [go("choose")]}]},
            {"key": "choose", "message": {"text": "Pizza or pasta?", "widget": MEAL}},
        ],
    }


@pytest.fixture(params=["sqlite", "postgres", "postgres-redis"])
async def served(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[tuple[RunningApp, httpx.AsyncClient]]:
    database = "sqlite_url" if request.param == "sqlite" else "postgres_url"
    overrides: dict[str, Any] = {"data_dir": tmp_path}
    if request.param.endswith("redis"):
        overrides.update(redis_url=request.getfixturevalue("redis_server_url"),
                         redis_prefix=request.getfixturevalue("redis_prefix"))
    async with client_for(request.getfixturevalue(database), **overrides) as running:
        yield running


def _download(file_id: str) -> dict[str, str]:
    return {"file_id": file_id, "download_path": f"/api/v1/files/{file_id}/content"}


async def _turn(socket: Any, content: str, **extra: Any) -> tuple[str, list[dict[str, Any]]]:
    """The id of the message sent, and the ``message`` events answering it."""
    await socket.send(json.dumps({"type": "message", "content": content, **extra}))
    events = await receive_turn(socket)
    [sent] = [e for e in events if e["type"] == "status" and e["message"] == "received"]
    return sent["message_id"], [e for e in events if e["type"] == "message"]


def _shown(event: dict[str, Any]) -> dict[str, Any]:
    return {key: event[key] for key in SHOWN if key in event}


async def _stored_answers(client: httpx.AsyncClient, bot_id: str, chat_id: str, count: int) -> list[dict[str, Any]]:
    async def answers() -> list[dict[str, Any]]:
        listed = await client.get(f"/api/v1/agents/{bot_id}/chats/{chat_id}/messages")
        if listed.status_code == 404:
            return []
        assert listed.status_code == 200, listed.text
        items = [m for m in listed.json()["items"] if m["role"] == "assistant"]
        return items if len(items) >= count else []

    return await eventually(answers, what=f"{count} answers in the history")


async def _setup(client: httpx.AsyncClient) -> tuple[str, str]:
    uploaded = await client.post("/api/v1/files", files={"file": ("menu.csv", b"dish,price\npizza,9\n", "text/csv")})
    assert uploaded.status_code == 201, uploaded.text
    file_id = str(uploaded.json()["id"])
    imported = await client.post("/api/v1/bots/import", json=_menu_bot(file_id))
    assert imported.status_code == 201, imported.text
    return file_id, str(imported.json()["id"])


async def test_history_replay_and_export_show_a_bots_buttons_and_files_as_live(
    served: tuple[RunningApp, httpx.AsyncClient],
) -> None:
    app, client = served
    file_id, bot_id = await _setup(client)
    path = f"/ws/agents/{bot_id}"
    async with connect(app.ws(f"{path}?chat_id=meal")) as socket:
        hello_id, hello = await _turn(socket, "hi")
        menu_id, menu = await _turn(socket, "menu")
    live = hello + menu
    assert [_shown(e) for e in live] == [
        {"content": "Hello! The menu?", "widget": {"buttons": [{"text": "Menu", "value": "menu"}]}},
        {"content": "Our menu:", "attachments": [_download(file_id)], "more": True},
        {"content": "Pizza or pasta?", "widget": MEAL},
    ]

    # The history: each message with what it showed live, in the order it came.
    stored = await _stored_answers(client, bot_id, "meal", 3)
    assert [m["message_id"] for m in stored] == [e["message_object"]["message_id"] for e in live]
    for message, event in zip(stored, live, strict=True):
        assert message["content"] == event["content"]
        assert message.get("widget") == event.get("widget")
        assert message.get("attachments") == event.get("attachments")
    assert stored[2]["reply_to"] == menu_id
    download = await client.get(stored[1]["attachments"][0]["download_path"])
    assert download.status_code == 200 and download.content == b"dish,price\npizza,9\n"

    # A reconnect after the first answer replays the turn it missed as it came live.
    async with connect(app.ws(f"{path}?chat_id=meal&after={hello[0]['message_object']['message_id']}")) as socket:
        replayed = await receive_turn(socket)
    assert [_shown(e) for e in replayed] == [_shown(e) for e in menu]
    assert [e["message_object"]["reply_to"] for e in replayed] == [menu_id, menu_id]
    assert [e["message_object"]["message_id"] for e in replayed] == [e["message_object"]["message_id"] for e in menu]

    # After the first message of a turn of two: the other one of the same turn comes.
    async with connect(app.ws(f"{path}?chat_id=meal&after={menu[0]['message_object']['message_id']}")) as socket:
        [rest] = await receive_turn(socket)
    assert _shown(rest) == _shown(menu[1]) and rest["message_object"]["message_id"] == menu[1]["message_object"][
        "message_id"]

    # After the user's first message: everything of both turns.
    async with connect(app.ws(f"{path}?chat_id=meal&after={hello_id}")) as socket:
        everything = [*await receive_turn(socket), *await receive_turn(socket)]
    assert [_shown(e) for e in everything] == [_shown(e) for e in live]

    # The user's export: the bot's messages of each turn, the one before the answer too.
    exported = await client.get("/api/v1/user/export")
    assert exported.status_code == 200, exported.text
    [meal] = [c for c in exported.json()["chats"] if c["chat_id"] == "meal"]
    answers = [m for m in meal["messages"] if m["role"] == "assistant"]
    assert [(m["content"], m.get("widget"), m.get("attachments")) for m in answers] == [
        (e["content"], e.get("widget"), e.get("attachments")) for e in live
    ]
    assert [m["content"] for m in meal["messages"] if m["role"] == "user"] == ["hi", "menu"]
