"""``telegram.send_message``: a message from a Telegram bot whose token is a credential of
the organisation, with python-telegram-bot's ``Bot`` on the Bot API at
``TELEGRAM_API_BASE_URL`` (Telegram's own when unset). Result: ``{"message_id", "chat_id"}``."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field
from telegram import Bot
from telegram.error import InvalidToken, RetryAfter, TelegramError, TimedOut
from telegram.request import HTTPXRequest

from agenthub.scenarios.actions.base import ActionCall, ActionDeps
from agenthub.scenarios.actions.integrations import IntegrationFailed
from agenthub.scenarios.actions.integrations._common import credential, scrub

NAME = "telegram.send_message"
DESCRIPTION = "Send a text message from a Telegram bot (its token: a credential of the organisation) to a chat."
TELEGRAM_API = "https://api.telegram.org"
TIMEOUT = 20.0


class Config(BaseModel):
    model_config = ConfigDict(extra="forbid")

    credential_id: str = Field(min_length=1, max_length=64, description="The credential holding the bot's token")
    chat_id: int | str = Field(description="The chat (a number, or `@channelname`)")
    text: str = Field(min_length=1, max_length=4096, description="The message (with substitution)")
    parse_mode: Literal["HTML", "MarkdownV2"] | None = Field(default=None, description="How the text is formatted")


def _chat(chat_id: int | str) -> int | str:
    text = str(chat_id).strip()
    return int(text) if text.lstrip("-").isdigit() else text


async def run(config: Config, call: ActionCall, deps: ActionDeps) -> dict[str, Any]:
    token = await credential(call, deps, config.credential_id)
    root = (deps.settings.telegram_api_base_url or TELEGRAM_API).rstrip("/")
    request = HTTPXRequest(
        connection_pool_size=1, read_timeout=TIMEOUT, write_timeout=TIMEOUT, connect_timeout=TIMEOUT,
        pool_timeout=TIMEOUT,
    )
    bot = Bot(token, base_url=f"{root}/bot", request=request, get_updates_request=request)
    await request.initialize()
    try:
        sent = await bot.send_message(chat_id=_chat(config.chat_id), text=config.text, parse_mode=config.parse_mode)
    except InvalidToken:
        raise IntegrationFailed("the Bot API refused the bot's token (the credential)") from None
    except RetryAfter as error:
        raise IntegrationFailed(f"Telegram asked to wait (flood control): {error.retry_after}") from None
    except TimedOut:
        raise IntegrationFailed("timeout: the Bot API did not answer in time") from None
    except TelegramError as error:
        raise IntegrationFailed(f"Telegram refused the message: {scrub(error.message, [token])}") from None
    finally:
        await request.shutdown()
    return {"message_id": sent.message_id, "chat_id": sent.chat.id}
