"""``PATCH /api/v1/agents/{id}`` with ``settings.integrations`` applies at once: a running bot
whose token, mode or secret changed is restarted with the new settings, one removed is
stopped (its webhook removed), one added is started."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tests.agents.helpers import agent_body, wait_for
from tests.channels.telegram.helpers import OTHER_TOKEN, PUBLIC_URL, TOKEN, World, texts_to, world
from tests.support.fake_telegram import FakeBotApi


def _telegram(credential_id: str, **settings: Any) -> dict[str, Any]:
    return {"settings": {"integrations": [{"type": "telegram", "settings": {"credential_id": credential_id, **settings}}]}}


async def _patch(w: World, agent_id: str, body: dict[str, Any]) -> dict[str, Any]:
    response = await w.client.patch(f"/api/v1/agents/{agent_id}", json=body)
    assert response.status_code == 200, response.text
    return dict(response.json())


def _webhooks(api: FakeBotApi, token: str, method: str) -> list[dict[str, Any]]:
    return [call.params for call in api.calls if call.token == token and call.method == method]


async def test_a_new_token_restarts_the_running_bot_with_it(sqlite_url: str, tmp_path: Path, api: FakeBotApi) -> None:
    api.add_bot(TOKEN)
    api.add_bot(OTHER_TOKEN, username="second_bot")
    async with world(sqlite_url, tmp_path, api) as w:
        await w.agent("tg-bot", await w.credential())
        assert (await w.start("tg-bot"))["bot_username"] == "agenthub_test_bot"
        await _patch(w, "tg-bot", _telegram(await w.credential(OTHER_TOKEN)))

        async def on_second_bot() -> dict[str, Any] | None:
            status = await w.status("tg-bot")
            return status if status["status"] == "running" and status["bot_username"] == "second_bot" else None

        assert await wait_for(on_second_bot, timeout=15), await w.status("tg-bot")
        await api.user_says(OTHER_TOKEN, "hi")
        calls = await w.replies(lambda sent: len(texts_to(sent)) >= 1, token=OTHER_TOKEN)
        assert texts_to(calls) == ['You said: "hi". That is message 1 of this chat.']


async def test_a_new_mode_and_secret_restart_it_and_removing_it_stops_it(
    sqlite_url: str, tmp_path: Path, api: FakeBotApi
) -> None:
    api.add_bot(TOKEN)
    async with world(sqlite_url, tmp_path, api) as w:
        credential = await w.credential()
        created = await w.agent("tg-bot", credential)
        await w.start("tg-bot")
        # polling -> webhook: the webhook is registered with the secret.
        await _patch(w, "tg-bot", _telegram(credential, mode="webhook", webhook_secret="first-secret-0123"))
        await api.wait_for(lambda _: len(_webhooks(api, TOKEN, "setWebhook")) >= 1, timeout=15)
        registered = _webhooks(api, TOKEN, "setWebhook")[-1]
        assert registered["url"] == f"{PUBLIC_URL}/api/v1/agents/{created['address']}/integrations/telegram/webhook"
        assert registered["secret_token"] == "first-secret-0123"
        assert (await w.until_status("tg-bot", "running"))["mode"] == "webhook"
        # A new secret: registered again with it; the old one is refused from then on.
        await _patch(w, "tg-bot", _telegram(credential, mode="webhook", webhook_secret="second-secret-0123"))
        await api.wait_for(lambda _: len(_webhooks(api, TOKEN, "setWebhook")) >= 2, timeout=15)
        assert _webhooks(api, TOKEN, "setWebhook")[-1]["secret_token"] == "second-secret-0123"
        await w.until_status("tg-bot", "running")
        path = f"/api/v1/agents/{created['address']}/integrations/telegram/webhook"
        header = "X-Telegram-Bot-Api-Secret-Token"
        update = {"update_id": 7, "message": {
            "message_id": 1, "date": 0, "chat": {"id": 42, "type": "private"},
            "from": {"id": 42, "is_bot": False, "first_name": "Ann"}, "text": "hello",
        }}
        assert (await w.client.post(path, json=update, headers={header: "first-secret-0123"})).status_code == 401
        assert (await w.client.post(path, json=update, headers={header: "second-secret-0123"})).status_code == 200
        calls = await w.replies(lambda sent: len(texts_to(sent)) >= 1)
        assert texts_to(calls) == ['You said: "hello". That is message 1 of this chat.']
        # Removed: stopped, and its webhook removed.
        deleted = len(_webhooks(api, TOKEN, "deleteWebhook"))
        await _patch(w, "tg-bot", {"settings": {"integrations": []}})
        assert (await w.status("tg-bot"))["status"] == "stopped"
        assert len(_webhooks(api, TOKEN, "deleteWebhook")) > deleted


async def test_an_integration_added_is_started(sqlite_url: str, tmp_path: Path, api: FakeBotApi) -> None:
    api.add_bot(TOKEN)
    async with world(sqlite_url, tmp_path, api) as w:
        assert (await w.client.post("/api/v1/agents", json=agent_body(id="plain", settings={"access": "public"}))).status_code == 201
        assert (await w.status("plain"))["status"] == "stopped"
        await _patch(w, "plain", _telegram(await w.credential()))
        await w.until_status("plain", "running")
        await api.user_says(TOKEN, "hi")
        calls = await w.replies(lambda sent: len(texts_to(sent)) >= 1)
        assert texts_to(calls) == ['You said: "hi". That is message 1 of this chat.']


async def test_an_integration_that_cannot_start_says_why_in_its_status(
    sqlite_url: str, tmp_path: Path, api: FakeBotApi
) -> None:
    api.add_bot(TOKEN)
    async with world(sqlite_url, tmp_path, api) as w:
        await w.agent("first", await w.credential())
        await w.start("first")
        await w.client.post("/api/v1/agents", json={"name": "Other", "id": "other", "settings": {
            "provider": "fake", "model_id": "demo", "access": "public"}})
        updated = await _patch(w, "other", _telegram(await w.credential()))
        assert updated["id"] == "other"
        status = await w.status("other")
        assert status["status"] == "error" and "another agent" in status["error"]


async def test_a_credential_the_organisation_lacks_is_refused_and_an_integration_change_needs_no_restart(
    sqlite_url: str, tmp_path: Path, api: FakeBotApi
) -> None:
    api.add_bot(TOKEN)
    async with world(sqlite_url, tmp_path, api) as w:
        credential = await w.credential()
        await w.agent("tg-bot", credential)
        refused = await w.client.patch("/api/v1/agents/tg-bot", json=_telegram("cred_nothing"))
        assert refused.status_code == 422, refused.text
        error = refused.json()["error"]
        assert error["details"][0]["field"] == "settings.integrations.0.settings.credential_id"
        assert "'cred_nothing' is no credential of the organisation" in error["message"]
        made = await w.client.post("/api/v1/agents", json=agent_body(id="tg-other", settings={
            "integrations": [{"type": "telegram", "settings": {"credential_id": "cred_nothing"}}]}))
        assert made.status_code == 422, made.text
        assert (await w.client.get("/api/v1/agents/tg-other")).status_code == 404

        changed = await _patch(w, "tg-bot", _telegram(credential, mode="polling", webhook_secret="another-secret-01"))
        assert changed["restart_required"] is False
        assert changed["message"] == "Saved. Its integrations apply the change now."
