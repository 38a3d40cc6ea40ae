"""Logs: human-readable lines on a terminal, one JSON object a line otherwise (or as
``LOG_JSON`` says), with agent and chat ids where known.

Records never carry settings or secrets; the formatter also masks anything that looks
like a key or token in the message, in case one slips into an exception text, and the
configured secret values themselves (see :class:`Redactor`) wherever they appear. Libraries
that write SQL parameters, request URLs, headers or message payloads into their logs are
held above the level where they do so, whatever ``LOG_LEVEL`` says; ``agenthub.*`` follows
``LOG_LEVEL`` down to DEBUG.
"""

from __future__ import annotations

import base64
import json
import logging
import re
import sys
import time
from collections.abc import Iterable
from typing import Any
from urllib.parse import unquote, urlsplit

from agenthub.config import Settings

_SECRET = re.compile(
    r"(sk-[A-Za-z0-9_-]{8,}|\b\d{6,}:[A-Za-z0-9_-]{30,}\b|(?i:bearer)\s+[A-Za-z0-9._-]+"
    # The WebSocket's ?token= (uvicorn logs the path of every WebSocket it accepts), a JWT
    # (an access token) and an AgentHub API key, wherever they show.
    r"|(?<=[?&]token=)[^&\s\"'#]+|\beyJ[A-Za-z0-9_-]+\.eyJ[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+|\bahk_[A-Za-z0-9_-]{8,})"
)
_STANDARD = set(vars(logging.makeLogRecord({})).keys()) | {"message", "asctime", "taskName"}
_DROPPED = frozenset({"color_message"})
"""Extras left out: uvicorn's copy of its message with terminal colour codes."""
REDACTED = "[redacted]"
MIN_SECRET_LENGTH = 5
"""Shorter values are not masked on their own: they would mask ordinary words."""

LIBRARY_FLOORS: dict[str, int] = {
    # DEBUG: every statement with its parameters (integration secrets, chat text).
    "aiosqlite": logging.INFO,
    # INFO: statements with their parameters; DEBUG: result rows too.
    "sqlalchemy.engine": logging.WARNING,
    # Logs no statements today; held in case a release starts to.
    "asyncpg": logging.INFO,
    # INFO: every request URL (Bot API URLs carry the token); httpx2 is the openai client's.
    "httpx": logging.WARNING,
    "httpx2": logging.WARNING,
    # DEBUG: every response's headers (cookies).
    "httpcore": logging.WARNING,
    "httpcore2": logging.WARNING,
    # DEBUG: request options in some releases (the messages sent to the model).
    "openai": logging.WARNING,
    # The lean model transport's client (llm/streaming.py): DEBUG/INFO name request URLs
    # (a base_url may carry credentials) and the access log of its server side.
    "aiohttp": logging.WARNING,
    # DEBUG: every header encoded or decoded over HTTP/2, Authorization included.
    "hpack": logging.INFO,
    "h2": logging.INFO,
    # DEBUG: request URLs with their query strings.
    "urllib3": logging.INFO,
    # DEBUG: every WebSocket frame with its text, and the handshake headers.
    "websockets": logging.INFO,
    # DEBUG: uvicorn's WebSocket protocol logs every frame here (chat messages and answers).
    "uvicorn.error": logging.INFO,
    # INFO: one line per request, query strings included.
    "uvicorn.access": logging.WARNING,
    # INFO: "Context impl SQLiteImpl.", "Will assume non-transactional DDL." on every start.
    "alembic": logging.WARNING,
    # DEBUG (python-telegram-bot): the Bot API URL, which holds the bot's token, and every
    # call's parameters (the messages' text).
    "telegram": logging.INFO,
}
"""The lowest level each library logs at: below it, these write data that must stay out
(or, for alembic, noise)."""


def redact(text: str) -> str:
    """``text`` with what looks like a key or token masked (no configured values)."""
    return _SECRET.sub(REDACTED, text)


class Redactor:
    """Masks secrets in log text: what looks like a key or token, and every value it was
    told about, however it is formatted: the value itself, URL-encoded or not, and, for a
    URL's credentials, their HTTP Basic form (base64 of ``user:password``), as a provider's
    or proxy's error may echo it."""

    def __init__(self, values: Iterable[str | None] = ()) -> None:
        self._values: set[str] = set()
        self._pattern: re.Pattern[str] | None = None
        self.add(*values)

    def add(self, *values: str | None) -> None:
        fresh = {v for v in values if v and len(v) >= MIN_SECRET_LENGTH} - self._values
        if fresh:
            self._values |= fresh
            alternatives = sorted(self._values, key=len, reverse=True)
            self._pattern = re.compile("|".join(re.escape(v) for v in alternatives))

    def add_url(self, url: str | None) -> None:
        """The password of ``url`` (plain and URL-encoded) and its HTTP Basic credentials."""
        if not url or "@" not in url:
            return
        try:
            parts = urlsplit(url)
        except ValueError:
            return
        userinfo = parts.netloc.rpartition("@")[0]
        user, colon, password = userinfo.partition(":")
        if not colon or not password:
            return
        plain = f"{unquote(user)}:{unquote(password)}"
        self.add(password, unquote(password), base64.b64encode(plain.encode()).decode())

    def add_settings(self, settings: Settings) -> None:
        """The platform's own secrets: provider keys, tokens, passwords, database and Redis
        credentials."""
        for secret in (
            settings.openai_api_key, settings.openrouter_api_key, settings.smtp_password,
            settings.telegram_bot_token, settings.secret_box_key,
        ):
            if secret is not None:
                self.add(secret.get_secret_value())
        self.add_url(settings.database_url)
        self.add_url(settings.redis_url)

    def __call__(self, text: str) -> str:
        if self._pattern is not None:
            text = self._pattern.sub(REDACTED, text)
        return _SECRET.sub(REDACTED, text)


