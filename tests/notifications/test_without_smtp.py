"""A server that sends no e-mail (``SMTP_HOST`` unset) takes no e-mail channel: creating one,
or pointing one at a new address, is a 422 naming the field and saying SMTP_HOST is unset,
and so is a notification naming one. An e-mail channel added while the server sent e-mail
stays: a default notification fails there, saying why, and falls back to the next channel."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from agenthub.notifications.senders import NOT_SET_UP
from tests.agents.helpers import assert_error
from tests.notifications.helpers import BOT_TOKEN, add_channel, mailing_app, notifying_app, settled
from tests.notifications.mailserver import mail_server
from tests.support.fake_telegram import FakeBotApi

CHANNELS = "/api/v1/notification-channels"
UNSET = NOT_SET_UP["email"]


@pytest.fixture
async def bot_api() -> AsyncIterator[FakeBotApi]:
    async with FakeBotApi() as api:
        api.add_bot(BOT_TOKEN)
        yield api


async def test_without_smtp_no_email_channel_is_added_and_one_from_before_fails_saying_so(
    sqlite_url: str, bot_api: FakeBotApi
) -> None:
    async with mailing_app(sqlite_url) as (_app, client):  # the server sent e-mail then
        before = await add_channel(client, type="email", address="ann@example.com", priority=5)

    async with notifying_app(sqlite_url, api=bot_api) as (_app, client):
        created = assert_error(await client.post(CHANNELS, json={"type": "email", "address": "bob@example.com"}),
                               422, "invalid_input")
        assert created["details"] == [{"field": "type", "problem": UNSET}], created
        assert "SMTP_HOST is unset" in created["message"]
        moved = assert_error(
            await client.patch(f"{CHANNELS}/{before['id']}", json={"address": "ann@work.example"}), 422, "invalid_input"
        )
        assert moved["details"] == [{"field": "address", "problem": UNSET}], moved
        # What needs no e-mail still works: a Telegram channel, the old channel's priority.
        telegram = await add_channel(client, type="telegram", chat_id="777", priority=2)
        reordered = await client.patch(f"{CHANNELS}/{before['id']}", json={"priority": 1})
        assert reordered.status_code == 200 and reordered.json()["address"] == "ann@example.com", reordered.text

        # Trying the channels: naming the e-mail one (by type or id) is refused before anything is queued.
        for channels, field in ((["telegram", "email"], "channels.1"), ([before["id"]], "channels.0")):
            named = assert_error(await client.post("/api/v1/notifications", json={"body": "hi", "channels": channels}),
                                 422, "invalid_input")
            assert named["details"] == [{"field": field, "problem": UNSET}], named
        assert (await client.get("/api/v1/notifications/deliveries")).json() == []
        only_telegram = await client.post("/api/v1/notifications", json={"body": "hi", "channels": [telegram["id"]]})
        assert only_telegram.status_code == 201, only_telegram.text
        await settled(client, 1)

        # By default the first channel, the old e-mail one, fails saying why; Telegram gets it.
        queued = await client.post("/api/v1/notifications", json={"body": "hello"})
        assert queued.status_code == 201, queued.text
        rows = await settled(client, 3)
        mailed = [row for row in rows if row["channel"] == "email"]
        assert [(row["status"], row["error"]) for row in mailed] == [("failed", UNSET)]
        assert [call.params["text"] for call in bot_api.sent(BOT_TOKEN)] == ["hi", "hello"]


async def test_without_a_bot_token_no_telegram_channel_is_added_or_named(sqlite_url: str) -> None:
    """The same for Telegram: without TELEGRAM_BOT_TOKEN a Telegram channel is not added, not
    pointed at a new chat, and not named in a notification; e-mail goes on working."""
    unset = NOT_SET_UP["telegram"]
    async with mailing_app(sqlite_url) as (_app, client):  # the server sent on Telegram then
        before = await add_channel(client, type="telegram", chat_id="777", priority=5)

    async with mail_server() as mail, notifying_app(sqlite_url, mail) as (_app, client):
        created = assert_error(await client.post(CHANNELS, json={"type": "telegram", "chat_id": "888"}),
                               422, "invalid_input")
        assert created["details"] == [{"field": "type", "problem": unset}], created
        assert "TELEGRAM_BOT_TOKEN is unset" in created["message"]
        moved = assert_error(await client.patch(f"{CHANNELS}/{before['id']}", json={"chat_id": "999"}),
                             422, "invalid_input")
        assert moved["details"] == [{"field": "chat_id", "problem": unset}], moved
        email = await add_channel(client, type="email", address="ann@example.com", priority=9)
        named = assert_error(await client.post("/api/v1/notifications", json={"body": "hi", "channels": ["telegram"]}),
                             422, "invalid_input")
        assert named["details"] == [{"field": "channels.0", "problem": unset}], named
        assert [c["id"] for c in (await client.get(CHANNELS)).json()] == [before["id"], email["id"]]
        assert (await client.get("/api/v1/notifications/deliveries")).json() == []
