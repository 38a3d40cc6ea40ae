"""Telegram's posts to an agent's webhook are not limited as anonymous requests (they come in
bursts from Telegram's few addresses, proven by the bot's secret); without the right secret
they are, so guessing it stays limited."""

from __future__ import annotations

import time
from pathlib import Path

import httpx

from tests.agents.helpers import assert_error
from tests.channels.telegram.helpers import TOKEN, World, settings_for, texts_to
from tests.support.fake_telegram import FakeBotApi
from tests.support.server import running_app

SECRET = "webhook-secret-0123456789"
HEADER = "X-Telegram-Bot-Api-Secret-Token"
ANONYMOUS_LIMIT = 5


async def test_a_hundred_posts_with_the_secret_pass_and_a_wrong_secret_is_limited(
    sqlite_url: str, tmp_path: Path, api: FakeBotApi
) -> None:
    api.add_bot(TOKEN)
    settings = settings_for(sqlite_url, tmp_path, api, rate_limit_anonymous_per_minute=ANONYMOUS_LIMIT)
    async with running_app(settings) as app:
        async with httpx.AsyncClient(base_url=app.url, timeout=30, headers=app.headers) as client:
            w = World(api, app, client)
            created = await w.agent("hooked", await w.credential(), mode="webhook", webhook_secret=SECRET)
            await w.start("hooked")
            path = f"/api/v1/agents/{created['address']}/integrations/telegram/webhook"
            async with httpx.AsyncClient(base_url=app.url, timeout=30) as telegram:  # no login, as Telegram
                # A burst of updates the bot has nothing to answer (no message in them).
                for number in range(1, 101):
                    posted = await telegram.post(path, json={"update_id": number}, headers={HEADER: SECRET})
                    assert posted.status_code == 200, (number, posted.text)
                # A wrong secret counts against the anonymous limit and meets it.
                statuses = [
                    (await telegram.post(path, json={"update_id": 500}, headers={HEADER: "wrong-secret-0123"}))
                    for _ in range(ANONYMOUS_LIMIT + 1)
                ]
                assert {r.status_code for r in statuses[:-1]} <= {401, 429}
                assert_error(statuses[-1], 429, "rate_limited")
                # Telegram's own posts still pass, and the bot answers them.
                message = {"message_id": 1, "date": int(time.time()), "text": "hi",
                           "chat": {"id": 42, "type": "private"}, "from": {"id": 42, "is_bot": False, "first_name": "Ann"}}
                posted = await telegram.post(path, json={"update_id": 101, "message": message}, headers={HEADER: SECRET})
                assert posted.status_code == 200 and posted.json() == {"ok": True}, posted.text
            calls = await w.replies(lambda sent: len(texts_to(sent)) >= 1)
            assert texts_to(calls) == ['You said: "hi". That is message 1 of this chat.']