def _extras(record: logging.LogRecord) -> dict[str, Any]:
    return {
        k: v for k, v in vars(record).items() if k not in _STANDARD and k not in _DROPPED and not k.startswith("_")
    }


class JsonFormatter(logging.Formatter):
    def __init__(self, component: str, redactor: Redactor | None = None) -> None:
        super().__init__()
        self._component = component
        self.redactor = redactor or Redactor()

    def format(self, record: logging.LogRecord) -> str:
        redacted = self.redactor
        payload = {
            "ts": round(time.time(), 3),
            "level": record.levelname.lower(),
            "logger": record.name,
            "component": self._component,
            "msg": redacted(record.getMessage()),
        }
        for key, value in _extras(record).items():
            payload[key] = redacted(value) if isinstance(value, str) else _redacted_value(value, redacted)
        if record.exc_info:
            payload["exc"] = redacted(self.formatException(record.exc_info))
        return json.dumps(payload, default=str)


def _redacted_value(value: Any, redacted: Redactor) -> Any:
    """A non-string extra as is, or as masked text when its JSON form shows a secret."""
    shown = json.dumps(value, default=str)
    masked = redacted(shown)
    return value if masked == shown else masked


class HumanFormatter(logging.Formatter):
    """``12:00:01 WARNING agenthub.runtime.turns: turn failed  agent_id=helper``: for a
    person at a terminal; masked like the JSON lines."""

    def __init__(self, redactor: Redactor | None = None) -> None:
        super().__init__("%(asctime)s %(levelname)-7s %(name)s: %(message)s", datefmt="%H:%M:%S")
        self.redactor = redactor or Redactor()

    def format(self, record: logging.LogRecord) -> str:
        line = super().format(record)
        extras = "  ".join(f"{key}={value}" for key, value in _extras(record).items())
        return self.redactor(f"{line}  {extras}" if extras else line)


def wants_json(settings: Settings, stream: Any) -> bool:
    """``LOG_JSON``: true or false as set; ``auto`` (the default): JSON unless the logs go
    to a terminal."""
    if settings.log_json == "auto":
        isatty = getattr(stream, "isatty", None)
        return not (isatty is not None and isatty())
    return bool(settings.log_json)


def remember_secrets(*values: str | None, urls: Iterable[str | None] = ()) -> None:
    """Mask these values too (an agent's integration secrets, its ``base_url``
    credentials) in whatever this process logs from now on, through the redactors of the
    handlers :func:`configure_logging` installed."""
    for handler in logging.getLogger().handlers:
        redactor = getattr(handler.formatter, "redactor", None)
        if isinstance(redactor, Redactor):
            redactor.add(*values)
            for url in urls:
                redactor.add_url(url)


class RefusedWebSocketFilter(logging.Filter):
    """uvicorn logs a WebSocket refused with an HTTP answer (a page of another site, see
    :mod:`agenthub.channels.origins`) as the error "ASGI callable returned without completing
    handshake": the refusal was meant, and is logged as such where it is made. AgentHub's
    endpoints accept or refuse every WebSocket, so the line says nothing else here."""

    UVICORN_LINE = "ASGI callable returned without completing handshake."

    def filter(self, record: logging.LogRecord) -> bool:
        return record.getMessage() != self.UVICORN_LINE


def configure_logging(settings: Settings, *, component: str) -> Redactor:
    """Log to standard error as ``LOG_JSON`` and ``LOG_LEVEL`` say; returns the redactor,
    which masks the configured secrets."""
    redactor = Redactor()
    redactor.add_settings(settings)
    handler = logging.StreamHandler(sys.stderr)
    if wants_json(settings, sys.stderr):
        handler.setFormatter(JsonFormatter(component, redactor))
    else:
        handler.setFormatter(HumanFormatter(redactor))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(settings.log_level.upper())
    for name, floor in LIBRARY_FLOORS.items():
        logging.getLogger(name).setLevel(max(floor, root.level))
    uvicorn_errors = logging.getLogger("uvicorn.error")
    if not any(isinstance(f, RefusedWebSocketFilter) for f in uvicorn_errors.filters):
        uvicorn_errors.addFilter(RefusedWebSocketFilter())
    return redactor
