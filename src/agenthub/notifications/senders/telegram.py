"""Telegram through the platform's bot (``TELEGRAM_BOT_TOKEN``), with python-telegram-bot's
``Bot`` on the Bot API at ``TELEGRAM_API_BASE_URL`` (Telegram's own when unset). The text is
sent as it is (no parse mode: nothing in it is taken for formatting), the subject on the first
line, split at Telegram's 4096 characters where a line ends if one does.

The bot is never asked ``getMe`` (python-telegram-bot's ``initialize``): its error for a
refused token quotes the token. Every error text is scrubbed of the token all the same."""

from __future__ import annotations

from telegram import Bot
from telegram.error import (
    BadRequest,
    ChatMigrated,
    Forbidden,
    InvalidToken,
    NetworkError,
    RetryAfter,
    TelegramError,
    TimedOut,
)
from telegram.request import HTTPXRequest

from agenthub.config import Settings
from agenthub.notifications.senders import Sender, SendFailed, Target, scrub

MESSAGE_LIMIT = 4096
"""Telegram's longest message text, in characters (UTF-16 code units, to be exact)."""
TIMEOUT = 20.0


def split_text(text: str, limit: int = MESSAGE_LIMIT) -> list[str]:
    """``text`` in parts of at most ``limit`` UTF-16 code units (as Telegram counts), cut
    after a line break where there is one in the second half of a part; nothing is lost."""
    parts: list[str] = []
    while _units(text) > limit:
        cut = _fit(text, limit)
        newline = text.rfind("\n", 0, cut)
        if newline >= cut // 2:
            cut = newline + 1
        parts.append(text[:cut])
        text = text[cut:]
    if text or not parts:
        parts.append(text)
    return parts


def _units(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def _fit(text: str, limit: int) -> int:
    """How many characters of ``text`` fit in ``limit`` UTF-16 code units."""
    units = 0
    for index, character in enumerate(text):
        units += 2 if ord(character) > 0xFFFF else 1
        if units > limit:
            return index
    return len(text)


def _chat(chat_id: str) -> int | str:
    return int(chat_id) if chat_id.lstrip("-").isdigit() else chat_id


class TelegramSender(Sender):
    channel_type = "telegram"

    def __init__(self, *, token: str, api_root: str | None = None, timeout: float = TIMEOUT) -> None:
        self._token = token
        self._request = HTTPXRequest(
            connection_pool_size=8, read_timeout=timeout, write_timeout=timeout, connect_timeout=timeout,
            pool_timeout=timeout,
        )
        if api_root:
            self._bot = Bot(
                token, base_url=api_root.rstrip("/") + "/bot", request=self._request, get_updates_request=self._request
            )
        else:
            self._bot = Bot(token, request=self._request, get_updates_request=self._request)
        self._ready = False

    @classmethod
    def from_settings(cls, settings: Settings) -> TelegramSender:
        assert settings.telegram_bot_token is not None
        return cls(token=settings.telegram_bot_token.get_secret_value(), api_root=settings.telegram_api_base_url)

    async def send(self, target: Target, *, subject: str, body: str) -> None:
        if not target.chat_id:
            raise SendFailed("the channel has no Telegram chat_id", permanent=True)
        if not self._ready:
            await self._request.initialize()
            self._ready = True
        text = f"{subject}\n\n{body}" if subject.strip() else body
        try:
            for part in split_text(text):
                await self._bot.send_message(chat_id=_chat(target.chat_id), text=part)
        except TelegramError as error:
            raise self._failed(error) from None

    def _failed(self, error: TelegramError) -> SendFailed:
        said = scrub(error.message, [self._token])
        if isinstance(error, RetryAfter):
            wait = error.retry_after
            seconds = wait if isinstance(wait, int) else wait.total_seconds()
            return SendFailed(f"Telegram asked to wait {seconds:g} s (flood control)", retry_after=float(seconds))
        if isinstance(error, InvalidToken):
            return SendFailed(f"the Bot API refused the bot's token (TELEGRAM_BOT_TOKEN): {said}", permanent=True)
        if isinstance(error, ChatMigrated):
            return SendFailed(
                f"the chat became a supergroup: set the channel's chat_id to {error.new_chat_id}", permanent=True
            )
        if isinstance(error, (Forbidden, BadRequest)):
            return SendFailed(f"Telegram refused the message: {said}", permanent=True)
        if isinstance(error, TimedOut):
            return SendFailed("the Bot API did not answer in time")
        if isinstance(error, NetworkError):
            return SendFailed(f"cannot reach the Bot API: {said}")
        return SendFailed(f"Telegram failed: {said}")

    async def close(self) -> None:
        if self._ready:
            await self._request.shutdown()
            self._ready = False
