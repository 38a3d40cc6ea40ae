"""One agent's Telegram bot while it runs: the integrations' lifecycle (``setup``, ``run``,
``cleanup``) around python-telegram-bot's :class:`~telegram.Bot`.

- ``polling``: ``setup`` removes any webhook (Telegram refuses ``getUpdates`` while one is
  set) and ``run`` long-polls ``getUpdates``, handing each update to the
  :class:`~.handler.UpdateHandler`; ``cleanup`` confirms the updates it took, so a restart
  does not see them again.
- ``webhook``: ``setup`` registers ``PUBLIC_URL`` + the webhook route with its
  ``secret_token``; ``run`` reads the bus stream :func:`~agenthub.bus.keys.telegram_updates`
  where the route (:mod:`.webhook`, on whichever replica Telegram reached) puts them, in
  one consumer group: each update is answered once, here.
  ``cleanup`` removes the webhook when the integration is stopped on purpose (not at a
  server's shutdown: Telegram keeps posting, and retries, until a server answers again).

Supervision (restarts with backoff) is :mod:`.service`'s."""

from __future__ import annotations

import asyncio
import contextlib
import logging

from telegram import Bot, Update
from telegram.error import TelegramError
from telegram.request import HTTPXRequest

from agenthub.agents.schemas import TelegramIntegrationSettings
from agenthub.bus import Bus, keys
from agenthub.channels.gateway import Gateway
from agenthub.channels.telegram.config import api_base_url, api_file_url, webhook_secret, webhook_url
from agenthub.channels.telegram.files import TelegramFiles
from agenthub.channels.telegram.handler import UpdateHandler
from agenthub.config import ConfigurationError, Settings
from agenthub.db.engine import SessionFactory
from agenthub.runtime.host import READ_BLOCK_MS
from agenthub.runtime.tasks import stop_tasks

log = logging.getLogger(__name__)

POLL_TIMEOUT = 25
"""Seconds one ``getUpdates`` waits for an update (long polling)."""
ALLOWED_UPDATES = ["message", "callback_query"]


def make_bot(token: str, settings: Settings) -> Bot:
    """A Bot API client for ``token`` on ``TELEGRAM_API_BASE_URL`` (Telegram's own unless set)."""
    return Bot(
        token, base_url=api_base_url(settings), base_file_url=api_file_url(settings),
        request=HTTPXRequest(connection_pool_size=16),
        get_updates_request=HTTPXRequest(connection_pool_size=1),
    )


class TelegramIntegration:
    name = "telegram"

    def __init__(
        self, *, agent_id: str, handle: str, token: str, integration: TelegramIntegrationSettings,
        settings: Settings, gateway: Gateway, sessions: SessionFactory, bus: Bus,
    ) -> None:
        self.agent_id = agent_id
        self._bus = bus
        self.mode = integration.mode
        self.secret = webhook_secret(integration, token=token, agent_id=agent_id)
        self.bot = make_bot(token, settings)
        self.handler = UpdateHandler(
            bot=self.bot, agent_id=agent_id, handle=handle, gateway=gateway, sessions=sessions,
            files=TelegramFiles.from_settings(settings, sessions=sessions),
        )
        self._url = webhook_url(settings, agent_id)
        self._offset: int | None = None
        self.username: str | None = None

    async def setup(self) -> None:
        """Reach Telegram (``getMe``: an invalid token fails here) and set the mode up."""
        await self.bot.initialize()
        self.username = self.bot.username
        if self.mode == "webhook":
            if self._url is None:
                raise ConfigurationError("webhook mode needs PUBLIC_URL: where Telegram can reach this AgentHub")
            await self._bus.ensure_group(keys.telegram_updates(self.agent_id), keys.TELEGRAM_UPDATES_GROUP)
            await self.bot.set_webhook(self._url, secret_token=self.secret, allowed_updates=ALLOWED_UPDATES)
        else:
            await self.bot.delete_webhook()

    async def run(self) -> None:
        """Poll for updates until cancelled (``polling``), or just wait (``webhook``).
        Raises what Telegram answered when it fails."""
        pushed = asyncio.create_task(self.handler.relay_pushed(), name=f"telegram-pushed-{self.agent_id}")
        try:
            if self.mode == "webhook":
                await self._read_posted()
            while True:
                updates = await self.bot.get_updates(
                    offset=self._offset, timeout=POLL_TIMEOUT, allowed_updates=ALLOWED_UPDATES
                )
                for update in updates:
                    self._offset = update.update_id + 1
                    self.handler.submit(update)
        finally:
            await stop_tasks([pushed])

    async def _read_posted(self) -> None:
        """Hand over, until cancelled, the updates the webhook route put on the bus. Each is
        acknowledged as it is taken: answered once, even if this bot is stopped meanwhile."""
        stream = keys.telegram_updates(self.agent_id)
        while True:
            entries = await self._bus.read(
                {stream: ">"}, keys.TELEGRAM_UPDATES_GROUP, "bot", count=50, block_ms=READ_BLOCK_MS
            )
            for entry in entries:
                await self._bus.ack(stream, keys.TELEGRAM_UPDATES_GROUP, entry.id)
                try:
                    update = Update.de_json(dict(entry.payload.get("update") or {}), self.bot)
                except (ValueError, TypeError, KeyError, AttributeError):
                    log.warning("not a Telegram update on the bus", extra={"agent_id": self.agent_id})
                    continue
                if update is not None:
                    self.handler.submit(update)

    async def cleanup(self, *, stopped: bool = False) -> None:
        """Let go of the bot: the updates being answered are cancelled; with ``stopped`` (a
        stop asked for), the webhook is removed."""
        await self.handler.close()
        with contextlib.suppress(TelegramError, OSError):
            if self.mode == "polling" and self._offset is not None:
                await self.bot.get_updates(offset=self._offset, timeout=0)
            elif self.mode == "webhook" and stopped:
                await self.bot.delete_webhook()
        with contextlib.suppress(TelegramError, OSError, RuntimeError):
            await self.bot.shutdown()
