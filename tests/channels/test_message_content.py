"""A message's content as SSE and the WebSocket take it: content that shows nothing (empty,
spaces, invisible characters only) is refused on both, in the same words as REST refuses
it; a frame that is not JSON is said to be so."""

from __future__ import annotations

import json

import httpx
import pytest

from tests.channels.helpers import assert_json_error, create_agent, turn
from tests.support.server import make_settings, running_app
from tests.support.ws import connect

SHOWS_NOTHING = ["", "   ", "\u200b\u200b", "\u200d\u2060 \ufeff", "\t\n"]


@pytest.mark.parametrize("content", SHOWS_NOTHING)
async def test_content_that_shows_nothing_is_refused_alike_over_sse_and_the_websocket(
    sqlite_url: str, content: str
) -> None:
    async with running_app(make_settings(database_url=sqlite_url)) as app, \
            httpx.AsyncClient(base_url=app.url, timeout=20, headers=app.headers) as client:
        agent_id = await create_agent(client)
        refused = await client.post(f"/api/v1/agents/{agent_id}/chat", json={"content": content})
        async with connect(app.ws(f"/ws/agents/{agent_id}")) as socket:
            await socket.send(json.dumps({"type": "message", "content": content}))
            error = json.loads(await socket.recv())
            # The socket lives on; the refused message is no part of the chat.
            answered = await turn(socket, "hello")
    rest = assert_json_error(refused, 422)
    assert rest["message"] == "content: must not be blank"
    assert error == {"type": "error", "code": "invalid_input", "message": f"invalid message: {rest['message']}"}
    assert answered[-1]["content"] == 'You said: "hello". That is message 1 of this chat.'


async def test_a_frame_that_is_not_json_is_said_to_be_so(sqlite_url: str) -> None:
    async with running_app(make_settings(database_url=sqlite_url)) as app, \
            httpx.AsyncClient(base_url=app.url, timeout=20, headers=app.headers) as client:
        agent_id = await create_agent(client)
        async with connect(app.ws(f"/ws/agents/{agent_id}")) as socket:
            errors = []
            for frame in ("nope", "hello there", '{"type": "message",\n "content": "hi"', " "):
                await socket.send(frame)
                errors.append(json.loads(await socket.recv()))
    assert [e["message"] for e in errors] == [
        "invalid message: the frame is not valid JSON (at line 1, column 1)",
        "invalid message: the frame is not valid JSON: unexpected character, expected a JSON value "
        "(at line 1, column 1)",
        "invalid message: the frame is not valid JSON: unexpected end of data (at line 2, column 17)",
        "invalid message: the frame is empty",
    ]
    assert {e["code"] for e in errors} == {"invalid_input"}
