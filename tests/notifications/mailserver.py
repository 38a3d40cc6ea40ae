"""A real SMTP server on 127.0.0.1 for tests (aiosmtpd's Controller, in a thread of its own):
it keeps every message it accepted, can refuse messages first (a reply of the test's choosing)
and can ask for a password. A test awaits the mail it expects; nothing sleeps."""

from __future__ import annotations

import asyncio
import email
import email.policy
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from email.message import EmailMessage
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

from tests.support.server import free_port


@dataclass
class Mail:
    sender: str
    recipients: list[str]
    message: EmailMessage

    @property
    def subject(self) -> str:
        return str(self.message["Subject"])

    @property
    def body(self) -> str:
        """The text as written (SMTP carries lines ended by CRLF)."""
        return str(self.message.get_content()).replace("\r\n", "\n").rstrip("\n")


@dataclass
class MailServer:
    host: str
    port: int
    refusals: list[str] = field(default_factory=list)
    """Replies to the next messages' DATA, one each (``"451 4.3.0 try again"``), before any is accepted."""
    refuse_always: str | None = None
    """A reply to every message's DATA: nothing is accepted."""
    refused: int = 0
    mails: list[Mail] = field(default_factory=list)
    _arrived: asyncio.Queue[Mail] = field(default_factory=asyncio.Queue)
    _loop: asyncio.AbstractEventLoop | None = None

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802 - aiosmtpd's name
        """Called in the server's thread."""
        reply = self.refuse_always or (self.refusals.pop(0) if self.refusals else None)
        if reply is not None:
            self.refused += 1
            return reply
        message = email.message_from_bytes(envelope.original_content, policy=email.policy.default)
        assert isinstance(message, EmailMessage)
        mail = Mail(envelope.mail_from, list(envelope.rcpt_tos), message)
        assert self._loop is not None
        self._loop.call_soon_threadsafe(self._accepted, mail)
        return "250 2.0.0 OK"

    def _accepted(self, mail: Mail) -> None:
        self.mails.append(mail)
        self._arrived.put_nowait(mail)

    async def next_mail(self, timeout: float = 15.0) -> Mail:
        """The next message accepted (waits for it)."""
        return await asyncio.wait_for(self._arrived.get(), timeout)


def _password_check(user: str, password: str):  # type: ignore[no-untyped-def]
    def authenticate(server: Any, session: Any, envelope: Any, mechanism: str, auth_data: Any) -> AuthResult:
        ok = isinstance(auth_data, LoginPassword) and auth_data.login.decode() == user and (
            auth_data.password.decode() == password
        )
        return AuthResult(success=ok, handled=False)

    return authenticate


@asynccontextmanager
async def mail_server(*, user: str | None = None, password: str | None = None) -> AsyncIterator[MailServer]:
    """An SMTP server without TLS (``SMTP_TLS=false``); with ``user``/``password`` it asks for them."""
    server = MailServer(host="127.0.0.1", port=free_port())
    server._loop = asyncio.get_running_loop()
    options: dict[str, Any] = {}
    if user is not None and password is not None:
        options = {"authenticator": _password_check(user, password), "auth_require_tls": False, "auth_required": True}
    controller = Controller(server, hostname=server.host, port=server.port, **options)
    await asyncio.to_thread(controller.start)
    try:
        yield server
    finally:
        await asyncio.to_thread(controller.stop)
