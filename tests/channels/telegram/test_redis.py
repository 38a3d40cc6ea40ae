"""On Redis: the status is the key ``integration_status:{agent_id}:telegram`` and the bot's
lease a key too, so two AgentHub processes on one Redis and one database run each bot once:
the second sees it running in the first, and refuses its token to another agent."""

from __future__ import annotations

from pathlib import Path

import httpx
import redis.asyncio as aioredis

from tests.agents.helpers import assert_error, migrated, wait_for
from tests.channels.telegram.helpers import PUBLIC_URL, TOKEN, World, settings_for, texts_to
from tests.support.fake_telegram import FakeBotApi
from tests.support.server import running_app


async def test_two_servers_on_one_redis_run_a_bot_once(
    postgres_url: str, redis_server_url: str, redis_prefix: str, tmp_path: Path, api: FakeBotApi
) -> None:
    api.add_bot(TOKEN)
    await migrated(postgres_url)
    settings = settings_for(
        postgres_url, tmp_path, api, redis_url=redis_server_url, redis_key_prefix=redis_prefix,
        secret_box_key="MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=",
    )
    async with running_app(settings) as first_app, running_app(settings) as second_app:
        async with httpx.AsyncClient(base_url=first_app.url, timeout=30, headers=first_app.headers) as one, \
                httpx.AsyncClient(base_url=second_app.url, timeout=30, headers=second_app.headers) as two:
            first, second = World(api, first_app, one), World(api, second_app, two)
            created = await first.agent("tg-bot", await first.credential())
            await first.agent("copy", await first.credential())
            await first.start("tg-bot")
            client = aioredis.Redis.from_url(redis_server_url)
            try:
                stored = await client.get(f"{redis_prefix}integration_status:{{{created['address']}}}:telegram")
            finally:
                await client.aclose()
            assert stored is not None and b'"running"' in stored
            # The second server sees it running (in the first), starts nothing, and refuses the token elsewhere.
            assert (await second.status("tg-bot"))["status"] == "running"
            again = await two.post("/api/v1/agents/tg-bot/integrations/telegram/start")
            assert again.status_code == 200 and again.json()["status"] == "running"
            assert_error(await two.post("/api/v1/agents/copy/integrations/telegram/start"), 409, "token_in_use")
            await api.user_says(TOKEN, "hi")
            calls = await first.replies(lambda sent: len(texts_to(sent)) >= 1)
            assert texts_to(calls) == ['You said: "hi". That is message 1 of this chat.']
            # Stopped from the second server, the first stops it (at its next lease renewal).
            assert (await two.post("/api/v1/agents/tg-bot/integrations/telegram/stop")).json()["status"] == "stopped"
            assert (await first.status("tg-bot"))["status"] == "stopped"


async def test_a_change_saved_on_another_server_restarts_the_bot_with_it(
    postgres_url: str, redis_server_url: str, redis_prefix: str, tmp_path: Path, api: FakeBotApi
) -> None:
    """The bot runs in the first server; its new mode is saved through the second: the first
    stops it at its next lease renewal and the second starts it with the change."""
    api.add_bot(TOKEN)
    await migrated(postgres_url)
    settings = settings_for(
        postgres_url, tmp_path, api, redis_url=redis_server_url, redis_key_prefix=redis_prefix,
        secret_box_key="MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=",
    )
    async with running_app(settings) as first_app, running_app(settings) as second_app:
        async with httpx.AsyncClient(base_url=first_app.url, timeout=30, headers=first_app.headers) as one, \
                httpx.AsyncClient(base_url=second_app.url, timeout=30, headers=second_app.headers) as two:
            first = World(api, first_app, one)
            credential = await first.credential()
            await first.agent("tg-bot", credential)
            running = await first.start("tg-bot")
            assert running["mode"] == "polling" and running["pid"]
            changed = await two.patch("/api/v1/agents/tg-bot", json={"settings": {"integrations": [
                {"type": "telegram", "settings": {"credential_id": credential, "mode": "webhook"}},
            ]}})
            assert changed.status_code == 200, changed.text

            async def in_webhook_mode() -> dict[str, object] | None:
                status = await first.status("tg-bot")
                return status if status["status"] == "running" and status["mode"] == "webhook" else None

            assert await wait_for(in_webhook_mode, timeout=60), await first.status("tg-bot")
            assert [c.params["url"] for c in api.calls if c.method == "setWebhook"] == [
                f"{PUBLIC_URL}/api/v1/agents/{(await two.get('/api/v1/agents/tg-bot')).json()['address']}"
                "/integrations/telegram/webhook"
            ]
