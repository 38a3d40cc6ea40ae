"""Senders: one per channel type, each a leaf of :class:`Sender`. The entry point builds them
from settings with :func:`build_senders` and hands them to the dispatcher; a type whose
sender is not configured (no ``SMTP_HOST``, no ``TELEGRAM_BOT_TOKEN``) has none, and its
deliveries fail with a message that says so."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterable
from dataclasses import dataclass

from agenthub.config import Settings
from agenthub.errors import AgentHubError

NOT_SET_UP = {
    "email": "e-mail is not set up on this server (SMTP_HOST is unset)",
    "telegram": "Telegram notifications are not set up on this server (TELEGRAM_BOT_TOKEN is unset)",
}
"""Why a channel type has no sender, in the words the delivery log and the API use."""


def email_set_up(settings: Settings) -> bool:
    """Whether these settings send e-mail (``SMTP_HOST`` is set)."""
    return bool(settings.smtp_host)


def telegram_set_up(settings: Settings) -> bool:
    """Whether these settings send Telegram messages (``TELEGRAM_BOT_TOKEN`` is set)."""
    return settings.telegram_bot_token is not None and bool(settings.telegram_bot_token.get_secret_value())


def types_set_up(settings: Settings) -> frozenset[str]:
    """The channel types these settings have a sender for."""
    return frozenset(t for t, ready in (("email", email_set_up(settings)), ("telegram", telegram_set_up(settings)))
                     if ready)


class SendFailed(AgentHubError):
    """An attempt failed. ``permanent``: trying again would fail the same way (an address
    refused, a bot blocked, credentials refused); else it is tried again with backoff.
    ``retry_after``: seconds the other side asked to wait. The message never holds a secret."""

    def __init__(self, message: str, *, permanent: bool = False, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.permanent = permanent
        self.retry_after = retry_after


@dataclass(frozen=True, slots=True)
class Target:
    """Where a channel points: an e-mail ``address`` or a Telegram ``chat_id``."""

    address: str | None = None
    chat_id: str | None = None


class Sender(ABC):
    channel_type: str

    @abstractmethod
    async def send(self, target: Target, *, subject: str, body: str) -> None:
        """Deliver one notification; raises :class:`SendFailed`."""

    async def close(self) -> None:
        return None


def scrub(text: str, secrets: Iterable[str | None]) -> str:
    """``text`` with every secret in it masked (errors of client libraries may quote them)."""
    for secret in secrets:
        if secret:
            text = text.replace(secret, "***")
    return text


def build_senders(settings: Settings) -> dict[str, Sender]:
    """The senders these settings configure, by channel type."""
    from agenthub.notifications.senders.email import EmailSender
    from agenthub.notifications.senders.telegram import TelegramSender

    senders: dict[str, Sender] = {}
    if email_set_up(settings):
        senders["email"] = EmailSender.from_settings(settings)
    if telegram_set_up(settings):
        senders["telegram"] = TelegramSender.from_settings(settings)
    return senders
