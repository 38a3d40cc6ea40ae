"""Dynamic HTTP API tools: the ``http_tools`` of an agent's settings.

Each is a :class:`HttpApiTool` the model calls with the arguments its ``parameters`` schema
describes: ``{param}`` placeholders of the URL are filled (URL-encoded) from them, the other
arguments go in the query string (GET, DELETE) or a JSON body (POST, PUT, PATCH). Header
values are strings or ``{"credential_id": ...}``, the organisation's credential opened when
the tool is called (its value masked in logs, never shown). The call goes through the
outbound guard untrusted (loopback, private, link-local and metadata addresses are refused
unless ``OUTBOUND_ALLOWLIST`` names them), redirects included; a status of 400 or more, a
timeout or a refusal is a tool error the model hears of. At most :data:`MAX_RESPONSE_BYTES`
of a response are read.
"""

from __future__ import annotations

import json
import re
from typing import Any
from urllib.parse import quote

import httpx

from agenthub.credentials import service as credentials_service
from agenthub.credentials.secret_box import SealedWithAnotherKey
from agenthub.errors import NotFound
from agenthub.ops.logging import remember_secrets
from agenthub.outbound.http import guarded_client, send_following
from agenthub.tools.base import MAX_RESULT_CHARS, Tool, ToolContext, ToolDeps, ToolError

MAX_RESPONSE_BYTES = 4 * MAX_RESULT_CHARS
"""Bytes of a response read at most (a character is up to 4 bytes of UTF-8): the rest is
never read into memory."""
BODY_METHODS = frozenset({"POST", "PUT", "PATCH"})
PLACEHOLDER = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)\}")


async def resolve_headers(headers: dict[str, Any], deps: ToolDeps, context: ToolContext) -> dict[str, str]:
    """Configured headers as they are sent: a ``{"credential_id"}`` value is the
    organisation's credential (a missing one is a :class:`ToolError`); every value is masked
    in this process's logs from now on."""
    resolved: dict[str, str] = {}
    for name, value in headers.items():
        if isinstance(value, dict):
            credential_id = str(value.get("credential_id"))
            if deps.box is None:
                raise ToolError(f"header {name}: credentials can't be opened (SECRET_BOX_KEY is not set)")
            try:
                async with deps.sessions() as session:
                    value = await credentials_service.reveal(session, context.org_id, credential_id, deps.box)
            except NotFound:
                raise ToolError(f"header {name}: the credential {credential_id!r} does not exist") from None
            except SealedWithAnotherKey:
                raise ToolError(f"header {name}: the credential {credential_id!r} can't be opened") from None
        resolved[name] = str(value)
        # The whole value, and the token of "Bearer <token>" on its own (an error may echo it).
        remember_secrets(resolved[name], resolved[name].rpartition(" ")[2])
    return resolved


MIN_SCRUBBED = 8
"""Header values shorter than this are not scrubbed from results (``1``, ``json``...)."""


def scrub(text: str, headers: dict[str, str]) -> str:
    """``text`` without the values of ``headers`` (a key an API echoes in its answer does not
    reach the model, the history or the events): each is ``***``."""
    for value in sorted(headers.values(), key=len, reverse=True):
        for secret in (value, value.rpartition(" ")[2]):
            if len(secret) >= MIN_SCRUBBED and secret in text:
                text = text.replace(secret, "***")
    return text


def _text(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)


def fill_url(template: str, arguments: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    """``template`` with its ``{param}`` placeholders filled from ``arguments`` (URL-encoded,
    ``/`` too), and the arguments left over. A placeholder without its argument is a
    :class:`ToolError`."""
    rest = dict(arguments)
    names = set(PLACEHOLDER.findall(template))
    missing = sorted(name for name in names if name not in rest or rest[name] is None)
    if missing:
        raise ToolError(f"missing argument{'s' if len(missing) > 1 else ''}: {', '.join(missing)}")
    url = PLACEHOLDER.sub(lambda match: quote(_text(rest[match.group(1)]), safe=""), template)
    for name in names:
        rest.pop(name, None)
    return url, rest


def _query(arguments: dict[str, Any]) -> list[tuple[str, str]]:
    pairs: list[tuple[str, str]] = []
    for name, value in arguments.items():
        if value is None:
            continue
        for item in value if isinstance(value, list) else [value]:
            pairs.append((name, "true" if item is True else "false" if item is False else _text(item)))
    return pairs


class HttpApiTool(Tool):
    """One entry of ``http_tools``."""

    def __init__(self, spec: dict[str, Any], deps: ToolDeps) -> None:
        self.name = str(spec["name"])
        self.description = str(spec.get("description") or f"{spec.get('method', 'GET')} {spec['url']}")
        self.parameters = dict(spec.get("parameters") or {"type": "object", "properties": {}})
        self.method = str(spec.get("method") or "GET").upper()
        self.url = str(spec["url"])
        self.headers: dict[str, Any] = dict(spec.get("headers") or {})
        self.timeout = float(spec.get("timeout") or 30.0)
        self.deps = deps

    async def run(self, arguments: dict[str, Any], context: ToolContext) -> str:
        url, rest = fill_url(self.url, arguments)
        headers = await resolve_headers(self.headers, self.deps, context)
        body = None
        params: Any = None
        if self.method in BODY_METHODS:
            body = rest
        else:
            params = _query(rest)
        async with guarded_client(self.deps.guard, timeout=self.timeout) as client:
            try:
                target = httpx.URL(url)
                if params:  # added to the URL's own query, not replacing it
                    target = target.copy_merge_params(params)
                request = client.build_request(self.method, target, json=body, headers=headers)
            except (httpx.InvalidURL, ValueError) as error:
                raise ToolError(f"the URL can't be called ({error})") from None
            try:
                response = await send_following(client, request, private_headers=self.headers)
                try:
                    data = await _read_capped(response, MAX_RESPONSE_BYTES)
                finally:
                    await response.aclose()
            except httpx.TimeoutException:
                raise ToolError(f"{self.name} did not answer within {self.timeout:g} seconds") from None
            except httpx.HTTPError as error:
                raise ToolError(f"{self.name} could not be reached ({type(error).__name__})") from None
        text = scrub(data.decode(response.encoding or "utf-8", errors="replace"), headers)
        if response.status_code >= 400:
            raise ToolError(f"{self.name} answered HTTP {response.status_code}: {text[:2000]}")
        return text


async def _read_capped(response: httpx.Response, limit: int) -> bytes:
    """At most ``limit`` bytes of the (streamed) response's body; the rest is not read."""
    chunks: list[bytes] = []
    size = 0
    async for chunk in response.aiter_bytes():
        chunks.append(chunk)
        size += len(chunk)
        if size >= limit:
            break
    return b"".join(chunks)[:limit]


def http_tools(settings: dict[str, Any], deps: ToolDeps) -> list[Tool]:
    """The HTTP API tools of an agent with these stored settings."""
    return [HttpApiTool(spec, deps) for spec in settings.get("http_tools") or ()]
