"""The conversation a host rebuilds for a chat it has nothing of in memory.

The users' messages are in the database before they are answered, but an answer reaches
the database later, through the history queue: a host that takes an agent on (after a
restart, a crash, a move) while the last answers are still queued would otherwise see a
chat's questions without their answers. Each answer is also in its reply marker on the bus
from the moment it is delivered (see :mod:`agenthub.runtime.turns`): what the database
does not have yet is taken from there, right after its question.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from agenthub.bus import Bus, keys
from agenthub.chats import service as chats_service
from agenthub.chats.models import ChatMessage
from agenthub.db.engine import SessionFactory
from agenthub.files import service as files_service


@dataclass(frozen=True, slots=True)
class Turn:
    role: str  # "user" | "assistant"
    content: str
    position: int = 0


async def conversation_before(
    *, bus: Bus | None, sessions: SessionFactory, agent_id: str, chat_id: str, position: int, limit: int,
    after: int = -1,
) -> list[Turn]:
    """The last ``limit`` messages of the chat before ``position``, oldest first, every
    question followed by its answer where it has one (stored, or still on its way: read
    from its reply marker on ``bus``, when one is given). Only messages after position
    ``after`` (those a summary does not cover)."""
    async with sessions() as session:
        rows = await chats_service.context_before(
            session, agent_id=agent_id, chat_id=chat_id, position=position, limit=limit, after=after
        )
        # A user's files are told to the model; a bot's (stored alike) are only shown to the user.
        told = {
            row.message_id: await _told(session, row) for row in rows if row.role == "user" and row.attachments
        }
    if bus is None:
        return [Turn(row.role, told.get(row.message_id, row.content), row.position) for row in rows]
    unanswered = _unanswered(rows)
    markers = await bus.get_many([keys.agent_reply(agent_id, row.message_id) for row in unanswered])
    answers = {
        row.message_id: str(marker["outbound"].get("response", ""))
        for row, marker in zip(unanswered, markers, strict=True)
        if marker is not None and isinstance(marker.get("outbound"), dict)
    }
    turns: list[Turn] = []
    for row in rows:
        turns.append(Turn(row.role, told.get(row.message_id, row.content), row.position))
        if row.message_id in answers:
            turns.append(Turn("assistant", answers[row.message_id], row.position + 1))
    return turns[-limit:]


async def _told(session: AsyncSession, row: ChatMessage) -> str:
    """A user's message with the files sent with it, as the model was told it (see
    :func:`agenthub.files.service.mentions`)."""
    lines = await files_service.mentions(session, org_id=None, file_ids=row.attachments or [])
    return "\n".join([row.content, *lines]) if row.content else "\n".join(lines)


def _unanswered(rows: Sequence[ChatMessage]) -> list[ChatMessage]:
    answered = {row.reply_to for row in rows if row.role == "assistant"}
    return [row for row in rows if row.role == "user" and row.message_id not in answered]
