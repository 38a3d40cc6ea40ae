"""The MCP server at ``/mcp``, driven by the official MCP client against the real app: a bot
built entirely over MCP, tested, published, then answering over SSE; 401 without a key;
tool errors that say what to fix; another organisation's bots out of sight."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
import httpx2
import pytest
from mcp.client.session import ClientSession
from mcp.client.streamable_http import streamable_http_client
from mcp.types import CallToolResult

from agenthub.config import Settings
from tests.agents.helpers import migrated
from tests.support.accounts import api_key, bearer, second_org
from tests.support.server import RunningApp, make_settings, running_app
from tests.support.sse import parse_sse


@pytest.fixture
def app_settings(sqlite_url: str) -> Settings:
    return make_settings(database_url=sqlite_url)


@pytest.fixture
def settings_on_each_database(database_url: str) -> Settings:
    """SQLite and PostgreSQL."""
    return make_settings(database_url=database_url)


@asynccontextmanager
async def mcp_session(app: RunningApp, token: str) -> AsyncIterator[ClientSession]:
    async with httpx2.AsyncClient(headers=bearer(token), timeout=30) as http:
        async with streamable_http_client(f"{app.url}/mcp", http_client=http) as (read, write):
            async with ClientSession(read, write) as session:
                await session.initialize()
                yield session


async def call(session: ClientSession, name: str, /, **arguments: Any) -> dict[str, Any]:
    result = await session.call_tool(name, arguments)
    assert not result.is_error, f"{name}: {text_of(result)}"
    data = json.loads(text_of(result))
    assert isinstance(data, dict)
    return data


def text_of(result: CallToolResult) -> str:
    return "".join(getattr(part, "text", "") for part in result.content)


def rules_equal(value: str) -> dict[str, Any]:
    return {"condition": "AND", "rules": [{"field": "message.text", "operator": "equal", "value": value}]}


async def test_a_bot_built_over_mcp_answers_over_sse(settings_on_each_database: Settings) -> None:
    await migrated(settings_on_each_database.effective_database_url)  # PostgreSQL is migrated beforehand
    async with running_app(settings_on_each_database) as app:
        key = await api_key(app)
        async with mcp_session(app, key) as mcp:
            names = {tool.name for tool in (await mcp.list_tools()).tools}
            assert {"list_bots", "get_bot", "create_bot", "update_bot", "delete_bot", "create_step", "update_step",
                    "delete_step", "create_connection_group", "create_connection", "create_request",
                    "create_template", "import_bot", "export_bot", "publish_bot", "test_bot"} <= names
            tools = {tool.name: tool for tool in (await mcp.list_tools()).tools}
            assert "bot_id" in tools["create_step"].input_schema["properties"]
            assert tools["create_step"].description and len(tools["create_step"].description) > 80

            bot = await call(mcp, "create_bot", name="Greeter")
            hello = await call(mcp, "create_step", bot_id=bot["id"], key="hello", message={
                "text": "Hello! Tea or coffee?",
                "widget": {"buttons": [{"text": "Tea", "value": "tea"}, {"text": "Coffee", "value": "coffee"}]},
            })
            tea = await call(mcp, "create_step", bot_id=bot["id"], key="tea", message={"text": "Tea it is."})
            group = await call(mcp, "create_connection_group", step_id=hello["id"], search_type="message")
            await call(mcp, "create_connection", group_id=group["id"], rules=rules_equal("tea"),
                       priority=10, next_step_id=tea["id"])
            await call(mcp, "create_connection", group_id=group["id"], rules={}, priority=0,
                       next_step_id=hello["id"])

            # The draft is tested before anything is published.
            first = await call(mcp, "test_bot", bot_id=bot["id"], text="hi")
            assert first["ran"] == "draft"
            assert [m["text"] for m in first["messages"]] == ["Hello! Tea or coffee?"]
            assert first["messages"][0]["widget"]["buttons"][0]["value"] == "tea"
            pressed = await call(mcp, "test_bot", bot_id=bot["id"], text="tea", button="tea",
                                 chat_id=first["chat_id"])
            assert [m["text"] for m in pressed["messages"]] == ["Tea it is."]

            shown = await call(mcp, "get_bot", bot_id=bot["id"])
            assert shown["document"]["first_step"] == "hello"
            assert {s["key"] for s in shown["ids"]["steps"]} == {"hello", "tea"}
            published = await call(mcp, "publish_bot", bot_id=bot["id"])
            assert published["version"] == 1
            exported = await call(mcp, "export_bot", bot_id=bot["id"])
            copy = await call(mcp, "import_bot", document=exported)
            assert copy["id"] != bot["id"] and copy["published_version"] == 1
            listed = await call(mcp, "list_bots")
            assert {b["id"] for b in listed["items"]} == {bot["id"], copy["id"]}

        async with httpx.AsyncClient(base_url=app.url, timeout=30, headers=app.headers) as client:
            response = await client.post(f"/api/v1/agents/{bot['id']}/chat", json={"content": "hi", "chat_id": "c1"})
            assert response.status_code == 200, response.text
            messages = [data["content"] for name, data in parse_sse(response.text) if name == "message"]
            assert messages == ["Hello! Tea or coffee?"]
            response = await client.post(f"/api/v1/agents/{bot['id']}/chat",
                                         json={"content": "tea", "chat_id": "c1", "button": "tea"})
            messages = [data["content"] for name, data in parse_sse(response.text) if name == "message"]
            assert messages == ["Tea it is."]


async def test_mcp_without_credentials_is_401(app_settings: Settings) -> None:
    async with running_app(app_settings) as app:
        async with httpx.AsyncClient(base_url=app.url, timeout=20) as client:
            body = {"jsonrpc": "2.0", "id": 1, "method": "tools/list"}
            headers = {"Accept": "application/json, text/event-stream"}
            missing = await client.post("/mcp", json=body, headers=headers)
            forged = await client.post("/mcp", json=body, headers={**headers, **bearer("ahk_not-a-key")})
    assert missing.status_code == 401
    assert missing.json()["error"]["code"] == "unauthorized"
    assert forged.status_code == 401


async def test_tool_errors_say_what_to_fix_and_other_orgs_bots_are_hidden(app_settings: Settings) -> None:
    async with running_app(app_settings) as app:
        other = await second_org(app)
        async with mcp_session(app, app.token) as mcp:
            bot = await call(mcp, "create_bot", name="Mine")
            untestable = await mcp.call_tool("test_bot", {"bot_id": bot["id"], "text": "hi"})
            assert untestable.is_error and "first_step" in text_of(untestable)
            unpublishable = await mcp.call_tool("publish_bot", {"bot_id": bot["id"]})
            assert unpublishable.is_error
            assert "first step" in text_of(unpublishable)
            bad = await mcp.call_tool("create_connection_group", {"step_id": "x", "search_type": "telepathy"})
            assert bad.is_error and "search_type" in text_of(bad)
            broken = await mcp.call_tool("import_bot", {"document": {
                "format": "agenthub.bot/v1", "name": "Broken", "first_step": "nowhere", "steps": [
                    {"key": "a", "message": {"text": "hi"}}],
            }})
            assert broken.is_error and "first_step" in text_of(broken)
            step = await call(mcp, "create_step", bot_id=bot["id"], key="a", message={"text": "A"})
            await call(mcp, "update_bot", bot_id=bot["id"], first_step_id=step["id"])
            in_use = await mcp.call_tool("delete_step", {"step_id": step["id"]})
            assert in_use.is_error and "step_in_use" in text_of(in_use)

        async with mcp_session(app, other) as theirs:
            assert (await call(theirs, "list_bots"))["items"] == []
            hidden = await theirs.call_tool("get_bot", {"bot_id": bot["id"]})
            assert hidden.is_error and "not found" in text_of(hidden)
            step_hidden = await theirs.call_tool("create_step", {"bot_id": bot["id"], "message": {"text": "x"}})
            assert step_hidden.is_error and "not found" in text_of(step_hidden)
            assert (await theirs.call_tool("delete_bot", {"bot_id": bot["id"]})).is_error

        async with mcp_session(app, app.token) as mcp:
            await call(mcp, "delete_bot", bot_id=bot["id"])
            assert (await call(mcp, "list_bots"))["items"] == []
