"""Structured logs: one JSON object a line, with agent and chat ids where known.

Records never carry settings or secrets; the formatter also masks anything that looks
like a key or token in the message, in case one slips into an exception text. Libraries
that write SQL parameters, request URLs, headers or message payloads into their logs are
held above the level where they do so, whatever ``LOG_LEVEL`` says; ``agenthub.*`` follows
``LOG_LEVEL`` down to DEBUG.
"""

from __future__ import annotations

import json
import logging
import re
import sys
import time

from agenthub.config import Settings

_SECRET = re.compile(r"(sk-[A-Za-z0-9_-]{8,}|\b\d{6,}:[A-Za-z0-9_-]{30,}\b|(?i:bearer)\s+[A-Za-z0-9._-]+)")
_STANDARD = set(vars(logging.makeLogRecord({})).keys()) | {"message", "asctime", "taskName"}

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
}
"""The lowest level each library logs at: below it, these write data that must stay out."""


def redact(text: str) -> str:
    return _SECRET.sub("[redacted]", text)


class JsonFormatter(logging.Formatter):
    def __init__(self, component: str) -> None:
        super().__init__()
        self._component = component

    def format(self, record: logging.LogRecord) -> str:
        payload = {
            "ts": round(time.time(), 3),
            "level": record.levelname.lower(),
            "logger": record.name,
            "component": self._component,
            "msg": redact(record.getMessage()),
        }
        for key, value in vars(record).items():
            if key not in _STANDARD and not key.startswith("_"):
                payload[key] = redact(value) if isinstance(value, str) else value
        if record.exc_info:
            payload["exc"] = redact(self.formatException(record.exc_info))
        return json.dumps(payload, default=str)


def configure_logging(settings: Settings, *, component: str) -> None:
    handler = logging.StreamHandler(sys.stderr)
    if settings.log_json:
        handler.setFormatter(JsonFormatter(component))
    else:
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(settings.log_level.upper())
    for name, floor in LIBRARY_FLOORS.items():
        logging.getLogger(name).setLevel(max(floor, root.level))
