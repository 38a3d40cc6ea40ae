"""The terminal chat behind ``agenthub chat``: a WebSocket client that streams answers.

Each line of standard input is one message. A line the server refuses (too long, say) is
reported on standard error with its number and the chat goes on; the exit code is then 1.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import sys
import threading
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import quote

from rich.console import Console
from rich.markup import escape
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

HANDSHAKE_REFUSALS = {
    400: "the request is invalid: check the agent id and --api-url",
    403: "refused: the origin is not allowed (ALLOWED_ORIGINS), or --api-url is not AgentHub's address",
    404: "no such agent, or --api-url is not AgentHub's address",
}
"""What an HTTP status answering the WebSocket handshake means: the server was reached."""

UNAUTHORIZED_CLOSE = 4401
"""The server's close code for missing or refused credentials."""
NOT_LOGGED_IN = "Not logged in: run `agenthub login`"

CLOSE_WAIT = 0.3
"""Seconds to wait, after an error that answers a line, for the server to close: it closes
at once when the whole session is refused (an unknown agent), never for one bad line."""


def chat_url(api_url: str, agent_id: str) -> str:
    """The WebSocket address of ``agent_id``'s chat; the id is quoted, spaces and all."""
    for plain, secure in (("http://", "ws://"), ("https://", "wss://")):
        if api_url.startswith(plain):
            api_url = secure + api_url[len(plain):]
    return f"{api_url}/ws/agents/{quote(agent_id, safe='')}"


@dataclass
class _Line:
    text: str
    replaced: bool  # bytes that were not valid in the input's encoding became U+FFFD


@dataclass
class _Answer:
    chat_id: str | None = None
    refused: str | None = None  # the server's reason when it did not accept the line
    streamed: bool = False  # part of the answer is on the screen, its line not ended yet


CLOSE_MEANINGS = {
    1001: "the server is going away",
    1011: "the server failed",
    1012: "the server is restarting",
    1013: "the server is overloaded or a service it needs is down; try again later",
}
"""What a close code the server sends means to the person chatting."""


def _in_daemon_thread(read: Callable[[], bytes]) -> asyncio.Future[bytes]:
    """``read()`` in a daemon thread: Ctrl-C ends the chat at once, where a thread of the
    event loop's executor, blocked in a read, would keep the process until the user
    pressed Enter."""
    loop = asyncio.get_running_loop()
    future: asyncio.Future[bytes] = loop.create_future()

    def settle(outcome: bytes | BaseException) -> None:
        if future.done():
            return
        if isinstance(outcome, BaseException):
            future.set_exception(outcome)
        else:
            future.set_result(outcome)

    def run() -> None:
        try:
            outcome: bytes | BaseException = read()
        except Exception as error:  # noqa: BLE001 - handed to the reader
            outcome = error
        with contextlib.suppress(RuntimeError):  # the loop has closed: nobody waits anymore
            loop.call_soon_threadsafe(settle, outcome)

    threading.Thread(target=run, name="stdin-reader", daemon=True).start()
    return future


class _StdinLines:
    """Lines of standard input, read from its file descriptor: ``sys.stdin``'s buffer holds
    a lock while it reads, which a thread left blocked in it at exit turns into an abort."""

    def __init__(self) -> None:
        self._fd = sys.stdin.fileno()
        self._buffer = b""
        self._ended = False

    async def readline(self) -> bytes:
        while b"\n" not in self._buffer and not self._ended:
            chunk = await _in_daemon_thread(lambda: os.read(self._fd, 65536))
            self._ended = not chunk
            self._buffer += chunk
        line, newline, self._buffer = self._buffer.partition(b"\n")
        return line + newline


async def _read_line(lines: _StdinLines, interactive: bool, console: Console) -> _Line | None:
    if interactive:
        console.print("[bold cyan]you>[/bold cyan] ", end="")
    raw = await lines.readline()
    if raw == b"":
        return None
    encoding = sys.stdin.encoding or "utf-8"
    try:
        text, replaced = raw.decode(encoding), False
    except UnicodeDecodeError:
        text, replaced = raw.decode(encoding, errors="replace"), True
    return _Line(text.rstrip("\n"), replaced)


