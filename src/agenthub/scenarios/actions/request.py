"""``response`` groups: the group's request, made through the outbound guard.

The request (``call.group.request``, a key of the document's ``requests``) gets
``{$scope.key$}`` substituted in its URL, headers, params, body and file ids, and goes out
through :func:`agenthub.outbound.http.guarded_client` as a user's configuration (not
trusted: loopback, private and metadata addresses are refused unless ``OUTBOUND_ALLOWLIST``
names them), following at most a few redirects, each checked the same way. Its body is JSON
(``body_type: json``, the default), a form (``form``: an object of fields) or multipart
(``multipart``: the object's fields and the ``files`` ``[{"field", "file_id"}]``, read from
the file store). The request's ``timeout`` bounds the whole exchange.

The result is ``{"status", "headers", "json", "text"}`` (``json`` None when the body is not
JSON; ``text`` at most :data:`MAX_TEXT` bytes of it); a failure is ``{"error": "..."}``:
the guard's ``refused: ...``, ``timeout: ...``, ``connection failed: ...``.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import logging
from typing import Any

import httpx

from agenthub.outbound.guard import OutboundRefused
from agenthub.outbound.http import guarded_client, send_following
from agenthub.scenarios.actions.base import ActionCall, ActionDeps
from agenthub.scenarios.document import RequestDoc
from agenthub.scenarios.variables import Scopes, as_text, substitute, substitute_text

log = logging.getLogger(__name__)

MAX_TEXT = 1024 * 1024
"""The most of a response's body kept (and parsed as JSON), in bytes."""


class RequestFailed(Exception):
    """What the result's ``error`` says."""


def find_request(call: ActionCall) -> RequestDoc | None:
    """The group's request: a group of a template's step names the template's (by key), any
    other the document's, else a template's of that key."""
    key = call.group.request
    for template in call.document.templates:
        if any(call.group is group for step in template.steps for group in step.connection_groups):
            return next((request for request in template.requests if request.key == key), None)
    everywhere = itertools.chain(call.document.requests, *(template.requests for template in call.document.templates))
    return next((request for request in everywhere if request.key == key), None)


def _fields(body: Any, what: str) -> dict[str, str]:
    """A form's or multipart body's fields, as text."""
    if body is None:
        return {}
    if not isinstance(body, dict):
        raise RequestFailed(f"a {what} body must be an object of fields")
    return {str(name): as_text(value) for name, value in body.items()}


def _params(params: dict[str, Any]) -> list[tuple[str, str | int | float | bool | None]]:
    pairs: list[tuple[str, str | int | float | bool | None]] = []
    for name, value in params.items():
        for item in value if isinstance(value, list) else [value]:
            pairs.append((name, as_text(item)))
    return pairs


async def _files(request: RequestDoc, call: ActionCall, deps: ActionDeps) -> list[tuple[str, tuple[str, bytes, str]]]:
    if not request.files:
        return []
    if deps.read_file is None:
        raise RequestFailed("files can't be sent from here: no file store")
    files: list[tuple[str, tuple[str, bytes, str]]] = []
    for index, entry in enumerate(request.files):
        field = as_text(substitute(entry.get("field"), call.scopes)) or "file"
        file_id = as_text(substitute(entry.get("file_id"), call.scopes))
        if not file_id:
            raise RequestFailed(f"files[{index}] names no file_id")
        try:
            name, content_type, content = await deps.read_file(call.org_id, file_id)
        except Exception as error:  # noqa: BLE001 - NotFound, a storage that is down: the step's error
            raise RequestFailed(f"file {file_id!r} can't be read: {getattr(error, 'message', None) or error}") from None
        files.append((field, (name, content, content_type)))
    return files


async def build(request: RequestDoc, call: ActionCall, deps: ActionDeps) -> httpx.Request:
    """The HTTP request, with substitution everywhere."""
    scopes: Scopes = call.scopes
    url = substitute_text(request.url, scopes).strip()
    headers = {substitute_text(name, scopes): substitute_text(value, scopes) for name, value in request.headers.items()}
    params = _params(substitute(request.params, scopes))
    body = substitute(request.body, scopes)
    options: dict[str, Any] = {}
    files = await _files(request, call, deps) if request.body_type == "multipart" else []
    if request.body_type == "json" and request.body is not None:
        options["json"] = body
    elif request.body_type == "form":
        options["data"] = _fields(body, "form")
    elif request.body_type == "multipart":
        options["data"] = _fields(body, "multipart")
        options["files"] = files or None
    if request.method in ("GET", "HEAD") and request.body_type == "json":
        options.pop("json", None)
    try:
        client_url = httpx.URL(url)
    except httpx.InvalidURL as error:
        raise RequestFailed(f"not a valid URL: {error}") from None
    if client_url.scheme not in ("http", "https") or not client_url.host:
        raise RequestFailed("refused: only http:// and https:// URLs may be called")
    if params:  # added to the URL's own query, not in its place
        client_url = client_url.copy_merge_params(httpx.QueryParams(params))
    return httpx.Request(
        request.method, client_url, headers=headers,
        extensions={"timeout": httpx.Timeout(request.timeout).as_dict()}, **options,
    )


async def _read(response: httpx.Response) -> tuple[bytes, bool]:
    """At most :data:`MAX_TEXT` bytes of the body, and whether there was more."""
    chunks: list[bytes] = []
    size = 0
    async for chunk in response.aiter_bytes():
        chunks.append(chunk)
        size += len(chunk)
        if size > MAX_TEXT:
            return b"".join(chunks)[:MAX_TEXT], True
    return b"".join(chunks), False


def _json(content: bytes, truncated: bool) -> Any:
    if truncated or not content.strip():
        return None
    try:
        return json.loads(content)
    except ValueError:
        return None


async def _exchange(client: httpx.AsyncClient, request: RequestDoc, outgoing: httpx.Request) -> dict[str, Any]:
    response = await send_following(client, outgoing, private_headers=request.headers)
    try:
        content, truncated = await _read(response)
    finally:
        await response.aclose()
    headers: dict[str, str] = {}
    for name, value in response.headers.multi_items():
        headers[name] = f"{headers[name]}, {value}" if name in headers else value
    return {
        "status": response.status_code,
        "headers": headers,
        "json": _json(content, truncated),
        "text": content.decode(response.encoding or "utf-8", errors="replace"),
    }


async def run_request(call: ActionCall, deps: ActionDeps) -> dict[str, Any]:
    """The ``response`` action (see the module); never raises."""
    request = find_request(call)
    if request is None:
        return {"error": f"no request {call.group.request!r} in the bot"}
    try:
        outgoing = await build(request, call, deps)
        async with asyncio.timeout(request.timeout):
            if deps.http_client is not None:
                return await _exchange(deps.http_client, request, outgoing)
            async with guarded_client(deps.guard, trusted=False, timeout=request.timeout) as client:
                return await _exchange(client, request, outgoing)
    except RequestFailed as error:
        return {"error": str(error)}
    except OutboundRefused as error:
        return {"error": error.message}
    except (TimeoutError, httpx.TimeoutException):
        return {"error": f"timeout: no answer within {request.timeout:g} s"}
    except httpx.ConnectError as error:
        return {"error": f"connection failed: {error or type(error).__name__}"}
    except httpx.HTTPError as error:
        return {"error": f"request failed: {type(error).__name__}: {error}"}
    except Exception as error:  # noqa: BLE001 - a session never crashes on its request
        log.warning("a scenario request failed unexpectedly", exc_info=True, extra={"bot_id": call.bot_id})
        return {"error": f"request failed: {type(error).__name__}"}
