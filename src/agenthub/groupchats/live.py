"""Live events of a group chat, published on the bus (``group_chat:{id}:events``, pub/sub)
after what they tell is committed; every gateway holding a member's socket
(``/ws/group-chats/{id}``) passes them on.

- ``{"type": "message", "group_chat_id", "message": {...}}``: a new message (a person's, or
  a role's answer);
- ``{"type": "message_updated", "group_chat_id", "message": {...}}``: an answer reviewed
  (approved, edited), or a question whose role mention was answered or failed;
- ``{"type": "message_removed", "group_chat_id", "message_id"}``: an answer rejected;
- ``{"type": "group_chat_updated", "group_chat_id", "group_chat": {...}}``: renamed, its agent
  changed, members added or removed (the chat as ``GET`` reads it);
- ``{"type": "member_removed", "group_chat_id", "user_id"}``: a member left or was removed
  (their own sockets are closed after it, code 4404);
- ``{"type": "group_chat_deleted", "group_chat_id"}``: the chat is gone (every socket closes, 4404).

Pub/sub is fire and forget: a member who was not connected reads the messages with
``GET /api/v1/group-chats/{id}/messages``. A bus that is down loses the event, not the message.
"""

from __future__ import annotations

import logging
from typing import Any

from agenthub.bus import Bus, keys
from agenthub.groupchats.schemas import GroupChatRead, MessageRead

log = logging.getLogger(__name__)


def message_event(kind: str, message: MessageRead) -> dict[str, Any]:
    return {"type": kind, "group_chat_id": message.group_chat_id, "message": message.model_dump(mode="json")}


def removed_event(group_chat_id: str, message_id: str) -> dict[str, Any]:
    return {"type": "message_removed", "group_chat_id": group_chat_id, "message_id": message_id}


def updated_event(chat: GroupChatRead) -> dict[str, Any]:
    return {"type": "group_chat_updated", "group_chat_id": chat.id, "group_chat": chat.model_dump(mode="json")}


def member_removed_event(group_chat_id: str, user_id: str) -> dict[str, Any]:
    return {"type": "member_removed", "group_chat_id": group_chat_id, "user_id": user_id}


def deleted_event(group_chat_id: str) -> dict[str, Any]:
    return {"type": "group_chat_deleted", "group_chat_id": group_chat_id}


def ends_membership(event: dict[str, Any], user_id: str | None) -> bool:
    """Whether ``event`` means ``user_id`` may no longer follow the chat."""
    kind = event.get("type")
    return kind == "group_chat_deleted" or (kind == "member_removed" and event.get("user_id") == user_id)


async def publish(bus: Bus, event: dict[str, Any]) -> None:
    """Tell the members who are connected; a bus that fails is logged, not raised (the
    change is stored already)."""
    try:
        await bus.publish(keys.group_chat_events(event["group_chat_id"]), event)
    except Exception as error:  # noqa: BLE001 - the message is stored; only the live copy is lost
        log.warning("group chat event not published: %s", type(error).__name__,
                    extra={"group_chat_id": event["group_chat_id"]})
