"""The terminal chat behind ``agenthub chat``: a WebSocket client that streams answers."""

from __future__ import annotations

import asyncio
import json
import sys

from rich.console import Console
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed


async def _read_line(interactive: bool, console: Console) -> str | None:
    if interactive:
        console.print("[bold cyan]you>[/bold cyan] ", end="")
    line = await asyncio.to_thread(sys.stdin.readline)
    return None if line == "" else line.rstrip("\n")


async def run_terminal_chat(url: str, *, chat_id: str | None, console: Console) -> int:
    interactive = sys.stdin.isatty()
    async with connect(url, open_timeout=10, max_size=2**22) as socket:
        if interactive:
            console.print(f"Connected to {url}. Type a message; Ctrl-D to quit.")
        while True:
            line = await _read_line(interactive, console)
            if line is None:
                return 0
            if not line.strip():
                continue
            message = {"type": "message", "content": line}
            if chat_id:
                message["chat_id"] = chat_id
            try:
                await socket.send(json.dumps(message))
                outcome = await _receive_answer(socket, console)
            except ConnectionClosed as closed:
                await _report_closed(socket, closed, console)
                return 1
            if outcome is None:
                return 1
            if chat_id is None:
                chat_id = outcome
                console.print(f"[dim](chat {chat_id}: continue it with --chat-id {chat_id})[/dim]")


async def _report_closed(socket, closed: ConnectionClosed, console: Console) -> None:  # type: ignore[no-untyped-def]
    """Say why the server closed the connection: the error it sent before closing (an
    unknown agent, say), else the close reason or code."""
    said = False
    while True:
        try:
            event = json.loads(await asyncio.wait_for(socket.recv(), 1.0))
        except (ConnectionClosed, TimeoutError, ValueError):
            break
        if isinstance(event, dict) and event.get("type") == "error":
            console.print(f"[red]error: {event.get('message')}[/red]")
            said = True
    if not said:
        why = (closed.rcvd.reason or closed.rcvd.code) if closed.rcvd else "no close frame"
        console.print(f"[red]connection closed: {why}[/red]", markup=True)


async def _receive_answer(socket, console: Console) -> str | None:  # type: ignore[no-untyped-def]
    """Print one answer as it streams; returns the chat id, or None after an error that
    ends the session (unknown agent)."""
    chat_id: str | None = None
    streamed = False
    while True:
        event = json.loads(await socket.recv())
        kind = event.get("type")
        if kind == "status":
            chat_id = event.get("chat_id") or chat_id
            if event.get("message") != "received":
                console.print(f"[dim]({event.get('message')})[/dim]")
        elif kind == "chunk":
            if not streamed:
                console.print("[bold green]agent>[/bold green] ", end="")
                streamed = True
            console.print(event.get("content", ""), end="", markup=False, highlight=False)
        elif kind == "message":
            if not streamed:
                console.print("[bold green]agent>[/bold green] ", end="")
                console.print(event.get("content", ""), markup=False, highlight=False)
            else:
                console.print()
            return chat_id or event.get("message_object", {}).get("chat_id")
        elif kind == "error":
            if streamed:
                console.print()
            console.print(f"[red]error: {event.get('message')}[/red]")
            return chat_id
