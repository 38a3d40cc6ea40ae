"""A test chat takes what a chat message takes and shows what the WebSocket shows: the
same text limits and words, attachments with their download path, and a bot with no
steps refused in the words publishing uses."""

from __future__ import annotations

from pathlib import Path

from tests.agents.helpers import assert_error, client_for

NO_FIRST_STEP = "first_step: the bot has no first step (create a step, or set first_step_id)"


async def test_a_test_message_is_a_chat_message_and_shows_attachments_as_the_websocket(
    sqlite_url: str, tmp_path: Path
) -> None:
    async with client_for(sqlite_url, data_dir=tmp_path) as (_app, client):
        file_id = (await client.post("/api/v1/files", files={"file": ("a.txt", b"a", "text/plain")})).json()["id"]
        bot_id = (await client.post("/api/v1/bots", json={"name": "Sender"})).json()["id"]
        path = f"/api/v1/bots/{bot_id}/test"
        error = assert_error(await client.post(path, json={"text": "hi"}), 422)
        assert error["message"] == f"the draft can't be tested: {NO_FIRST_STEP}", error
        published = assert_error(await client.post(f"/api/v1/bots/{bot_id}/publish"), 422)
        assert published["message"] == f"the draft can't be published: {NO_FIRST_STEP}"

        start = await client.post("/api/v1/steps", json={"bot_id": bot_id, "key": "start"})
        here = await client.post("/api/v1/steps", json={
            "bot_id": bot_id, "key": "here", "message": {"text": "Here", "attachments": [file_id]}})
        group = await client.post("/api/v1/connection_groups", json={"step_id": start.json()["id"]})
        moved = await client.post("/api/v1/connections", json={
            "group_id": group.json()["id"], "next_step_id": here.json()["id"]})
        assert moved.status_code == 201, moved.text
        blank = assert_error(await client.post(path, json={"text": ""}), 422)
        assert blank["details"][0] == {"field": "text", "problem": "must not be blank"}
        answer = await client.post(path, json={"text": "x" * 32_000})
        assert answer.status_code == 200 and "error" not in answer.json(), answer.text
        assert answer.json()["messages"] == [{"text": "Here", "attachments": [
            {"file_id": file_id, "download_path": f"/api/v1/files/{file_id}/content"}]}]
        too_long = assert_error(await client.post(path, json={"text": "x" * 32_001}), 422)
        assert too_long["details"][0]["field"] == "text"
