"""Users send files with their messages: a scenario bot whose connection admits only
`attachment` takes a message with one (over the WebSocket and over SSE) and not one without,
the history shows each message's files, and a file id that is not the organisation's is
refused with nothing stored."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx

from tests.agents.helpers import assert_error, client_for
from tests.scenarios.helpers import go, receive_turn, ws_turn
from tests.support.server import RunningApp
from tests.support.sse import parse_sse
from tests.support.ws import connect

CONNECTIONS = {"connections": [go("got", {}, 10, filters=["attachment"]), go("nofile")]}
INBOX: dict[str, Any] = {
    "format": "agenthub.bot/v1", "name": "Inbox", "first_step": "start",
    "steps": [
        {"key": "start", "message": {"text": "Send a file."}, "connection_groups": [CONNECTIONS]},
        {"key": "nofile", "message": {"text": "That was no file."}, "connection_groups": [CONNECTIONS]},
        {"key": "got", "message": {"text": "Got {$message.attachments.0$}: {$message.text$}",
                                   "attachments": ["{$message.attachments.0$}"]},
         "connection_groups": [CONNECTIONS]},
    ],
}


def _shown(file_id: str) -> dict[str, str]:
    return {"file_id": file_id, "download_path": f"/api/v1/files/{file_id}/content"}


async def _upload(client: httpx.AsyncClient, name: str = "q3.csv", data: bytes = b"q,r\nQ3,12\n") -> str:
    uploaded = await client.post("/api/v1/files", files={"file": (name, data, "text/csv")})
    assert uploaded.status_code == 201, uploaded.text
    return str(uploaded.json()["id"])


async def _history(client: httpx.AsyncClient, bot_id: str, chat_id: str) -> list[dict[str, Any]]:
    listed = await client.get(f"/api/v1/agents/{bot_id}/chats/{chat_id}/messages")
    assert listed.status_code == 200, listed.text
    return list(listed.json()["items"])


async def _sse(client: httpx.AsyncClient, bot_id: str, body: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    response = await client.post(f"/api/v1/agents/{bot_id}/chat", json=body)
    assert response.status_code == 200, response.text
    return parse_sse(response.text)


async def _other_org_file(app: RunningApp, owner: httpx.AsyncClient) -> str:
    registered = await owner.post("/api/v1/auth/register", json={
        "email": "attach-other@example.com", "password": "other-password-1", "org_name": "Other"})
    assert registered.status_code == 201, registered.text
    headers = {"Authorization": f"Bearer {registered.json()['access_token']}"}
    async with httpx.AsyncClient(base_url=app.url, timeout=20, headers=headers) as other:
        return await _upload(other, "theirs.csv", b"secret,1\n")


async def test_a_bot_takes_a_message_with_a_file_over_the_websocket(database_url: str, tmp_path: Path) -> None:
    async with client_for(database_url, data_dir=tmp_path) as (app, client):
        file_id = await _upload(client)
        bot_id = (await client.post("/api/v1/bots/import", json=INBOX)).json()["id"]
        async with connect(app.ws(f"/ws/agents/{bot_id}?chat_id=inbox")) as socket:
            assert [e["content"] for e in await ws_turn(socket, "no file here")] == ["That was no file."]
            got = await ws_turn(socket, "the report", attachments=[file_id])
        assert [e["content"] for e in got] == [f"Got {file_id}: the report"], got
        assert got[0]["attachments"] == [_shown(file_id)]
        users = [m for m in await _history(client, bot_id, "inbox") if m["role"] == "user"]
        assert [(m["content"], m.get("attachments")) for m in users] == [
            ("no file here", None), ("the report", [_shown(file_id)])]
        download = await client.get(users[-1]["attachments"][0]["download_path"])
        assert download.status_code == 200 and download.content == b"q,r\nQ3,12\n"


async def test_a_bot_takes_a_message_with_a_file_over_sse(sqlite_url: str, tmp_path: Path) -> None:
    async with client_for(sqlite_url, data_dir=tmp_path) as (_app, client):
        file_id = await _upload(client)
        bot_id = (await client.post("/api/v1/bots/import", json=INBOX)).json()["id"]
        plain = await _sse(client, bot_id, {"content": "nothing", "chat_id": "inbox"})
        assert [data["content"] for name, data in plain if name == "message"] == ["That was no file."]
        sent = await _sse(client, bot_id, {"content": "see", "chat_id": "inbox", "attachments": [file_id]})
        messages = [data for name, data in sent if name == "message"]
        assert [m["content"] for m in messages] == [f"Got {file_id}: see"]
        assert messages[0]["attachments"] == [_shown(file_id)]
        history = await _history(client, bot_id, "inbox")
        assert [m.get("attachments") for m in history if m["content"] == "see"] == [[_shown(file_id)]]


async def test_a_file_that_is_not_the_organisations_is_refused_with_nothing_stored(
    database_url: str, tmp_path: Path,
) -> None:
    async with client_for(database_url, data_dir=tmp_path) as (app, client):
        mine = await _upload(client)
        theirs = await _other_org_file(app, client)
        bot_id = (await client.post("/api/v1/bots/import", json=INBOX)).json()["id"]
        for attachments, field in (([mine, "fil_nobody"], "attachments.1"), ([theirs], "attachments.0"),
                                   (["not-a-file"], "attachments.0"), ([mine] * 11, "attachments")):
            refused = await client.post(f"/api/v1/agents/{bot_id}/chat", json={
                "content": "take it", "chat_id": "refused", "attachments": attachments})
            error = assert_error(refused, 422)
            assert error["details"][0]["field"] == field, error
        assert_error(await client.get(f"/api/v1/agents/{bot_id}/chats/refused/messages"), 404)
        async with connect(app.ws(f"/ws/agents/{bot_id}?chat_id=refused-ws")) as socket:
            await socket.send(json.dumps({"type": "message", "content": "take it", "attachments": [theirs]}))
            [error_event] = await receive_turn(socket)
            assert error_event["type"] == "error" and error_event["code"] == "invalid_input", error_event
            assert "attachments.0" in error_event["message"] and theirs in error_event["message"]
            assert [e["content"] for e in await ws_turn(socket, "hi")] == ["That was no file."]  # the socket lives on
        history = await _history(client, bot_id, "refused-ws")
        assert [m["content"] for m in history if m["role"] == "user"] == ["hi"]
