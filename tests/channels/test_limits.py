"""One client can't exhaust a gateway through WebSockets: frames beyond the 1 MiB body
limit are refused with 1009 before they are read, a client address holds a limited number
of sockets, and a socket that sends no complete message in time is closed."""

from __future__ import annotations

import asyncio
import base64
import json
import os

import httpx
import pytest
from websockets.exceptions import ConnectionClosed, InvalidStatus

from agenthub.json_input import MAX_BODY_BYTES
from tests.channels.helpers import create_agent, eventually, turn
from tests.support.fake_openai import FakeOpenAI
from tests.support.server import make_settings, running_app
from tests.support.ws import connect


async def _closed_with(socket) -> int | None:  # type: ignore[no-untyped-def]
    """Read until the server closes the socket; its close code."""
    with pytest.raises(ConnectionClosed) as closed:
        async with asyncio.timeout(20):
            while True:
                await socket.recv()
    return closed.value.rcvd.code if closed.value.rcvd else None


async def test_a_frame_above_the_body_limit_is_closed_with_1009(sqlite_url: str) -> None:
    async with running_app(make_settings(database_url=sqlite_url)) as app:
        async with httpx.AsyncClient(base_url=app.url, timeout=20, headers=app.headers) as client:
            agent_id = await create_agent(client)
        url = app.ws(f"/ws/agents/{agent_id}")
        async with connect(url, max_size=None) as socket:
            # At the limit the frame is read (and refused as too long a message, politely).
            envelope = len(json.dumps({"type": "message", "content": ""}))
            at_limit = json.dumps({"type": "message", "content": "x" * (MAX_BODY_BYTES - envelope)})
            assert len(at_limit) == MAX_BODY_BYTES
            await socket.send(at_limit)
            refused = json.loads(await asyncio.wait_for(socket.recv(), 20))
            assert refused["type"] == "error" and refused["code"] == "invalid_input"
            await socket.send("x" * (MAX_BODY_BYTES + 1))
            assert await _closed_with(socket) == 1009
        async with connect(url) as socket:  # the gateway is fine
            assert (await turn(socket, "still here"))[-1]["type"] == "message"


async def test_connections_per_client_address_are_limited(sqlite_url: str) -> None:
    settings = make_settings(database_url=sqlite_url, ws_max_connections_per_client=2)
    async with running_app(settings) as app:
        async with httpx.AsyncClient(base_url=app.url, timeout=20, headers=app.headers) as client:
            agent_id = await create_agent(client)
        url = app.ws(f"/ws/agents/{agent_id}")
        async with connect(url) as first, connect(url) as second:
            with pytest.raises(InvalidStatus) as refused:
                async with connect(url):
                    pass
            assert refused.value.response.status_code == 429
            assert json.loads(refused.value.response.body)["error"]["code"] == "too_many_connections"
            assert (await turn(first, "one"))[-1]["type"] == "message"
            assert (await turn(second, "two"))[-1]["type"] == "message"

        async def accepted_again() -> bool:
            try:
                async with connect(url) as socket:
                    return (await turn(socket, "three"))[-1]["type"] == "message"
            except InvalidStatus:
                return False  # the server has not seen the others close yet

        assert await eventually(accepted_again, what="a free slot after closing")


async def test_a_socket_that_sends_nothing_is_closed_after_the_idle_timeout(sqlite_url: str) -> None:
    settings = make_settings(database_url=sqlite_url, ws_idle_timeout=0.3)
    with FakeOpenAI() as fake:
        fake.add_answer("a b c d e", delay=0.1)  # longer than the idle timeout
        async with running_app(settings) as app:
            async with httpx.AsyncClient(base_url=app.url, timeout=20, headers=app.headers) as client:
                agent_id = await create_agent(
                    client, provider="openai_compatible", model_id="fake-model", base_url=fake.url
                )
            url = app.ws(f"/ws/agents/{agent_id}")
            async with connect(url) as socket:
                assert await _closed_with(socket) == 4408

            # Waiting for an answer is not idle: the whole answer comes, then the close.
            async with connect(url) as socket:
                events = await turn(socket, "take your time")
                assert events[-1]["type"] == "message" and events[-1]["content"] == "a b c d e"
                assert await _closed_with(socket) == 4408

            # Half a frame, then nothing: no complete message, closed as well.
            assert await _close_code_after_half_a_frame(app.url, agent_id, app.token) == 4408


async def _close_code_after_half_a_frame(base_url: str, agent_id: str, token: str) -> int:
    """Open a WebSocket by hand, send the first 10 bytes of a 100-byte frame, and return
    the code of the close frame the server sends."""
    host, port = base_url.removeprefix("http://").split(":")
    reader, writer = await asyncio.open_connection(host, int(port))
    try:
        key = base64.b64encode(os.urandom(16)).decode()
        writer.write((
            f"GET /ws/agents/{agent_id} HTTP/1.1\r\nHost: {host}:{port}\r\nUpgrade: websocket\r\n"
            f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n"
            f"Authorization: Bearer {token}\r\n\r\n"
        ).encode())
        async with asyncio.timeout(20):
            assert (await reader.readuntil(b"\r\n\r\n")).startswith(b"HTTP/1.1 101")
            writer.write(bytes([0x81, 0x80 | 100]) + os.urandom(4) + b"0123456789")  # masked text frame
            opcode, length = await reader.readexactly(2)
            assert opcode == 0x88, opcode  # a close frame (the server's frames are not masked)
            payload = await reader.readexactly(length & 0x7F)
        return int.from_bytes(payload[:2], "big")
    finally:
        writer.close()
