"""Webhook mode (Telegram posts updates with the secret token), and linking a Telegram user
to a platform user with ``/start <code>`` so a non-public agent answers them."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import httpx

from tests.agents.helpers import assert_error
from tests.channels.telegram.helpers import PUBLIC_URL, TOKEN, texts_to, world
from tests.support.fake_telegram import FakeBotApi

SECRET = "webhook-secret-0123456789"
HEADER = "X-Telegram-Bot-Api-Secret-Token"


def _update(text: str, update_id: int = 1, user_id: int = 42) -> dict[str, Any]:
    user = {"id": user_id, "is_bot": False, "first_name": "Ann"}
    return {"update_id": update_id, "message": {
        "message_id": update_id, "date": int(time.time()), "chat": {"id": user_id, "type": "private"},
        "from": user, "text": text,
    }}


async def test_webhook_mode_registers_the_public_url_and_takes_only_updates_with_the_secret(
    sqlite_url: str, tmp_path: Path, api: FakeBotApi
) -> None:
    api.add_bot(TOKEN)
    async with world(sqlite_url, tmp_path, api) as w:
        created = await w.agent("hooked", await w.credential(), mode="webhook", webhook_secret=SECRET)
        assert created["settings"]["integrations"][0]["settings"]["webhook_secret"] == "***"
        await w.start("hooked")
        registered = api.sent(TOKEN, "setWebhook")
        path = f"/api/v1/agents/{created['address']}/integrations/telegram/webhook"
        assert registered[-1].params["url"] == PUBLIC_URL + path
        assert registered[-1].params["secret_token"] == SECRET
        async with httpx.AsyncClient(base_url=w.app.url, timeout=30) as telegram:  # no login
            for headers in ({}, {HEADER: "wrong-secret-0123456789"}, {HEADER: ""}):
                assert_error(await telegram.post(path, json=_update("hi"), headers=headers), 401, "unauthorized")
            assert_error(await telegram.post(
                "/api/v1/agents/nobody/integrations/telegram/webhook", json=_update("hi"), headers={HEADER: SECRET}
            ), 401)
            assert not api.sent(TOKEN)
            answered = await telegram.post(path, json=_update("hi"), headers={HEADER: SECRET})
            assert answered.status_code == 200 and answered.json() == {"ok": True}, answered.text
            calls = await w.replies(lambda sent: len(texts_to(sent)) >= 1)
            assert texts_to(calls) == ['You said: "hi". That is message 1 of this chat.']
        stopped = await w.client.post("/api/v1/agents/hooked/integrations/telegram/stop")
        assert stopped.json()["status"] == "stopped"
        assert api.sent(TOKEN, "deleteWebhook")
        async with httpx.AsyncClient(base_url=w.app.url, timeout=30) as telegram:
            assert (await telegram.post(path, json=_update("more", 2), headers={HEADER: SECRET})).status_code == 401


async def test_without_a_secret_one_is_derived_from_the_token(sqlite_url: str, tmp_path: Path, api: FakeBotApi) -> None:
    api.add_bot(TOKEN)
    async with world(sqlite_url, tmp_path, api) as w:
        await w.agent("hooked", await w.credential(), mode="webhook")
        await w.start("hooked")
        secret = api.sent(TOKEN, "setWebhook")[-1].params["secret_token"]
        assert len(secret) >= 32 and TOKEN not in secret


async def test_a_linked_telegram_user_talks_to_a_members_only_agent(
    sqlite_url: str, tmp_path: Path, api: FakeBotApi
) -> None:
    api.add_bot(TOKEN)
    async with world(sqlite_url, tmp_path, api) as w:
        await w.agent("private", await w.credential(), access="organization")
        await w.start("private")
        await api.user_says(TOKEN, "hi")
        calls = await w.replies(lambda sent: len(texts_to(sent)) >= 1)
        assert "members of its organisation" in texts_to(calls)[0]  # an end user is refused, kindly
        linked = await w.client.post("/api/v1/agents/private/integrations/telegram/link")
        assert linked.status_code == 201, linked.text
        body = linked.json()
        assert body["deep_link"] == f"https://t.me/agenthub_test_bot?start={body['code']}"
        await api.user_says(TOKEN, f"/start {body['code']}")
        calls = await w.replies(lambda sent: len(texts_to(sent)) >= 2)
        assert texts_to(calls)[1].startswith("Linked:") and "owner@example.com" in texts_to(calls)[1]
        await api.user_says(TOKEN, "hello")
        calls = await w.replies(lambda sent: len(texts_to(sent)) >= 3)
        assert texts_to(calls)[2] == 'You said: "hello". That is message 1 of this chat.'
        # The code was good once; another Telegram user can't use it.
        await api.user_says(TOKEN, f"/start {body['code']}", user_id=77)
        calls = await w.replies(lambda sent: len(texts_to(sent, 77)) >= 1)
        assert "not valid" in texts_to(calls, 77)[0]
        await api.user_says(TOKEN, "me too", user_id=77)
        calls = await w.replies(lambda sent: len(texts_to(sent, 77)) >= 2)
        assert "members of its organisation" in texts_to(calls, 77)[1]
