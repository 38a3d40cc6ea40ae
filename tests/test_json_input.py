"""Bodies that parse as JSON but could not be stored or sent on are refused where they come
in: an error that says why, nothing stored, and the other clients' messages unaffected."""

from __future__ import annotations

import asyncio
import json

import httpx
import pytest

from agenthub.json_input import MAX_BODY_BYTES, MAX_DEPTH, parse_json
from tests.agents.helpers import agent_body, assert_error, chat, client_for
from tests.support import ws

AGENTS = "/api/v1/agents"


def nested(depth: int) -> str:
    return '{"x":' * depth + "1" + "}" * depth


LONE_SURROGATE = '{"k": "\\ud800"}'


@pytest.fixture(params=["embedded bus", "redis"])
def bus_settings(request: pytest.FixtureRequest) -> dict:
    if request.param == "redis":
        return {"redis_url": request.getfixturevalue("redis_server_url"),
                "redis_prefix": request.getfixturevalue("redis_prefix")}
    return {}


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        ('"\\ud800"', "surrogate"),
        (nested(MAX_DEPTH + 1), f"deeper than {MAX_DEPTH}"),
        ('{"a": ["x\\u0000y"]}', "NUL"),
        ('{"k\\u0000": 1}', "NUL"),
        ("{", "unexpected end"),
    ],
)
def test_parse_json_refuses_what_cannot_be_kept(raw: str, reason: str) -> None:
    with pytest.raises(json.JSONDecodeError, match=reason):
        parse_json(raw)


def test_parse_json_takes_ordinary_json_up_to_the_depth_limit() -> None:
    assert parse_json('{"emoji": "\\ud83d\\ude00", "n": [1, 2.5, null, true]}') == {
        "emoji": "😀", "n": [1, 2.5, None, True],
    }
    assert parse_json(nested(MAX_DEPTH))["x"]["x"]


def _raw_agent(settings_json: str) -> str:
    return '{"name": "x", "settings": {"provider": "fake", "model_id": "demo", "integrations": ' \
        f'[{{"type": "webhook", "settings": {settings_json}}}]}}}}'


@pytest.mark.parametrize(
    ("settings_json", "status", "code", "reason"),
    [
        (LONE_SURROGATE, 400, "bad_request", "surrogate"),
        (nested(40), 422, "invalid_input", "deeper than"),
        ('{"k": "a\\u0000"}', 422, "invalid_input", "NUL"),
    ],
    ids=["lone surrogate", "nested 40 deep", "NUL"],
)
async def test_agent_bodies_that_cannot_be_stored_are_refused_and_store_nothing(
    database_url: str, settings_json: str, status: int, code: str, reason: str
) -> None:
    async with client_for(database_url, demo_agent=True) as (_app, client):
        before = (await client.get(AGENTS)).json()
        created = await client.post(AGENTS, content=_raw_agent(settings_json), headers={"content-type": "application/json"})
        error = assert_error(created, status, code)
        assert reason in error["message"]
        patched = await client.patch(
            f"{AGENTS}/demo", content='{"settings": {"system_prompt": "\\ud800"}}',
            headers={"content-type": "application/json"},
        )
        assert_error(patched, 400, "bad_request")
        assert (await client.get(AGENTS)).json() == before
        assert (await client.get(f"{AGENTS}/demo")).json()["settings"]["system_prompt"] != "\ud800"


async def test_a_body_over_the_limit_is_413(sqlite_url: str) -> None:
    async with client_for(sqlite_url, demo_agent=True) as (_app, client):
        body = json.dumps(agent_body(name="x" * (MAX_BODY_BYTES + 10)))
        response = await client.post(AGENTS, content=body, headers={"content-type": "application/json"})
        assert_error(response, 413, "too_large")


async def test_a_poisoned_chat_message_fails_alone_among_concurrent_ones(database_url: str, bus_settings: dict) -> None:
    """The messages arriving together are stored together: the ones that can't be stored
    get their error, the others their answers."""
    async with client_for(database_url, demo_agent=True, **bus_settings) as (_app, client):
        poisoned = [
            '{"content": "bad", "user_data": ' + LONE_SURROGATE + "}",
            '{"content": "bad", "user_data": ' + nested(300) + "}",
        ]

        async def bad(raw: str) -> httpx.Response:
            return await client.post(f"{AGENTS}/demo/chat", content=raw, headers={"content-type": "application/json"})

        results = await asyncio.gather(
            *(chat(client, "demo", f"hello {i}", chat_id=f"c{i}") for i in range(20)),
            *(bad(raw) for raw in poisoned),
        )
        answers, refused = results[:20], results[20:]
        assert [a["content"] for a in answers] == [
            f'You said: "hello {i}". That is message 1 of this chat.' for i in range(20)
        ]
        assert_error(refused[0], 400, "bad_request")  # a lone surrogate is not valid Unicode
        assert_error(refused[1], 422, "invalid_input")


async def test_the_websocket_refuses_such_a_frame_and_goes_on(sqlite_url: str) -> None:
    async with client_for(sqlite_url, demo_agent=True) as (app, _client):
        async with ws.connect(app.ws("/ws/agents/demo")) as socket:
            await socket.send('{"type": "message", "content": "\\ud800"}')
            error = json.loads(await asyncio.wait_for(socket.recv(), 10))
            assert error["type"] == "error" and "surrogate" in error["message"]
            await socket.send(json.dumps({"type": "message", "content": "still here"}))
            events = []
            while not events or events[-1]["type"] not in ("message", "error"):
                events.append(json.loads(await asyncio.wait_for(socket.recv(), 10)))
            assert events[-1]["type"] == "message"
            assert "still here" in events[-1]["content"]


async def test_blank_content_is_refused(sqlite_url: str) -> None:
    async with client_for(sqlite_url, demo_agent=True) as (_app, client):
        response = await client.post(f"{AGENTS}/demo/chat", json={"content": "  \n\t "})
        error = assert_error(response, 422, "invalid_input")
        assert "content" in error["message"] and "blank" in error["message"]


@pytest.mark.parametrize("content_type", ["text/plain", "application/x-www-form-urlencoded", None])
async def test_a_body_that_is_not_sent_as_json_is_415(sqlite_url: str, content_type: str) -> None:
    async with client_for(sqlite_url, demo_agent=True) as (_app, client):
        body = json.dumps(agent_body(id="formed"))
        headers = {"content-type": content_type} if content_type else {}
        error = assert_error(await client.post(AGENTS, content=body, headers=headers), 415)
        assert "application/json" in error["message"]
        error = assert_error(await client.post(f"{AGENTS}/demo/chat", content=b'{"content": "hi"}', headers=headers), 415)
        assert_error(await client.get(f"{AGENTS}/formed"), 404)
        # A +json type is JSON too.
        created = await client.post(AGENTS, content=body, headers={"content-type": "application/vnd.api+json"})
        assert created.status_code == 201, created.text


async def test_a_compressed_body_is_415_not_read_as_plain_json(sqlite_url: str) -> None:
    import gzip

    async with client_for(sqlite_url, demo_agent=True) as (_app, client):
        body = gzip.compress(b'{"content": "hi"}')
        response = await client.post(f"{AGENTS}/demo/chat", content=body, headers={
            "content-type": "application/json", "content-encoding": "gzip",
        })
        error = assert_error(response, 415)
        assert "gzip" in error["message"]
