"""Notifications reach people: e-mail on a real local SMTP server, Telegram on the fake Bot API,
retried with backoff, falling back to the next channel, every attempt in the delivery log."""

from __future__ import annotations

import logging

import pytest

from tests.notifications.helpers import BOT_TOKEN, SENDER, add_channel, notifying_app, settled
from tests.notifications.mailserver import mail_server
from tests.support.fake_telegram import FakeBotApi


async def test_an_email_arrives_with_its_subject_and_body(sqlite_url: str) -> None:
    async with mail_server() as mail, notifying_app(sqlite_url, mail) as (_app, client):
        channel = await add_channel(client, type="email", address="ann@example.com")
        queued = await client.post("/api/v1/notifications", json={"subject": "Standup", "body": "In 5 minutes.\nRoom 2."})
        assert queued.status_code == 201, queued.text
        [row] = queued.json()
        assert row["status"] == "pending" and row["channel"] == "email" and row["channel_id"] == channel["id"]

        received = await mail.next_mail()
        assert received.subject == "Standup"
        assert received.body == "In 5 minutes.\nRoom 2."
        assert received.message["From"] == SENDER and received.message["To"] == "ann@example.com"
        assert received.recipients == ["ann@example.com"]

        [logged] = await settled(client, 1)
        assert logged["id"] == row["id"]
        assert logged["status"] == "sent" and logged["attempts"] == 1 and logged["error"] is None
        assert logged["sent_at"] is not None and logged["source"] == "api"


@pytest.fixture
async def bot_api() -> FakeBotApi:  # type: ignore[misc]
    async with FakeBotApi() as api:
        api.add_bot(BOT_TOKEN)
        yield api


async def test_telegram_gets_the_subject_and_the_body(sqlite_url: str, bot_api: FakeBotApi) -> None:
    async with notifying_app(sqlite_url, api=bot_api) as (_app, client):
        await add_channel(client, type="telegram", chat_id="777")
        await client.post("/api/v1/notifications", json={"subject": "Reminder", "body": "Water the <plants> *now*"})
        await bot_api.wait_for(lambda calls: any(c.method == "sendMessage" for c in calls))
        [call] = bot_api.sent(BOT_TOKEN)
        assert str(call.params["chat_id"]) == "777"
        assert call.params["text"] == "Reminder\n\nWater the <plants> *now*"
        assert "parse_mode" not in call.params
        [logged] = await settled(client, 1)
        assert logged["status"] == "sent" and logged["channel"] == "telegram"


async def test_a_long_telegram_notification_arrives_in_parts_with_nothing_lost(
    sqlite_url: str, bot_api: FakeBotApi
) -> None:
    body = "\n".join(f"line {n:05d} " + "x" * 80 for n in range(120))  # about 11 000 characters
    async with notifying_app(sqlite_url, api=bot_api) as (_app, client):
        await add_channel(client, type="telegram", chat_id="777")
        await client.post("/api/v1/notifications", json={"body": body})
        [logged] = await settled(client, 1)
        assert logged["status"] == "sent"
        parts = [call.params["text"] for call in bot_api.sent(BOT_TOKEN)]
        assert len(parts) == 3 and all(len(part) <= 4096 for part in parts)
        assert "".join(parts) == body


async def test_a_refused_mail_is_tried_again_with_backoff_until_it_is_accepted(sqlite_url: str) -> None:
    async with mail_server() as mail, notifying_app(sqlite_url, mail, notification_max_attempts=5) as (_app, client):
        mail.refusals = ["451 4.3.0 Mailbox busy, try again", "451 4.3.0 Mailbox busy, try again"]
        await add_channel(client, type="email", address="ann@example.com")
        await client.post("/api/v1/notifications", json={"subject": "Retry", "body": "third time lucky"})
        received = await mail.next_mail()
        assert received.body == "third time lucky"
        [logged] = await settled(client, 1)
        assert mail.refused == 2
        assert logged["status"] == "sent" and logged["attempts"] == 3 and logged["error"] is None


