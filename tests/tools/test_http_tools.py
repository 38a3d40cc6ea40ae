"""HTTP API tools: what reaches the API, what reaches the model."""

from __future__ import annotations

import json
from typing import Any

import pytest

from agenthub.caller import Caller
from agenthub.config import Settings
from agenthub.credentials import service as credentials_service
from agenthub.credentials.schemas import CredentialCreate
from agenthub.credentials.secret_box import CredentialBox, generate_key
from agenthub.outbound.guard import OutboundGuard
from agenthub.tools.base import ToolContext, ToolDeps
from agenthub.tools.registry import ToolRegistry, Toolset
from tests.runtime.helpers import migrated_sessions
from tests.support.target import Target


def _context(settings: dict[str, Any]) -> ToolContext:
    return ToolContext(org_id="default", agent_id="a1", agent_settings=settings, chat_id="c1", message={})


async def _toolset(sqlite_url: str, settings: dict[str, Any], *, allow: str = "127.0.0.1", box: CredentialBox | None = None):  # type: ignore[no-untyped-def]
    engine, sessions = await migrated_sessions(sqlite_url)
    deps = ToolDeps(
        settings=Settings(_env_file=None), sessions=sessions, guard=OutboundGuard.from_allowlist(allow.split(",")), box=box,
    )
    return engine, sessions, await ToolRegistry(deps).open(settings, _context(settings))


def _tool(url: str, **more: Any) -> dict[str, Any]:
    return {"name": "lookup", "description": "Look a thing up", "url": url, **more}


async def _call(toolset: Toolset, arguments: dict[str, Any], name: str = "lookup") -> tuple[str, bool]:
    return await toolset.call(name, arguments, _context({}))


async def test_placeholders_are_filled_and_encoded_and_the_rest_is_the_query(sqlite_url: str, target: Target) -> None:
    settings = {"http_tools": [_tool(f"{target.url}/items/{{item}}?fixed=1", parameters={
        "type": "object", "properties": {"item": {"type": "string"}, "q": {"type": "string"}}})]}
    engine, _, toolset = await _toolset(sqlite_url, settings)
    try:
        assert toolset.specs()[0]["function"]["parameters"]["properties"]["item"] == {"type": "string"}
        result, ok = await _call(toolset, {"item": "a b/c", "q": "x&y", "n": 3, "flag": True})
    finally:
        await engine.dispose()
    assert ok, result
    seen = target.requests[-1]
    assert seen["method"] == "GET"
    assert seen["path"] == "/items/a%20b%2Fc"
    assert seen["query"] == {"fixed": "1", "q": "x&y", "n": "3", "flag": "true"}
    assert json.loads(result)["path"] == "/items/a%20b%2Fc"


async def test_a_post_sends_the_other_arguments_as_json(sqlite_url: str, target: Target) -> None:
    settings = {"http_tools": [_tool(f"{target.url}/orders/{{id}}", method="POST", headers={"X-Static": "v"})]}
    engine, _, toolset = await _toolset(sqlite_url, settings)
    try:
        result, ok = await _call(toolset, {"id": 7, "qty": 2, "note": "fast"})
        missing, missing_ok = await _call(toolset, {"qty": 2})
    finally:
        await engine.dispose()
    assert ok, result
    seen = target.requests[0]
    assert seen["method"] == "POST" and seen["path"] == "/orders/7"
    assert json.loads(seen["body"]) == {"qty": 2, "note": "fast"}
    assert seen["headers"]["x-static"] == "v"
    assert (missing, missing_ok) == ("error: missing argument: id", False)


async def test_a_credential_header_sends_the_organisations_value(sqlite_url: str, target: Target) -> None:
    box = CredentialBox.from_text(generate_key())
    settings = {"http_tools": [_tool(f"{target.url}/me", headers={"Authorization": {"credential_id": "PLACEHOLDER"}})]}
    engine, sessions = await migrated_sessions(sqlite_url)
    try:
        async with sessions() as session:
            credential = await credentials_service.create(
                session, caller=Caller(org_id="default", role="owner"),
                data=CredentialCreate(name="api", type="http_header", value="Bearer s3cret"), box=box,
            )
            await session.commit()
        settings["http_tools"][0]["headers"]["Authorization"] = {"credential_id": credential.id}
        deps = ToolDeps(settings=Settings(_env_file=None), sessions=sessions,
                        guard=OutboundGuard.from_allowlist(["127.0.0.1"]), box=box)
        toolset = await ToolRegistry(deps).open(settings, _context(settings))
        result, ok = await _call(toolset, {})
        settings["http_tools"][0]["headers"]["Authorization"] = {"credential_id": "gone"}
        toolset = await ToolRegistry(deps).open(settings, _context(settings))
        gone, gone_ok = await _call(toolset, {})
    finally:
        await engine.dispose()
    assert ok, result
    assert target.requests[0]["headers"]["authorization"] == "Bearer s3cret"
    assert json.loads(result)["headers"]["authorization"] == "***"  # echoed back: scrubbed
    assert len(target.requests) == 1
    assert (gone, gone_ok) == ("error: header Authorization: the credential 'gone' does not exist", False)


async def test_an_error_status_is_a_tool_error_naming_it(sqlite_url: str, target: Target) -> None:
    engine, _, toolset = await _toolset(sqlite_url, {"http_tools": [_tool(f"{target.url}/status/404")]})
    try:
        result, ok = await _call(toolset, {})
    finally:
        await engine.dispose()
    assert not ok
    assert result.startswith("error: lookup answered HTTP 404")


async def test_a_long_answer_is_cut_and_not_read_whole(sqlite_url: str, target: Target) -> None:
    engine, _, toolset = await _toolset(sqlite_url, {"http_tools": [_tool(f"{target.url}/big?chars=3000000")]})
    try:
        result, ok = await _call(toolset, {})
    finally:
        await engine.dispose()
    assert ok
    assert result.startswith("x" * 100_000)
    assert result[100_000:].startswith("\n[cut: the result was 400000 characters]")


@pytest.mark.parametrize(("url", "message"), [
    ("http://127.0.0.1:{port}/x", "error: refused: 127.0.0.1 is a loopback address"),
    ("http://169.254.169.254/latest/meta-data/", "error: refused: 169.254.169.254 is a link-local address (cloud metadata)"),
])
async def test_the_guard_refuses_without_the_allowlist(sqlite_url: str, target: Target, url: str, message: str) -> None:
    settings = {"http_tools": [_tool(url.format(port=target.port))]}
    engine, _, toolset = await _toolset(sqlite_url, settings, allow="")
    try:
        result, ok = await _call(toolset, {})
    finally:
        await engine.dispose()
    assert (result, ok) == (message, False)
    assert target.requests == []


async def test_a_timeout_is_a_tool_error(sqlite_url: str) -> None:
    import socket

    with socket.socket() as silent:  # accepts the connection, never answers
        silent.bind(("127.0.0.1", 0))
        silent.listen()
        port = silent.getsockname()[1]
        settings = {"http_tools": [_tool(f"http://127.0.0.1:{port}/slow", timeout=0.3)]}
        engine, _, toolset = await _toolset(sqlite_url, settings)
        try:
            result, ok = await _call(toolset, {})
        finally:
            await engine.dispose()
    assert (result, ok) == ("error: lookup did not answer within 0.3 seconds", False)
