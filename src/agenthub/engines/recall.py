"""The conversation of an agent with long-term memory, within its context budget.

The turns of a chat after its latest summary go into the context as they are while they fit
in ``context_budget_tokens`` (about four characters a token). When they outgrow it, the
older ones are summarised by the agent's model (one call, with the previous summary) into a
new summary kept in ``conversation_summaries``; it stands ahead of the recent turns. The
summarised turns stay in the chat's history, found by ``conversation_search``. A summary
that cannot be made (the model fails) leaves the turns as they are: nothing is dropped.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass

from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, SystemMessage
from langchain_core.messages.ai import UsageMetadata

from agenthub.bus import Bus
from agenthub.chats import context as chat_context
from agenthub.chats.context import Turn
from agenthub.db.engine import SessionFactory, session_scope
from agenthub.memory import service as memory_service

log = logging.getLogger(__name__)

CHARS_PER_TOKEN = 4
DEFAULT_BUDGET_TOKENS = 8000
RECENT_SHARE = 0.5
"""The part of the budget the recent turns keep when older ones are summarised."""
MAX_TURNS = 5000
"""Messages after the latest summary read at most (a budget holds far fewer)."""
SUMMARY_HEADING = "Summary of the earlier part of this conversation (its messages: conversation_search):"
SUMMARISE = (
    "Summarise this conversation between a user and an assistant for the assistant's own memory: the facts "
    "learnt about the user, what was asked and answered, decisions and open questions. Keep names, numbers and "
    "dates exactly. Write plain prose, at most a few paragraphs; start from the earlier summary if there is one."
)


@dataclass
class Recalled:
    messages: list[BaseMessage]
    """The summary (if any) as a system message, then the recent turns."""
    usage: UsageMetadata | None = None
    """What making a new summary cost (billed with the turn), None when none was made."""


def _chars(turns: Sequence[Turn]) -> int:
    return sum(len(turn.content) for turn in turns)


def _split(turns: Sequence[Turn], keep_chars: int) -> int:
    """Where the recent turns start: as many of the last ones as fit in ``keep_chars``
    (the last one at least), beginning with a user's message when possible."""
    start, used = len(turns), 0
    while start > 0 and (start == len(turns) or used + len(turns[start - 1].content) <= keep_chars):
        start -= 1
        used += len(turns[start].content)
    while 0 < start < len(turns) - 1 and turns[start].role != "user":
        start += 1
    return start


def _transcript(summary: str, turns: Sequence[Turn]) -> str:
    said = "\n".join(f"{'User' if t.role == 'user' else 'Assistant'}: {t.content}" for t in turns)
    return f"Earlier summary:\n{summary}\n\nConversation:\n{said}" if summary else said


async def _summarise(model: BaseChatModel, summary: str, turns: Sequence[Turn]) -> tuple[str | None, UsageMetadata | None]:
    try:
        answer = await model.ainvoke([SystemMessage(content=SUMMARISE), HumanMessage(content=_transcript(summary, turns))])
    except Exception as error:  # noqa: BLE001 - the turns stay in the context instead
        log.warning("summarising a conversation failed (%s): its turns are kept as they are", type(error).__name__)
        return None, None
    text = answer.content if isinstance(answer.content, str) else str(answer.content)
    return text.strip() or None, getattr(answer, "usage_metadata", None)


async def conversation(
    *, sessions: SessionFactory, bus: Bus | None, agent_id: str, chat_id: str, position: int, budget_tokens: int,
    model: BaseChatModel,
) -> Recalled:
    """The chat before ``position`` as the agent's context: its summary (if any) as a system
    message, then the recent turns, within ``budget_tokens``."""
    async with sessions() as session:
        latest = await memory_service.latest_summary(session, agent_id=agent_id, chat_id=chat_id, before=position)
    summary = latest.content if latest else ""
    turns = await chat_context.conversation_before(
        bus=bus, sessions=sessions, agent_id=agent_id, chat_id=chat_id, position=position, limit=MAX_TURNS,
        after=latest.up_to_position if latest else -1,
    )
    budget = budget_tokens * CHARS_PER_TOKEN
    usage: UsageMetadata | None = None
    if len(summary) + _chars(turns) > budget and len(turns) > 1:
        start = _split(turns, int(budget * RECENT_SHARE))
        older = turns[:start]
        made, usage = await _summarise(model, summary, older) if older else (None, None)
        if made is not None:
            async with session_scope(sessions) as session:
                await memory_service.save_summary(
                    session, agent_id=agent_id, chat_id=chat_id, up_to_position=older[-1].position, content=made,
                )
            summary, turns = made, turns[start:]
    messages: list[BaseMessage] = [SystemMessage(content=f"{SUMMARY_HEADING}\n{summary}")] if summary else []
    messages += [
        HumanMessage(content=turn.content) if turn.role == "user" else AIMessage(content=turn.content)
        for turn in turns
    ]
    return Recalled(messages, usage)
