"""The SSE response (channels/event_stream.py) under a real uvicorn: events go out as they
come, and what a stream holds is let go however it ends (finished, the client gone, the
stream failed)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator, AsyncIterator
from contextlib import asynccontextmanager

import httpx
import pytest
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.routing import Route

from agenthub.channels.event_stream import KEEPALIVE, EventStream, encode_event
from tests.support.server import free_port
from tests.support.sse import parse_sse


class Stream:
    """One response's events, fed by the test, and what the response did with them."""

    def __init__(self) -> None:
        self.pieces: asyncio.Queue[bytes | None] = asyncio.Queue()
        self.ended = asyncio.Event()
        self.closed = asyncio.Event()
        self.close_calls = 0

    async def events(self) -> AsyncGenerator[bytes, None]:
        try:
            while (piece := await self.pieces.get()) is not None:
                if piece == b"fail":
                    raise RuntimeError("the stream failed")
                yield piece
        finally:
            self.ended.set()

    async def on_close(self) -> None:
        self.close_calls += 1
        self.closed.set()


@asynccontextmanager
async def serving(stream: Stream) -> AsyncIterator[str]:
    async def endpoint(_request: Request) -> EventStream:
        return EventStream(stream.events(), headers={"X-Chat-Id": "c-1"}, on_close=stream.on_close)

    port = free_port()
    server = uvicorn.Server(uvicorn.Config(
        Starlette(routes=[Route("/events", endpoint, methods=["POST"])]), host="127.0.0.1", port=port,
        log_level="critical",
    ))
    task = asyncio.create_task(server.serve())
    while not server.started:
        assert not task.done(), "the server stopped during start-up"
        await asyncio.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}/events"
    finally:
        server.should_exit = True
        await asyncio.wait_for(task, 30)


async def test_events_go_out_as_they_come_then_the_response_ends() -> None:
    stream = Stream()
    async with serving(stream) as url, httpx.AsyncClient(timeout=20) as client:
        async with client.stream("POST", url) as response:
            assert response.status_code == 200
            assert response.headers["content-type"] == "text/event-stream; charset=utf-8"
            assert response.headers["cache-control"] == "no-cache"
            assert response.headers["x-accel-buffering"] == "no"
            assert response.headers["x-chat-id"] == "c-1"
            assert "content-length" not in response.headers
            lines = response.aiter_lines()
            await stream.pieces.put(encode_event("chunk", {"content": "Grüße\nzwei Zeilen"}))
            assert [await anext(lines), await anext(lines)] == ["event: chunk", r'data: {"content":"Grüße\nzwei Zeilen"}']
            await stream.pieces.put(KEEPALIVE)
            await stream.pieces.put(encode_event("done", {"chat_id": "c-1"}))
            await stream.pieces.put(None)
            rest = "\n".join([line async for line in lines])
    assert ": ping" in rest.splitlines()
    assert parse_sse(rest) == [("done", {"chat_id": "c-1"})]
    await asyncio.wait_for(stream.closed.wait(), 10)
    assert stream.ended.is_set() and stream.close_calls == 1


async def test_a_client_that_goes_away_ends_the_stream_at_once() -> None:
    stream = Stream()
    async with serving(stream) as url, httpx.AsyncClient(timeout=20) as client:
        async with client.stream("POST", url) as response:
            await stream.pieces.put(encode_event("status", {"message": "received"}))
            assert await anext(response.aiter_lines()) == "event: status"
        # The client hung up while the stream waited for its next event.
        await asyncio.wait_for(stream.closed.wait(), 10)
        assert stream.ended.is_set() and stream.close_calls == 1


@pytest.mark.parametrize("when", ["first", "later"], ids=["before-any-event", "mid-stream"])
async def test_a_failing_stream_is_cut_and_still_let_go(when: str) -> None:
    stream = Stream()
    async with serving(stream) as url, httpx.AsyncClient(timeout=20) as client:
        if when == "later":
            await stream.pieces.put(encode_event("chunk", {"content": "a"}))
        await stream.pieces.put(b"fail")
        with pytest.raises(httpx.RemoteProtocolError):  # the response ends without its last chunk
            async with client.stream("POST", url) as response:
                assert response.status_code == 200
                _ = [line async for line in response.aiter_lines()]
        await asyncio.wait_for(stream.closed.wait(), 10)
        assert stream.close_calls == 1
