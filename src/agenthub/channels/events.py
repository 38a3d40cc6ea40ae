"""What a client receives for each output event of an agent, on the WebSocket and as SSE.

The events the protocol names (``chunk``, ``status``, ``message``, ``error``) are shaped as
the README documents them. Any other type an engine emits (a tool call, a widget) passes
through unchanged, fields and all: a new kind of event needs no change here, and a client
that does not know it can ignore it.
"""

from __future__ import annotations

from typing import Any

import orjson
from starlette.websockets import WebSocket

from agenthub.files.service import download_path

AGENT_ERROR = "agent_error"
"""The code of an error event an engine sent without one of its own."""

FINAL_TYPES = frozenset({"message", "error"})
KNOWN_TYPES = frozenset({"chunk", "status", "message", "error"})
ANSWER_EXTRAS = ("tool_calls", "citations")
"""What an answer carries beside its text when there is any (in ``message_object`` on the WebSocket)."""
SHOWN_WITH = ("widget", "attachments", "more", "stopped")
"""What a message carries for the client to show or act on, where it has any: buttons
(``widget``), file ids, and ``more: true`` on each message of a turn but the last (a
scenario bot's steps): a client waits on for the last one; ``stopped: true`` on an answer
stopped on request (its text is what had been written)."""


def shown_with(event: dict[str, Any]) -> dict[str, Any]:
    """What of :data:`SHOWN_WITH` the event has; attachments (file ids on the bus) as
    ``{"file_id", "download_path"}``: the path downloads it with the client's credentials."""
    shown = {key: event[key] for key in SHOWN_WITH if event.get(key)}
    if "attachments" in shown:
        shown["attachments"] = [
            {"file_id": str(file_id), "download_path": download_path(str(file_id))} for file_id in shown["attachments"]
        ]
    return shown


def is_final(event: dict[str, Any]) -> bool:
    """Whether ``event`` ends the answer to its message: an error, or a message not marked ``more``."""
    kind = event.get("type")
    return kind == "error" or (kind == "message" and not event.get("more"))


def error_event(code: str, message: str, **extra: Any) -> dict[str, Any]:
    """An ``error`` event of the gateway's own (the message refused, the agent unknown)."""
    return {"type": "error", "code": code, "message": message, **extra}


def _status(event: dict[str, Any]) -> dict[str, Any]:
    """A status about a message names its chat, and the message where there is one."""
    shown = {"message": event.get("message", ""), "chat_id": event.get("chat_id")}
    if event.get("reply_to"):
        shown["reply_to"] = event["reply_to"]
    return shown


def for_websocket(event: dict[str, Any]) -> dict[str, Any]:
    """The WebSocket frame for one output event."""
    kind = event.get("type")
    chat_id = event.get("chat_id")
    if kind == "chunk":
        return {"type": "chunk", "content": event.get("content", ""), "chat_id": chat_id}
    if kind == "status":
        return {"type": "status", **_status(event)}
    if kind == "message":
        return {
            "type": "message",
            "content": event.get("response", ""),
            "chat_id": chat_id,
            "message_object": {
                "message_id": event.get("message_id"),
                "reply_to": event.get("reply_to"),
                "chat_id": chat_id,
                "channel": event.get("channel"),
                "usage": event.get("usage"),
                **{key: event[key] for key in ANSWER_EXTRAS if event.get(key)},
            },
            **shown_with(event),
        }
    if kind == "error":
        return error_event(
            str(event.get("code") or AGENT_ERROR), str(event.get("response", "error")),
            chat_id=chat_id, reply_to=event.get("reply_to"),
        )
    return dict(event)


def for_sse(event: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    """The SSE events (name, data) for one output event; the data of a passed-through
    event is all its fields but ``type``, which names the event."""
    kind = event.get("type")
    if kind == "chunk":
        return [("chunk", {"content": event.get("content", "")})]
    if kind == "status":
        return [("status", _status(event))]
    if kind == "message":
        return [
            ("message", {
                "message_id": event.get("message_id"),
                "reply_to": event.get("reply_to"),
                "chat_id": event.get("chat_id"),
                "content": event.get("response", ""),
                **{key: event[key] for key in ANSWER_EXTRAS if event.get(key)},
                **shown_with(event),
            }),
            *([] if event.get("more") else [("usage", event.get("usage") or {})]),
        ]
    if kind == "error":
        return [("error", {"code": str(event.get("code") or AGENT_ERROR), "message": event.get("response", "error")})]
    return [(str(kind), {key: value for key, value in event.items() if key != "type"})]


async def send(websocket: WebSocket, event: dict[str, Any]) -> None:
    """Send ``event`` as a text frame of JSON (orjson: as Starlette's ``send_json`` writes
    it, UTF-8 and compact, in a fraction of the time; an event passes here for every
    message of every chat)."""
    await websocket.send_text(orjson.dumps(event).decode())

