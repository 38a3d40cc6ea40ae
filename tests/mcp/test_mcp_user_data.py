"""``test_bot`` over MCP (the official client) takes the test user's ``user_data`` as ``POST
/api/v1/bots/{id}/test`` does: the bot greets the test user by the name given, and what the
REST route refuses (not an object, a NUL character, nesting too deep) the tool refuses too,
saying where."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from agenthub.chats.schemas import MAX_CONTENT_LENGTH
from agenthub.config import Settings
from agenthub.json_input import MAX_DEPTH
from tests.mcp.test_mcp_http import call, mcp_session, text_of
from tests.support.server import make_settings, running_app

GREETER: dict[str, Any] = {
    "format": "agenthub.bot/v1", "name": "Greeter", "first_step": "hello",
    "steps": [{"key": "hello", "message": {"text": "Hi {$user.first_name$} {$user.last_name$} (@{$user.username$})!"},
               "connection_groups": [{"search_type": "message", "connections": [
                   {"rules": {}, "priority": 0, "next_step": "hello"}]}]}],
}


@pytest.fixture
def app_settings(sqlite_url: str) -> Settings:
    return make_settings(database_url=sqlite_url)


def nested(levels: int) -> dict[str, Any]:
    """An object ``levels`` objects deep (``{"a": {"a": ... {}}}``)."""
    value: dict[str, Any] = {}
    for _ in range(levels - 1):
        value = {"a": value}
    return value


def texts(answer: dict[str, Any]) -> list[str]:
    return [message["text"] for message in answer["messages"]]


async def test_test_bot_greets_the_user_user_data_names_as_the_rest_route_does(app_settings: Settings) -> None:
    async with running_app(app_settings) as app:
        async with mcp_session(app, app.token) as mcp:
            tool = {tool.name: tool for tool in (await mcp.list_tools()).tools}["test_bot"]
            described = tool.input_schema["properties"]["user_data"]
            assert "first_name" in described["description"]
            assert tool.input_schema["$defs"][described["$ref"].rsplit("/", 1)[1]]["type"] == "object"
            assert "user_data" in (tool.description or "") and "user_data" not in tool.input_schema.get("required", [])

            bot = await call(mcp, "import_bot", document=GREETER)
            ada = {"first_name": "Ada", "last_name": "Lovelace", "username": "ada", "language": "en"}
            greeted = await call(mcp, "test_bot", bot_id=bot["id"], text="hi", user_data=ada)
            assert texts(greeted) == ["Hi Ada Lovelace (@ada)!"]
            renamed = await call(mcp, "test_bot", bot_id=bot["id"], text="hi again", chat_id=greeted["chat_id"],
                                 user_data={**ada, "first_name": "Augusta"})
            assert texts(renamed) == ["Hi Augusta Lovelace (@ada)!"]
            deepest = await call(mcp, "test_bot", bot_id=bot["id"], text="deep", user_data=nested(MAX_DEPTH - 1))
            assert texts(deepest)

            refusals = {}
            for name, user_data in {"not_object": "Ada", "nul": {"first_name": "A\x00da"},
                                    "too_deep": nested(MAX_DEPTH)}.items():
                refused = await mcp.call_tool("test_bot", {"bot_id": bot["id"], "text": "hi", "user_data": user_data})
                assert refused.is_error, name
                refusals[name] = text_of(refused)
        assert "user_data" in refusals["not_object"]
        assert "user_data.first_name" in refusals["nul"] and "NUL" in refusals["nul"]
        assert "user_data" in refusals["too_deep"] and f"deeper than {MAX_DEPTH}" in refusals["too_deep"]

        # The REST route: the same value taken, the same values refused.
        async with httpx.AsyncClient(base_url=app.url, timeout=30, headers=app.headers) as client:
            path = f"/api/v1/bots/{bot['id']}/test"
            taken = await client.post(path, json={"text": "deep", "user_data": nested(MAX_DEPTH - 1)})
            assert taken.status_code == 200, taken.text
            for user_data in ("Ada", {"first_name": "A\x00da"}, nested(MAX_DEPTH)):
                refused = await client.post(path, json={"text": "hi", "user_data": user_data})
                assert refused.status_code == 422, refused.text
                assert refused.json()["error"]["details"][0]["field"].startswith("user_data"), refused.text


async def test_test_bot_takes_a_text_as_long_as_the_rest_route_does(app_settings: Settings) -> None:
    async with running_app(app_settings) as app:
        async with mcp_session(app, app.token) as mcp:
            bot = await call(mcp, "import_bot", document=GREETER)
            long = await call(mcp, "test_bot", bot_id=bot["id"], text="x" * MAX_CONTENT_LENGTH)
            assert texts(long) == ["Hi   (@)!"]  # no user_data: every name empty
            for text in ("x" * (MAX_CONTENT_LENGTH + 1), " \n "):
                refused = await mcp.call_tool("test_bot", {"bot_id": bot["id"], "text": text})
                assert refused.is_error and "text" in text_of(refused)
