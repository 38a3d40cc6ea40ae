"""``email.send``: an e-mail through the SMTP server of the settings (``SMTP_HOST``,
``SMTP_PORT``, ``SMTP_USER``, ``SMTP_PASSWORD``, ``SMTP_FROM``, ``SMTP_TLS``) with aiosmtplib.
Result: ``{"sent": true, "to": [...]}``."""

from __future__ import annotations

import socket
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from typing import Annotated, Any

import aiosmtplib
from pydantic import BaseModel, ConfigDict, Field

from agenthub.scenarios.actions.base import ActionCall, ActionDeps
from agenthub.scenarios.actions.integrations import IntegrationFailed
from agenthub.scenarios.actions.integrations._common import scrub

NAME = "email.send"
DESCRIPTION = "Send an e-mail through the platform's SMTP server (the SMTP_* settings)."
IMPLICIT_TLS_PORT = 465
TIMEOUT = 30.0
ADDRESS = r"^\s*[^@\s<>,;]+@[^@\s<>,;]+\s*$"


class Config(BaseModel):
    model_config = ConfigDict(extra="forbid")

    to: list[Annotated[str, Field(pattern=ADDRESS, max_length=320)]] = Field(
        min_length=1, max_length=50, description="Recipients' addresses"
    )
    subject: str = Field(default="", max_length=998)
    body: str = Field(default="", max_length=1_000_000, description="The plain text of the mail")
    reply_to: str | None = Field(default=None, pattern=ADDRESS)


def _line(text: str) -> str:
    """One line: a header can't hold a line break (nor be made to add headers)."""
    return " ".join(text.split())


async def run(config: Config, call: ActionCall, deps: ActionDeps) -> dict[str, Any]:
    settings = deps.settings
    if not settings.smtp_host:
        raise IntegrationFailed("e-mail can't be sent: SMTP_HOST is not set")
    password = settings.smtp_password.get_secret_value() if settings.smtp_password else None
    sender = settings.smtp_from or (
        settings.smtp_user if settings.smtp_user and "@" in settings.smtp_user else f"agenthub@{socket.getfqdn()}"
    )
    to = [address.strip() for address in config.to]
    message = EmailMessage()
    message["From"] = sender
    message["To"] = ", ".join(to)
    message["Subject"] = _line(config.subject)
    message["Date"] = formatdate(localtime=False)
    message["Message-ID"] = make_msgid(domain=sender.rpartition("@")[2] or None)
    if config.reply_to:
        message["Reply-To"] = config.reply_to
    message.set_content(config.body)
    implicit = settings.smtp_tls and settings.smtp_port == IMPLICIT_TLS_PORT
    try:
        await aiosmtplib.send(
            message, hostname=settings.smtp_host, port=settings.smtp_port, username=settings.smtp_user or None,
            password=password or None, use_tls=implicit, start_tls=settings.smtp_tls and not implicit,
            timeout=TIMEOUT,
        )
    except aiosmtplib.SMTPTimeoutError:
        raise IntegrationFailed("timeout: the SMTP server did not answer in time") from None
    except aiosmtplib.SMTPResponseException as error:
        said = scrub(str(error.message), [password])
        raise IntegrationFailed(f"the SMTP server refused the mail: {error.code} {said}") from None
    except aiosmtplib.SMTPException as error:
        raise IntegrationFailed(f"the SMTP server can't be reached: {scrub(str(error), [password])}") from None
    except OSError as error:
        raise IntegrationFailed(f"the SMTP server can't be reached: {error.strerror or error}") from None
    return {"sent": True, "to": to}
