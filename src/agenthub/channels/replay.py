"""What a WebSocket client missed: the answers (and errors) of its chat after a message it
names, for ``/ws/agents/{id}?chat_id=...&after=<message id>``.

Answers come from the history table and, for those not stored yet (they reach it ~50 ms
after delivery) and for errors (never stored), from the gateway's recent outbound events
(:mod:`agenthub.channels.outbox`). A message of the chat still unanswered is expected by
the listener *before* the recent events are looked at: an answer delivered in between is
then either among them or handed to the listener, never neither.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from agenthub.bus import Payload
from agenthub.channels.fanout import Listener
from agenthub.channels.outbox import RecentOutbound
from agenthub.chats import service as chats_service
from agenthub.chats.models import ChatMessage
from agenthub.db.engine import SessionFactory
from agenthub.errors import NotFound

REPLAY_LIMIT = 500
"""Messages of a chat looked at for one replay at most (from the one named on)."""
FEED_LAG = 2.0
"""Seconds to wait for an answer a client names that neither the history nor this gateway
has seen yet (the gateway reads the outbound stream a moment after the client got it)."""


class UnknownMessage(NotFound):
    code = "unknown_message"


@dataclass
class Replay:
    events: list[Payload] = field(default_factory=list)
    """Outbound events (``message`` / ``error``) the client missed, in the chat's order."""
    waiting: list[str] = field(default_factory=list)
    """The chat's messages still unanswered: the listener expects their answers."""


async def missed(
    *,
    sessions: SessionFactory,
    recent: RecentOutbound,
    listener: Listener,
    org_id: str,
    agent_id: str,
    chat_id: str,
    after: str,
) -> Replay:
    """What came after message ``after`` of the chat; raises :class:`UnknownMessage` when
    the chat has no such message."""
    position = await _position(sessions, recent, org_id=org_id, agent_id=agent_id, chat_id=chat_id, after=after)
    async with sessions() as session:
        rows = await chats_service.messages_from(
            session, org_id=org_id, agent_id=agent_id, chat_id=chat_id, position=position, limit=REPLAY_LIMIT
        )
    answered = {row.reply_to for row in rows if row.role == "assistant"}
    unanswered = [row.message_id for row in rows if row.role == "user" and row.message_id not in answered]
    for message_id in unanswered:
        listener.expect(message_id, chat_id)
    replay = Replay()
    asked = {row.position: row.message_id for row in rows if row.role == "user"}
    # A scenario bot's messages of one turn share their answer's position: a client that
    # names the first of them still misses the others.
    named = next((index for index, row in enumerate(rows) if row.message_id == after and row.role == "assistant"), None)
    for index, row in enumerate(rows):
        if row.role == "assistant" and (row.position > position or (named is not None and index > named)):
            replay.events.append(_answer(row, chat_id, asked.get(row.position - 1)))
        elif row.role == "user" and row.message_id in unanswered:
            kept = recent.turn_to(agent_id, chat_id, row.message_id)
            if not kept:
                replay.waiting.append(row.message_id)
            else:
                replay.events.extend(kept)
                listener.answered(row.message_id)
    # A turn's messages partly stored (the history saver read the rest in its next batch)
    # come from the recent events first and from the history again: each is sent once.
    replay.events = _once(replay.events)
    return replay


def _once(events: list[Payload]) -> list[Payload]:
    """``events`` without the repeats of one message (by id), in order."""
    kept: list[Payload] = []
    seen: set[str] = set()
    for event in events:
        message_id = event.get("message_id")
        if message_id is not None and str(message_id) in seen:
            continue
        if message_id is not None:
            seen.add(str(message_id))
        kept.append(event)
    return kept


async def _position(
    sessions: SessionFactory, recent: RecentOutbound, *, org_id: str, agent_id: str, chat_id: str, after: str
) -> int:
    where = {"org_id": org_id, "agent_id": agent_id, "chat_id": chat_id}
    async with sessions() as session:
        position = await chats_service.position_of(session, message_id=after, **where)
    if position is not None:
        return position
    # An answer the client has and the history not yet: it stands right after its message.
    event = await recent.find(after, timeout=FEED_LAG)
    if event is not None and event.get("agent_id") == agent_id and event.get("chat_id") == chat_id:
        async with sessions() as session:
            asked = await chats_service.position_of(session, message_id=str(event.get("reply_to")), **where)
            position = await chats_service.position_of(session, message_id=after, **where)
        if position is None and asked is not None:
            position = asked + 1
    if position is None:
        raise UnknownMessage(f"chat {chat_id!r} of agent {agent_id!r} has no message {after!r}")
    return position


def _answer(row: ChatMessage, chat_id: str, asked: str | None) -> Payload:
    """A stored answer as the live ``message`` event was: with its buttons and files, and
    ``stopped`` when it was stopped on request; a
    message sent before the answer (stored without ``reply_to``, see ``runtime.turns``)
    answers the user's message right before it and is marked ``more``."""
    event: Payload = {
        "type": "message",
        "message_id": row.message_id,
        "reply_to": row.reply_to or asked,
        "chat_id": chat_id,
        "response": row.content,
        "channel": row.channel,
        "usage": None,
    }
    if row.reply_to is None:
        event["more"] = True
    if row.widget:
        event["widget"] = row.widget
    if row.attachments:
        event["attachments"] = list(row.attachments)
    if row.stopped:
        event["stopped"] = True
    return event