async def test_after_its_last_attempt_a_delivery_fails_and_the_next_channel_gets_it(
    sqlite_url: str, bot_api: FakeBotApi
) -> None:
    async with mail_server() as mail, notifying_app(
        sqlite_url, mail, bot_api, notification_max_attempts=3
    ) as (_app, client):
        mail.refuse_always = "451 4.3.0 Mailbox busy, try again"
        email = await add_channel(client, type="email", address="ann@example.com", priority=1)
        telegram = await add_channel(client, type="telegram", chat_id="777", priority=2)
        [first] = (await client.post("/api/v1/notifications", json={"subject": "Hi", "body": "somewhere"})).json()

        newest, oldest = await settled(client, 2)
        assert oldest["id"] == first["id"] and oldest["channel_id"] == email["id"]
        assert oldest["status"] == "failed" and oldest["attempts"] == 3
        assert "451" in oldest["error"] and "Mailbox busy" in oldest["error"]
        assert newest["notification_id"] == first["notification_id"] and newest["channel_id"] == telegram["id"]
        assert newest["status"] == "sent" and newest["attempts"] == 1
        assert mail.refused == 3 and mail.mails == []
        assert [c.params["text"] for c in bot_api.sent(BOT_TOKEN)] == ["Hi\n\nsomewhere"]


async def test_an_address_refused_for_good_falls_back_at_once(sqlite_url: str, bot_api: FakeBotApi) -> None:
    async with mail_server() as mail, notifying_app(sqlite_url, mail, bot_api) as (_app, client):
        mail.refuse_always = "550 5.1.1 No such user here"
        await add_channel(client, type="email", address="nobody@example.com", priority=1)
        await add_channel(client, type="telegram", chat_id="777", priority=2)
        await client.post("/api/v1/notifications", json={"body": "where are you"})
        newest, oldest = await settled(client, 2)
        assert oldest["status"] == "failed" and oldest["attempts"] == 1 and "550" in oldest["error"]
        assert newest["status"] == "sent" and newest["channel"] == "telegram"
        assert mail.refused == 1


async def test_named_channels_each_get_the_notification_once_without_fallback(
    sqlite_url: str, bot_api: FakeBotApi
) -> None:
    async with mail_server() as mail, notifying_app(sqlite_url, mail, bot_api) as (_app, client):
        work = await add_channel(client, type="email", address="ann@work.example", priority=1)
        await add_channel(client, type="email", address="ann@home.example", priority=2)
        await add_channel(client, type="telegram", chat_id="777", priority=3)
        rows = (await client.post(
            "/api/v1/notifications", json={"subject": "All", "body": "everywhere", "channels": ["telegram", work["id"]]}
        )).json()
        assert sorted(row["channel"] for row in rows) == ["email", "telegram"]
        assert len({row["notification_id"] for row in rows}) == 1

        logged = await settled(client, 2)
        assert all(row["status"] == "sent" for row in logged)
        assert [m.recipients for m in mail.mails] == [["ann@work.example"]]
        assert len(bot_api.sent(BOT_TOKEN)) == 1

        # A named channel that fails for good: no other channel stands in for it.
        mail.refuse_always = "550 5.1.1 No such user here"
        await client.post("/api/v1/notifications", json={"body": "only e-mail", "channels": ["email"]})
        logged = await settled(client, 4)
        assert sorted(row["status"] for row in logged[:2]) == ["failed", "failed"]
        assert len(bot_api.sent(BOT_TOKEN)) == 1


@pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS")
async def test_refused_credentials_land_in_the_log_without_the_secrets(
    sqlite_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    password = "correct-horse-battery-9917"
    wrong = "wrong-horse-battery-5523"
    async with FakeBotApi() as api, mail_server(user="hub", password=password) as mail:
        caplog.set_level(logging.DEBUG)
        async with notifying_app(sqlite_url, mail, api, smtp_user="hub", smtp_password=wrong) as (_app, client):
            await add_channel(client, type="email", address="ann@example.com", priority=1)
            await add_channel(client, type="telegram", chat_id="777", priority=2)  # the fake doesn't know BOT_TOKEN
            await client.post("/api/v1/notifications", json={"body": "hello"})
            newest, oldest = await settled(client, 2)
            assert oldest["status"] == "failed" and "535" in oldest["error"] and "SMTP_PASSWORD" in oldest["error"]
            assert newest["status"] == "failed" and "TELEGRAM_BOT_TOKEN" in newest["error"]
            shown = (await client.get("/api/v1/notifications/deliveries")).text
        # AgentHub's own records (the libraries' are floored and redacted by the logging set-up
        # of `agenthub serve`: ops/logging.py, tested in tests/ops).
        logged = "\n".join(
            record.getMessage() + repr(record.__dict__) for record in caplog.records if record.name.startswith("agenthub")
        )
        assert "notification attempt failed" in logged
        for secret in (wrong, BOT_TOKEN, BOT_TOKEN.split(":")[1]):
            assert secret not in shown
            assert secret not in logged
        assert mail.mails == []