async def run_terminal_chat(
    url: str, *, chat_id: str | None, console: Console, errors: Console | None = None,
    headers: dict[str, str] | None = None,
) -> int:
    """Chat until standard input ends: 0, or 1 when a line was refused or the session ended
    early. Answers go to ``console``, what went wrong to ``errors`` (standard error).
    ``headers``: sent with the handshake (``Authorization``)."""
    errors = errors or Console(stderr=True, soft_wrap=True)
    interactive = sys.stdin.isatty()
    encoding = sys.stdin.encoding or "utf-8"
    refused = False
    lines = _StdinLines()
    # close_timeout: leaving (Ctrl-C) waits at most that long for the server's goodbye.
    async with connect(
        url, open_timeout=10, close_timeout=1, max_size=2**22, additional_headers=headers or None
    ) as socket:
        if interactive:
            console.print(f"Connected to {escape(url)}. Type a message; Ctrl-D to quit.")
        number = 0
        while True:
            line = await _read_line(lines, interactive, console)
            if line is None:
                return 1 if refused else 0
            number += 1
            if line.replaced:
                errors.print(
                    f"[yellow]line {number}: bytes that are not {encoding} were replaced with �[/yellow]"
                )
            if not line.text.strip():
                continue
            message = {"type": "message", "content": line.text}
            if chat_id:
                message["chat_id"] = chat_id
            answer = _Answer(chat_id=chat_id)
            try:
                await socket.send(json.dumps(message))
                await _receive_answer(socket, console, errors, answer, announce=chat_id is None)
                if answer.refused is not None and await _closing(socket):
                    said = NOT_LOGGED_IN if socket.close_code == UNAUTHORIZED_CLOSE else f"error: {answer.refused}"
                    errors.print(f"[red]{escape(said)}[/red]")
                    return 1
            except ConnectionClosed as closed:
                if answer.streamed:
                    console.print()  # the partial answer's line ends; what happened goes below
                await _report_closed(socket, closed, errors, chat_id=answer.chat_id)
                return 1
            if answer.refused is not None:
                errors.print(f"[red]line {number} refused: {escape(answer.refused)}[/red]")
                refused = True
            chat_id = chat_id or answer.chat_id


async def _closing(socket) -> bool:  # type: ignore[no-untyped-def]
    try:
        await asyncio.wait_for(socket.wait_closed(), CLOSE_WAIT)
    except TimeoutError:
        return False
    return True


async def _report_closed(  # type: ignore[no-untyped-def]
    socket, closed: ConnectionClosed, errors: Console, *, chat_id: str | None
) -> None:
    """Say why the server closed the connection: the error it sent before closing (an
    unknown agent, say), else what its close code means; and, once the chat has an id,
    how to go on with it. Refused credentials: the one line that says what to do."""
    if closed.rcvd is not None and closed.rcvd.code == UNAUTHORIZED_CLOSE:
        errors.print(f"[red]{escape(NOT_LOGGED_IN)}[/red]")
        return
    said = False
    while True:
        try:
            event = json.loads(await asyncio.wait_for(socket.recv(), 1.0))
        except (ConnectionClosed, TimeoutError, ValueError):
            break
        if isinstance(event, dict) and event.get("type") == "error":
            errors.print(f"[red]error: {escape(str(event.get('message')))}[/red]")
            said = True
    if not said:
        errors.print(f"[red]{escape(_closed_because(closed))}[/red]")
    if chat_id:
        errors.print(
            f"The message is kept and will be answered once the server is back; "
            f"go on with this chat with --chat-id {escape(chat_id)}"
        )


def _closed_because(closed: ConnectionClosed) -> str:
    if closed.rcvd is None:
        return "the connection to the server was lost (no close frame)"
    code, reason = closed.rcvd.code, closed.rcvd.reason
    meaning = CLOSE_MEANINGS.get(code) or reason or "no reason given"
    return f"the server closed the connection ({code}: {meaning})"


async def _receive_answer(  # type: ignore[no-untyped-def]
    socket, console: Console, errors: Console, answer: _Answer, *, announce: bool
) -> None:
    """Print one answer as it streams, into ``answer`` what is known of it. An error
    before the server said "received" means it refused the line; one after it is the
    agent's turn failing. ``announce``: say the chat's id as soon as the server names it."""
    received = False
    while True:
        event = json.loads(await socket.recv())
        kind = event.get("type")
        if kind == "status":
            received = True
            if event.get("message") == "received":
                if announce and event.get("chat_id") and answer.chat_id is None:
                    answer.chat_id = str(event["chat_id"])
                    console.print(f"[dim](chat {escape(answer.chat_id)}: continue it with --chat-id "
                                  f"{escape(answer.chat_id)})[/dim]")
            else:
                if answer.streamed:
                    console.print()
                    answer.streamed = False
                console.print(f"[dim]({escape(str(event.get('message')))})[/dim]")
        elif kind == "chunk":
            if not answer.streamed:
                console.print("[bold green]agent>[/bold green] ", end="")
                answer.streamed = True
            console.print(event.get("content", ""), end="", markup=False, highlight=False)
        elif kind == "message":
            if not answer.streamed:
                console.print("[bold green]agent>[/bold green] ", end="")
                console.print(event.get("content", ""), markup=False, highlight=False)
            else:
                console.print()
            answer.streamed = False
            answer.chat_id = answer.chat_id or event.get("message_object", {}).get("chat_id")
            if event.get("more"):
                continue  # more messages answer the same one (a scenario bot's steps)
            return
        elif kind == "error":
            if answer.streamed:
                console.print()
            answer.streamed = False
            if not received:
                answer.refused = str(event.get("message"))
            else:
                errors.print(f"[red]error: {escape(str(event.get('message')))}[/red]")
            return
