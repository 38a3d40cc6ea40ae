"""A file that a bot's draft names can't be deleted: the bot would send a dead attachment."""

from __future__ import annotations

from pathlib import Path

from tests.agents.helpers import assert_error, client_for


async def test_a_file_a_step_or_request_names_is_not_deleted(database_url: str, tmp_path: Path) -> None:
    async with client_for(database_url, data_dir=tmp_path) as (_app, client):
        file_id = (await client.post("/api/v1/files", files={"file": ("a.txt", b"a", "text/plain")})).json()["id"]
        bot_id = (await client.post("/api/v1/bots", json={"name": "Uses"})).json()["id"]
        step = (await client.post("/api/v1/steps", json={
            "bot_id": bot_id, "message": {"text": "x", "attachments": [file_id]}})).json()
        request = (await client.post("/api/v1/requests", json={
            "bot_id": bot_id, "url": "https://example.com/in", "method": "POST", "body_type": "multipart",
            "files": [{"field": "doc", "file_id": file_id}]})).json()

        error = assert_error(await client.delete(f"/api/v1/files/{file_id}"), 409, "file_in_use")
        assert error["steps"] == [step["id"]] and error["requests"] == [request["id"]], error
        assert step["id"] in error["message"] and request["id"] in error["message"]
        assert (await client.get(f"/api/v1/files/{file_id}/content")).content == b"a"

        await client.patch(f"/api/v1/steps/{step['id']}", json={"message": {"text": "x"}})
        error = assert_error(await client.delete(f"/api/v1/files/{file_id}"), 409, "file_in_use")
        assert error["steps"] == [] and error["requests"] == [request["id"]]
        assert (await client.delete(f"/api/v1/requests/{request['id']}")).status_code == 204
        assert (await client.delete(f"/api/v1/files/{file_id}")).status_code == 204
        assert_error(await client.get(f"/api/v1/files/{file_id}"), 404)
