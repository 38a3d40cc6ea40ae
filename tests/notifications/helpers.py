"""Helpers of the notification tests: an app wired to a local SMTP server and the fake Bot
API, and waiting for the delivery log to settle."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx

from tests.agents.helpers import client_for, wait_for
from tests.notifications.mailserver import MailServer, mail_server
from tests.support.fake_telegram import FakeBotApi
from tests.support.server import RunningApp

BOT_TOKEN = "123456:platform-bot-token-abcdef"
SENDER = "hub@example.com"


def channel_settings(mail: MailServer | None = None, api: FakeBotApi | None = None, **overrides: Any) -> dict[str, Any]:
    """Settings of an app that sends through ``mail`` and ``api``, retrying fast."""
    values: dict[str, Any] = {"notification_retry_base": 0.05, "notification_max_attempts": 3}
    if mail is not None:
        values.update(smtp_host=mail.host, smtp_port=mail.port, smtp_tls=False, smtp_from=SENDER)
    if api is not None:
        values.update(telegram_bot_token=BOT_TOKEN, telegram_api_base_url=api.root)
    values.update(overrides)
    return values


@asynccontextmanager
async def notifying_app(
    database_url: str, mail: MailServer | None = None, api: FakeBotApi | None = None, **overrides: Any
) -> AsyncIterator[tuple[RunningApp, httpx.AsyncClient]]:
    async with client_for(database_url, **channel_settings(mail, api, **overrides)) as (app, client):
        yield app, client


@asynccontextmanager
async def mailing_app(database_url: str, **overrides: Any) -> AsyncIterator[tuple[RunningApp, httpx.AsyncClient]]:
    """An app that sends e-mail and Telegram messages (to a local SMTP server and a fake Bot
    API of its own), as channels of those types need."""
    async with mail_server() as mail, FakeBotApi() as api:
        api.add_bot(BOT_TOKEN)
        async with notifying_app(database_url, mail, api, **overrides) as (app, client):
            yield app, client


async def add_channel(client: httpx.AsyncClient, **body: Any) -> dict[str, Any]:
    response = await client.post("/api/v1/notification-channels", json=body)
    assert response.status_code == 201, response.text
    return dict(response.json())


async def settled(client: httpx.AsyncClient, count: int, *, timeout: float = 15.0) -> list[dict[str, Any]]:
    """The delivery log once it holds ``count`` rows and none is pending (newest first)."""

    async def probe() -> list[dict[str, Any]] | None:
        rows = (await client.get("/api/v1/notifications/deliveries")).json()
        done = len(rows) == count and all(row["status"] != "pending" for row in rows)
        return rows if done else None

    rows = await wait_for(probe, timeout=timeout)
    assert rows is not None, (await client.get("/api/v1/notifications/deliveries")).json()
    return list(rows)
