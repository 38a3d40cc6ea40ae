"""``apply_preset`` over MCP with the official client: a bot built with presets answers
``test_bot`` as the presets say; bad configs come back as tool errors naming the field;
another organisation's bot is not found."""

from __future__ import annotations

from typing import Any

import pytest

from agenthub.config import Settings
from tests.mcp.test_mcp_http import call, mcp_session, text_of
from tests.support.accounts import second_org
from tests.support.server import make_settings, running_app


@pytest.fixture
def app_settings(sqlite_url: str) -> Settings:
    return make_settings(database_url=sqlite_url)


def texts(answer: dict[str, Any]) -> list[str]:
    return [message["text"] for message in answer["messages"]]


async def test_a_bot_built_with_presets_over_mcp_answers_as_they_say(app_settings: Settings) -> None:
    async with running_app(app_settings) as app:
        other = await second_org(app)
        async with mcp_session(app, app.token) as mcp:
            tool = {tool.name: tool for tool in (await mcp.list_tools()).tools}["apply_preset"]
            assert "retry_text" in (tool.description or "") and "split" in tool.input_schema["properties"][
                "preset"]["enum"]
            bot = await call(mcp, "create_bot", name="Newsletter")
            hello = await call(mcp, "create_step", bot_id=bot["id"], message={"text": ""})
            thanks = await call(mcp, "create_step", bot_id=bot["id"], message={"text": "Subscribed: {$session.mail$}"})
            asked = await call(mcp, "apply_preset", bot_id=bot["id"], preset="ask", config={
                "question": "Your e-mail?", "kind": "email", "variable": "mail", "retry_text": "Not an e-mail.",
                "next_step_id": thanks["id"], "from_step_id": hello["id"]})
            assert {step["preset_id"] for step in asked["steps"]} == {asked["preset_id"]}

            first = await call(mcp, "test_bot", bot_id=bot["id"], text="hi")
            again = await call(mcp, "test_bot", bot_id=bot["id"], text="nope", chat_id=first["chat_id"])
            done = await call(mcp, "test_bot", bot_id=bot["id"], text="ann@example.org", chat_id=first["chat_id"])
            assert (texts(first), texts(again), texts(done)) == (
                ["Your e-mail?"], ["Not an e-mail."], ["Subscribed: ann@example.org"])

            bad = await mcp.call_tool("apply_preset", {"bot_id": bot["id"], "preset": "ask", "config": {
                "question": "Q", "variable": "x", "next_step_id": thanks["id"], "retry_text": ""}})
            assert bad.is_error and "config.retry_text" in text_of(bad)
            unknown = await mcp.call_tool("apply_preset", {"bot_id": bot["id"], "preset": "poll", "config": {}})
            assert unknown.is_error and "preset" in text_of(unknown)
            elsewhere = await mcp.call_tool("apply_preset", {"bot_id": bot["id"], "preset": "message", "config": {
                "text": "x", "next_step_id": "stp_nowhere"}})
            assert elsewhere.is_error and "config.next_step_id" in text_of(elsewhere)
        async with mcp_session(app, other) as theirs:
            hidden = await theirs.call_tool("apply_preset", {"bot_id": bot["id"], "preset": "message",
                                                             "config": {"text": "x"}})
            assert hidden.is_error and "not found" in text_of(hidden)
