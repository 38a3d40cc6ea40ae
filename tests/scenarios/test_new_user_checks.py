"""What a new user tripped over, refused or handled when saved: files an import names,
templates imported twice, blank bot names, a deleted bot's id, an analytics window that
ends before it starts."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx

from tests.agents.helpers import assert_error, client_for

IMPORT = "/api/v1/bots/import"


def _document(**changes: Any) -> dict[str, Any]:
    return {"format": "agenthub.bot/v1", "name": "Files", "first_step": "a",
            "steps": [{"key": "a", "message": {"text": "Hi"}}], **changes}


def _mood(text: str = "How are you?") -> dict[str, Any]:
    return {"key": "ask-mood", "name": "Ask the mood", "first_step": "ask",
            "steps": [{"key": "ask", "message": {"text": text}}]}


async def _bots(client: httpx.AsyncClient) -> list[str]:
    return [b["name"] for b in (await client.get("/api/v1/bots")).json()["items"]]


async def test_an_import_names_only_the_organisations_files(sqlite_url: str, tmp_path: Path) -> None:
    async with client_for(sqlite_url, data_dir=tmp_path) as (_app, client):
        file_id = (await client.post("/api/v1/files", files={"file": ("a.txt", b"a", "text/plain")})).json()["id"]
        cases = [
            (_document(steps=[{"key": "a", "message": {"attachments": [file_id, "fil_nothing"]}}]),
             "steps.0.message.attachments.1"),
            (_document(requests=[{"key": "r", "url": "https://example.com", "files": [{"file_id": "fil_nothing"}]}]),
             "requests.0.files.0.file_id"),
            (_document(templates=[{**_mood(), "steps": [{"key": "ask", "message": {"attachments": ["fil_x"]}}]}]),
             "templates.0.steps.0.message.attachments.0"),
        ]
        for document, field in cases:
            error = assert_error(await client.post(IMPORT, json=document), 422)
            assert error["details"][0]["field"] == field, error
            assert "upload it with POST /api/v1/files" in error["message"]
        assert await _bots(client) == []
        assert (await client.get("/api/v1/templates")).json()["items"] == []
        fine = _document(steps=[{"key": "a", "message": {"attachments": [file_id, "{$session.upload$}"]}}])
        assert (await client.post(IMPORT, json=fine)).status_code == 201

        body = {"key": "t", "name": "T", "document": {"first_step": "a", "steps": [
            {"key": "a", "message": {"attachments": ["fil_nothing"]}}]}}
        made = assert_error(await client.post("/api/v1/templates", json=body), 422)
        assert made["details"][0]["field"] == "document.steps.0.message.attachments.0"
        good = await client.post("/api/v1/templates", json={**body, "document": {"first_step": "a", "steps": [
            {"key": "a", "message": {"attachments": [file_id]}}]}})
        assert good.status_code == 201, good.text
        changed = await client.patch(f"/api/v1/templates/{good.json()['id']}", json={"document": body["document"]})
        assert assert_error(changed, 422)["details"][0]["field"] == "document.steps.0.message.attachments.0"


async def test_importing_a_template_again_reuses_it_or_gives_it_a_free_key(database_url: str) -> None:
    async with client_for(database_url) as (_app, client):
        document = _document(steps=[{"key": "a", "template": {"template": "ask-mood"}}], templates=[_mood()])
        for _ in range(3):
            assert (await client.post(IMPORT, json=document)).status_code == 201
        templates = (await client.get("/api/v1/templates")).json()["items"]
        assert [t["key"] for t in templates] == ["ask-mood"]

        other = _document(steps=[{"key": "a", "template": {"template": "ask-mood"}}], templates=[_mood("Mood?")])
        imported = await client.post(IMPORT, json=other)
        assert imported.status_code == 201, imported.text
        templates = (await client.get("/api/v1/templates")).json()["items"]
        assert sorted(t["key"] for t in templates) == ["ask-mood", "ask-mood-2"]
        new = next(t for t in templates if t["key"] == "ask-mood-2")
        assert new["document"]["steps"][0]["message"]["text"] == "Mood?"
        steps = (await client.get("/api/v1/steps", params={"bot_id": imported.json()["id"]})).json()["items"]
        assert steps[0]["template_instance"]["template_id"] == new["id"]
        exported = (await client.get(f"/api/v1/bots/{imported.json()['id']}/export")).json()
        assert exported["steps"][0]["template"]["template"] == "ask-mood-2"
        assert [t["key"] for t in exported["templates"]] == ["ask-mood-2"]


async def test_a_bot_s_name_must_show_something(sqlite_url: str) -> None:
    async with client_for(sqlite_url) as (_app, client):
        for name in ("   ", "\u200b", ""):
            error = assert_error(await client.post("/api/v1/bots", json={"name": name}), 422)
            assert error["details"][0] == {"field": "name", "problem": "must not be blank"}, error
            imported = assert_error(await client.post(IMPORT, json=_document(name=name)), 422)
            assert imported["details"][0]["field"] == "name"
        bot = (await client.post("/api/v1/bots", json={"name": "Good"})).json()
        patched = assert_error(await client.patch(f"/api/v1/bots/{bot['id']}", json={"name": " "}), 422)
        assert patched["details"][0] == {"field": "name", "problem": "must not be blank"}
        assert await _bots(client) == ["Good"]


async def test_a_deleted_bot_s_id_is_retained_saying_until_when(sqlite_url: str) -> None:
    async with client_for(sqlite_url) as (_app, client):
        made = await client.post("/api/v1/bots", json={"id": "mood-bot", "name": "Mood"})
        assert made.status_code == 201, made.text
        assert_error(await client.post("/api/v1/bots", json={"id": "mood-bot", "name": "Again"}), 409, "conflict")
        assert (await client.delete("/api/v1/bots/mood-bot")).status_code == 204
        error = assert_error(await client.post("/api/v1/bots", json={"id": "mood-bot", "name": "Again"}), 409,
                             "id_retained")
        assert "can be taken again after" in error["message"] and "DELETED_RETENTION_DAYS" in error["message"]


async def test_an_analytics_window_may_not_end_before_it_starts(sqlite_url: str) -> None:
    async with client_for(sqlite_url) as (_app, client):
        bot = (await client.post("/api/v1/bots", json={"name": "Funnel"})).json()
        path = f"/api/v1/bots/{bot['id']}/analytics"
        error = assert_error(await client.get(path, params={"from": "2026-02-01T00:00:00Z", "to": "2026-01-01"}), 422)
        assert error["details"][0]["field"] == "from"
        same = await client.get(path, params={"from": "2026-01-01T00:00:00Z", "to": "2026-01-01T00:00:00Z"})
        assert same.status_code == 200 and same.json() == {"steps": []}


async def test_a_step_s_name_may_be_left_out_but_not_made_of_spaces(sqlite_url: str) -> None:
    async with client_for(sqlite_url) as (_app, client):
        bot = (await client.post("/api/v1/bots", json={"name": "Named"})).json()
        unnamed = await client.post("/api/v1/steps", json={"bot_id": bot["id"]})
        assert unnamed.status_code == 201 and unnamed.json()["name"] == "", unnamed.text
        for name in ("   ", "\u200b"):
            error = assert_error(await client.post("/api/v1/steps", json={"bot_id": bot["id"], "name": name}), 422)
            assert error["details"][0] == {"field": "name", "problem": "must not be blank"}, error
            patched = assert_error(await client.patch(f"/api/v1/steps/{unnamed.json()['id']}", json={"name": name}), 422)
            assert patched["details"][0] == {"field": "name", "problem": "must not be blank"}
        document = _document(name="Doc")
        document["steps"][0]["name"] = "  "
        refused = assert_error(await client.post(IMPORT, json=document), 422)
        assert refused["details"][0]["field"].endswith("name"), refused
        steps = (await client.get("/api/v1/steps", params={"bot_id": bot["id"]})).json()["items"]
        assert [step["name"] for step in steps] == [""]
