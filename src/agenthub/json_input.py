"""JSON from clients, read strictly, so what is accepted can also be stored and sent on.

``json.loads`` takes things nothing after it can handle: a lone surrogate escape
(``"\\ud800"``) is not Unicode that the database, the bus or a reply can encode, text with
a NUL character cannot be stored on PostgreSQL, and a body nested a few hundred levels deep
outruns every serialiser. Such a body is refused where it comes in, saying why (400 for
text that is not valid JSON, 422 for valid JSON holding such a value), instead of failing
later as a 500 (or failing the other messages written with it).

Every JSON route reads its body through :class:`StrictJSONRoute`; the WebSocket reads its
frames with :func:`parse_json`.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Coroutine
from typing import Any

import orjson
from fastapi import HTTPException, Request, Response
from fastapi.routing import APIRoute

from agenthub.errors import AgentHubError

MAX_DEPTH = 32
"""Levels of nesting a body may have (``{"a": {"b": 1}}`` has two)."""
MAX_BODY_BYTES = 1024 * 1024
"""The largest request body read; the longest valid one (a system prompt of 100,000
characters) is well below."""


class InvalidJSON(json.JSONDecodeError, AgentHubError):
    """Raised for JSON that parses but cannot be accepted (too deep, a NUL character). A
    ``JSONDecodeError``, so a caller that only knows ``json.loads`` handles it too."""

    status_code = 422
    code = "invalid_input"

    def __init__(self, field: str, problem: str, doc: str | bytes) -> None:
        text = doc if isinstance(doc, str) else doc.decode("utf-8", "replace")
        json.JSONDecodeError.__init__(self, f"{field}: {problem}", text, 0)
        self.message = f"{field}: {problem}"
        self.field = field
        self.problem = problem


class BodyRefused(HTTPException, AgentHubError):
    """A request body refused while it is read (too large, of another media type, holding
    a value that can't be taken). An ``HTTPException`` as well: FastAPI lets no other
    exception through its reading of a body."""

    def __init__(self, status_code: int, message: str, *, code: str) -> None:
        HTTPException.__init__(self, status_code=status_code, detail=message)
        self.message = message
        self.code = code


class InvalidBody(BodyRefused):
    """A request body of valid JSON holding a value that can't be taken: 422, with where."""

    def __init__(self, field: str, problem: str) -> None:
        super().__init__(422, f"{field}: {problem}", code="invalid_input")
        self.field = field
        self.problem = problem


def parse_json(raw: str | bytes) -> Any:
    """The value of ``raw``; raises ``json.JSONDecodeError`` (with a message saying why)
    for text that is not JSON, holds a lone surrogate or a NUL character, or nests deeper
    than :data:`MAX_DEPTH`."""
    value = orjson.loads(raw)
    found = problem_in(value)
    if found:
        raise InvalidJSON(*found, raw)
    return value


def not_json(error: json.JSONDecodeError, what: str) -> str:
    """What a client is told of text that is not JSON (``what``: the body, the frame), in
    plain words: not valid UTF-8 (the reader gives no position worth showing), empty, or not
    valid JSON with the reader's reason where it is one a person can follow (``trailing
    comma is not allowed``; not ``invalid literal, expected 'null'`` for a word) and where
    the text stops being JSON."""
    reason = error.msg
    if "UTF-8" in reason:
        return f"the {what} is not valid UTF-8"
    if "empty" in reason:
        return f"the {what} is empty"
    said = "" if reason.startswith("invalid literal") else f": {reason}"
    return f"the {what} is not valid JSON{said} (at line {error.lineno}, column {error.colno})"


def problem_in(value: Any) -> tuple[str, str] | None:
    """Where (``settings.integrations.0``) and what makes ``value`` (JSON already parsed, as
    an MCP tool's arguments) unacceptable; None when nothing does. Walks without recursion,
    so a deep value can't exhaust the stack."""
    pending: list[tuple[Any, tuple[str, ...]]] = [(value, ())]
    while pending:
        item, path = pending.pop()
        if isinstance(item, str):
            if "\x00" in item:
                return _where(path), "text holds a NUL character (\\u0000), which cannot be stored"
            continue
        if isinstance(item, dict):
            children: Any = [(key, path) for key in item] + [
                (child, (*path, str(key))) for key, child in item.items()
            ]
        elif isinstance(item, list):
            children = [(child, (*path, str(index))) for index, child in enumerate(item)]
        else:
            continue
        if len(path) >= MAX_DEPTH:
            return _where(path[:3]), f"nested deeper than {MAX_DEPTH} levels"
        pending.extend(children)
    return None


def _where(path: tuple[str, ...]) -> str:
    where = ".".join(path) or "body"
    return where if len(where) <= 120 else where[:119] + "…"


class StrictJSONRequest(Request):
    async def body(self) -> bytes:
        if not hasattr(self, "_body"):
            declared = self.headers.get("content-length", "")
            if declared.isdigit() and int(declared) > MAX_BODY_BYTES:
                raise _too_large()
            chunks: list[bytes] = []
            size = 0
            async for chunk in self.stream():
                size += len(chunk)
                if size > MAX_BODY_BYTES:
                    raise _too_large()
                chunks.append(chunk)
            self._body = b"".join(chunks)
        return self._body

    async def json(self) -> Any:
        if not hasattr(self, "_json"):
            try:
                self._json = parse_json(await self.body())
            except InvalidJSON as error:  # JSON, but a value that can't be taken: 422
                raise InvalidBody(error.field, error.problem) from error
        return self._json


def _too_large() -> BodyRefused:
    return BodyRefused(413, f"the body is larger than {MAX_BODY_BYTES} bytes", code="too_large")


def _is_json(content_type: str | None) -> bool:
    """``application/json`` or a ``+json`` type. FastAPI reads no other body as JSON, not
    even one without a content type."""
    if not content_type:
        return False
    media = content_type.split(";", 1)[0].strip().lower()
    return media == "application/json" or (media.startswith("application/") and media.endswith("+json"))


class StrictJSONRoute(APIRoute):
    """A route whose JSON body is read by :class:`StrictJSONRequest`, and which answers a
    body of another media type or none (a form, say, what ``curl -d`` sends unless told)
    with 415 that says what to send."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()
        takes_body = self.body_field is not None

        async def strict_handler(request: Request) -> Response:
            strict = StrictJSONRequest(request.scope, request.receive)
            encoding = strict.headers.get("content-encoding", "identity").strip().lower()
            if takes_body and encoding != "identity":  # it would be read as if it were not encoded
                detail = f"bodies sent with Content-Encoding {encoding} are not read"
                raise BodyRefused(415, detail, code="unsupported_media_type")
            if takes_body and not _is_json(strict.headers.get("content-type")) and await strict.body():
                raise BodyRefused(
                    415, "send the body as JSON, with Content-Type: application/json", code="unsupported_media_type"
                )
            return await handler(strict)

        return strict_handler
