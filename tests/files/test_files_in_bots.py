"""Files in scenario bots: a step's attachments reach the WebSocket client as file ids with
their download path, a request sends a stored file's real bytes to an HTTP server, and a
step or request that names a file the organisation doesn't have is refused when saved."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx

from tests.agents.helpers import assert_error, client_for
from tests.scenarios.helpers import equal, go, ws_turn
from tests.support.server import make_settings, running_app
from tests.support.target import Target
from tests.support.ws import connect

REPORT = b"quarter,revenue\nQ3,1200\n"


def _bot(file_id: str, target_url: str) -> dict[str, Any]:
    return {
        "format": "agenthub.bot/v1", "name": "Reports", "first_step": "start",
        "steps": [
            {"key": "start", "message": {"text": "Say report or send."},
             "connection_groups": [{"connections": [go("report", equal("report")), go("upload", equal("send"))]}]},
            {"key": "report", "message": {"text": "Here is the report.", "attachments": [file_id]},
             "connection_groups": [{"connections": [go("upload", equal("send"))]}]},
            {"key": "upload", "is_proxy": True,
             "connection_groups": [{"search_type": "response", "request": "post",
                                    "variables": {"session.status": "$.status"}, "connections": [go("sent")]}]},
            {"key": "sent", "message": {"text": "Sent: {$session.status$}"}},
        ],
        "requests": [{"key": "post", "method": "POST", "url": f"{target_url}/upload", "body_type": "multipart",
                      "body": {"note": "from the bot"}, "files": [{"field": "doc", "file_id": file_id}]}],
    }


async def test_a_bot_sends_a_stored_file_as_attachment_and_in_a_request(sqlite_url: str, tmp_path: Path) -> None:
    with Target() as target:
        settings = make_settings(database_url=sqlite_url, data_dir=tmp_path, outbound_allowlist="127.0.0.1")
        async with running_app(settings) as app:
            async with httpx.AsyncClient(base_url=app.url, timeout=30, headers=app.headers) as client:
                uploaded = await client.post("/api/v1/files", files={"file": ("q3.csv", REPORT, "text/csv")})
                assert uploaded.status_code == 201, uploaded.text
                file_id = uploaded.json()["id"]
                imported = await client.post("/api/v1/bots/import", json=_bot(file_id, target.url))
                assert imported.status_code == 201, imported.text
                bot_id = imported.json()["id"]
                async with connect(app.ws(f"/ws/agents/{bot_id}?chat_id=reports")) as socket:
                    await ws_turn(socket, "hi")  # a new session waits at `start`
                    shown = await ws_turn(socket, "report")
                    sent = await ws_turn(socket, "send")
                assert [e["content"] for e in shown] == ["Here is the report."], shown
                attachment = shown[0]["attachments"]
                assert attachment == [{"file_id": file_id, "download_path": f"/api/v1/files/{file_id}/content"}]
                download = await client.get(attachment[0]["download_path"])
                assert download.status_code == 200 and download.content == REPORT
        assert [e["content"] for e in sent] == ["Sent: 200"], sent
        request = target.requests[-1]
        assert request["headers"]["content-type"].startswith("multipart/form-data")
        assert 'name="doc"; filename="q3.csv"' in request["body"]
        assert REPORT.decode() in request["body"] and "from the bot" in request["body"]


async def test_steps_and_requests_may_name_only_the_organisations_files(sqlite_url: str, tmp_path: Path) -> None:
    async with client_for(sqlite_url, data_dir=tmp_path) as (_app, client):
        file_id = (await client.post("/api/v1/files", files={"file": ("a.txt", b"a", "text/plain")})).json()["id"]
        bot_id = (await client.post("/api/v1/bots", json={"name": "Refs"})).json()["id"]

        async def step(attachments: list[str]) -> httpx.Response:
            return await client.post("/api/v1/steps", json={
                "bot_id": bot_id, "message": {"text": "x", "attachments": attachments}})

        refused = assert_error(await step([file_id, "fil_nobody"]), 422)
        assert refused["details"][0]["field"] == "message.attachments.1"
        made = await step([file_id, "{$session.upload$}"])  # known when the bot runs
        assert made.status_code == 201, made.text
        patched = await client.patch(f"/api/v1/steps/{made.json()['id']}", json={
            "message": {"text": "x", "attachments": ["fil_gone"]}})
        assert assert_error(patched, 422)["details"][0]["field"] == "message.attachments.0"

        async def request(files: list[dict[str, Any]]) -> httpx.Response:
            return await client.post("/api/v1/requests", json={
                "bot_id": bot_id, "url": "https://example.com/in", "method": "POST", "body_type": "multipart",
                "files": files})

        error = assert_error(await request([{"field": "doc", "file_id": "fil_nobody"}]), 422)
        assert error["details"][0]["field"] == "files.0.file_id"
        ok = await request([{"field": "doc", "file_id": file_id}, {"file_id": "{$message.attachments.0$}"}])
        assert ok.status_code == 201, ok.text
        changed = await client.patch(f"/api/v1/requests/{ok.json()['id']}", json={"files": [{"file_id": "nope"}]})
        assert_error(changed, 422)
        steps = (await client.get("/api/v1/steps", params={"bot_id": bot_id})).json()["items"]
        assert [s["message"]["attachments"] for s in steps] == [[file_id, "{$session.upload$}"]]


async def test_another_organisations_file_is_not_a_file_here(sqlite_url: str, tmp_path: Path) -> None:
    async with client_for(sqlite_url, data_dir=tmp_path) as (app, owner):
        theirs = (await owner.post("/api/v1/files", files={"file": ("a.txt", b"secret", "text/plain")})).json()["id"]
        registered = await owner.post("/api/v1/auth/register", json={
            "email": "files-other@example.com", "password": "other-password-1", "org_name": "Other"})
        assert registered.status_code == 201, registered.text
        headers = {"Authorization": f"Bearer {registered.json()['access_token']}"}
        async with httpx.AsyncClient(base_url=app.url, timeout=20, headers=headers) as other:
            for path in (f"/api/v1/files/{theirs}", f"/api/v1/files/{theirs}/content"):
                assert_error(await other.get(path), 404)
            assert_error(await other.post(f"/api/v1/files/{theirs}/url"), 404)
            assert_error(await other.delete(f"/api/v1/files/{theirs}"), 404)
            assert (await other.get("/api/v1/files")).json() == {"items": [], "total": 0}
            bot_id = (await other.post("/api/v1/bots", json={"name": "Thief"})).json()["id"]
            stolen = await other.post("/api/v1/steps", json={"bot_id": bot_id, "message": {"attachments": [theirs]}})
            assert_error(stolen, 422)
        assert (await owner.get(f"/api/v1/files/{theirs}/content")).content == b"secret"
