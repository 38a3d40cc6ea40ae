"""``agenthub chat`` when something is wrong: a refused line, bytes that are not text, an
agent id the server refuses, a password in ``--api-url``. Each is one line on standard
error and a non-zero exit code; a refused line does not end the chat."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from tests.cli.test_cli import agenthub, assert_readable_failure, logged_in
from tests.support.server import free_port, make_settings, running_app


def answered(text: str, number: int, said: str) -> bool:
    return f'You said: "{said}". That is message {number} of this chat.' in text


async def test_a_refused_line_is_reported_and_the_chat_goes_on(sqlite_url: str, tmp_path: Path) -> None:
    lines = b"first\n" + b"x" * 40_000 + b"\ncaf\xe9 \xff\nlast\n"
    async with running_app(make_settings(database_url=sqlite_url, demo_agent=True)) as app:
        await logged_in(app.url, tmp_path)
        result = await agenthub("chat", "demo", "--api-url", app.url, cwd=tmp_path, stdin=lines)
    assert result.returncode == 1, result
    assert "Traceback" not in result.stderr
    assert answered(result.text, 1, "first"), result
    assert answered(result.text, 2, "caf� �"), result  # the bytes that are not UTF-8 replaced
    assert answered(result.text, 3, "last"), result
    errors = result.stderr.strip().splitlines()
    assert errors == [
        "line 2 refused: invalid message: content: String should have at most 32000 characters",
        "line 3: bytes that are not utf-8 were replaced with �",
    ], result


async def test_every_line_accepted_exits_zero_even_with_replaced_bytes(sqlite_url: str, tmp_path: Path) -> None:
    async with running_app(make_settings(database_url=sqlite_url, demo_agent=True)) as app:
        await logged_in(app.url, tmp_path)
        result = await agenthub("chat", "demo", "--api-url", app.url, cwd=tmp_path, stdin=b"\xff\xfe\n")
    assert result.returncode == 0, result
    assert "surrogate" not in result.text
    assert answered(result.text, 1, "��"), result


async def test_an_agent_id_the_server_refuses_is_not_cannot_reach(sqlite_url: str, tmp_path: Path) -> None:
    async with running_app(make_settings(database_url=sqlite_url, demo_agent=True)) as app:
        await logged_in(app.url, tmp_path)
        bad_id, bad_path = await asyncio.gather(
            agenthub("chat", "BAD ID", "--api-url", app.url, cwd=tmp_path, stdin="hello\n"),
            agenthub("chat", "demo", "--api-url", f"{app.url}/a b", cwd=tmp_path, stdin="hello\n"),
        )
    assert_readable_failure(bad_id, "agent 'BAD ID' not found")
    assert bad_id.stderr.strip().splitlines() == ["error: agent 'BAD ID' not found"], bad_id
    assert_readable_failure(bad_path, "refused the chat with agent 'demo' (HTTP 400)", "the request is invalid")
    for result in (bad_id, bad_path):
        assert "Cannot reach" not in result.text


@asynccontextmanager
async def answering_404() -> AsyncIterator[str]:
    """An HTTP server on 127.0.0.1 that is not AgentHub: 404 for every request."""
    async def answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\r\n\r\n")
        writer.write(b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
        await writer.drain()
        writer.close()

    server = await asyncio.start_server(answer, "127.0.0.1", 0)
    try:
        yield f"http://127.0.0.1:{server.sockets[0].getsockname()[1]}"
    finally:
        server.close()
        await server.wait_closed()


async def test_a_404_handshake_says_what_it_means(tmp_path: Path) -> None:
    async with answering_404() as url:
        result = await agenthub("chat", "demo", "--api-url", url, cwd=tmp_path, stdin="hello\n")
    assert_readable_failure(result, "refused the chat with agent 'demo' (HTTP 404)", "no such agent")
    assert "Cannot reach" not in result.text


async def test_a_password_in_the_api_url_is_masked(tmp_path: Path) -> None:
    api = f"http://bob:pw999@127.0.0.1:{free_port()}"
    results = await asyncio.gather(
        agenthub("chat", "demo", "--api-url", api, cwd=tmp_path, stdin="hello\n"),
        agenthub("agents", "list", "--api-url", api, cwd=tmp_path),
        agenthub("agents", "list", "--api-url", "ftp://bob:pw999@127.0.0.1:1", cwd=tmp_path),
    )
    chat, listed, wrong_scheme = results
    assert_readable_failure(chat, "Cannot reach AgentHub at http://bob:***@127.0.0.1:")
    assert_readable_failure(listed, "Cannot reach AgentHub at http://bob:***@127.0.0.1:")
    assert_readable_failure(wrong_scheme, "Invalid --api-url ftp://bob:***@127.0.0.1:1")
    for result in results:
        assert "pw999" not in result.stdout + result.stderr, result
        assert len(result.stderr.strip().splitlines()) == 1, result


async def test_a_bad_chat_id_is_refused_before_anything_is_sent(tmp_path: Path) -> None:
    result = await agenthub(
        "chat", "demo", "--chat-id", "bad id!", "--api-url", "http://127.0.0.1:9", cwd=tmp_path, stdin="hello\n"
    )
    assert result.returncode == 2, result
    assert "Invalid --chat-id" in result.stderr and "Traceback" not in result.stderr
    assert "Cannot reach" not in result.text, "refused before connecting"
