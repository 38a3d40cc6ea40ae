"""E-mail through an SMTP server (aiosmtplib): ``SMTP_HOST``, ``SMTP_PORT``, ``SMTP_USER``,
``SMTP_PASSWORD``, ``SMTP_FROM``; ``SMTP_TLS`` is STARTTLS (TLS from the start on port 465),
``SMTP_TLS=false`` plain SMTP. One connection per message: notifications are few, and a
connection kept open would only be closed by the server between them."""

from __future__ import annotations

import socket
from email.message import EmailMessage
from email.utils import formatdate, make_msgid

import aiosmtplib

from agenthub.config import Settings
from agenthub.notifications.senders import Sender, SendFailed, Target, scrub

IMPLICIT_TLS_PORT = 465
DEFAULT_SUBJECT = "Notification from AgentHub"
TIMEOUT = 30.0
"""Seconds one SMTP exchange may take (the dispatcher's lease is far longer)."""


def _header(text: str) -> str:
    """``text`` on one line: a header can't hold a line break (nor be made to add headers)."""
    return " ".join(text.split())


class EmailSender(Sender):
    channel_type = "email"

    def __init__(
        self, *, host: str, port: int, sender: str, user: str | None = None, password: str | None = None,
        tls: bool = True, timeout: float = TIMEOUT,
    ) -> None:
        self._host = host
        self._port = port
        self._sender = sender
        self._user = user or None
        self._password = password or None
        self._tls = tls
        self._timeout = timeout

    @classmethod
    def from_settings(cls, settings: Settings) -> EmailSender:
        assert settings.smtp_host
        sender = settings.smtp_from or (
            settings.smtp_user if settings.smtp_user and "@" in settings.smtp_user else f"agenthub@{socket.getfqdn()}"
        )
        return cls(
            host=settings.smtp_host, port=settings.smtp_port, sender=sender, user=settings.smtp_user,
            password=settings.smtp_password.get_secret_value() if settings.smtp_password else None,
            tls=settings.smtp_tls,
        )

    def message(self, address: str, *, subject: str, body: str) -> EmailMessage:
        message = EmailMessage()
        message["From"] = self._sender
        message["To"] = address
        message["Subject"] = _header(subject) or DEFAULT_SUBJECT
        message["Date"] = formatdate(localtime=False)
        message["Message-ID"] = make_msgid(domain=self._sender.rpartition("@")[2] or None)
        message.set_content(body)
        return message

    async def send(self, target: Target, *, subject: str, body: str) -> None:
        if not target.address:
            raise SendFailed("the channel has no e-mail address", permanent=True)
        message = self.message(target.address, subject=subject, body=body)
        implicit = self._tls and self._port == IMPLICIT_TLS_PORT
        try:
            await aiosmtplib.send(
                message, hostname=self._host, port=self._port, username=self._user, password=self._password,
                use_tls=implicit, start_tls=self._tls and not implicit, timeout=self._timeout,
            )
        except aiosmtplib.SMTPRecipientsRefused as refused:
            first = refused.recipients[0]
            raise self._failed(f"the SMTP server refused the address: {first.code} {first.message}",
                               code=first.code) from None
        except aiosmtplib.SMTPAuthenticationError as error:
            raise self._failed(f"the SMTP server refused SMTP_USER/SMTP_PASSWORD: {error.code} {error.message}",
                               code=error.code, permanent=True) from None
        except aiosmtplib.SMTPResponseException as error:
            raise self._failed(f"the SMTP server refused the message: {error.code} {error.message}",
                               code=error.code) from None
        except aiosmtplib.SMTPTimeoutError:
            raise self._failed(f"the SMTP server at {self._where} did not answer in time") from None
        except (aiosmtplib.SMTPException, OSError) as error:
            raise self._failed(f"cannot reach the SMTP server at {self._where}: {error}") from None

    @property
    def _where(self) -> str:
        return f"{self._host}:{self._port}"

    def _failed(self, message: str, *, code: int | None = None, permanent: bool | None = None) -> SendFailed:
        """A reply of 5xx is permanent (4xx and connection failures are tried again)."""
        if permanent is None:
            permanent = code is not None and 500 <= code < 600
        return SendFailed(scrub(message, [self._password]), permanent=permanent)
