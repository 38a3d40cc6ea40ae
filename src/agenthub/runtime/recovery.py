"""Answering after a restart the messages the last run of the server left unanswered.

A message stored and acknowledged to its sender, but not answered when the server stopped
(killed, crashed, or stopped while the answer took longer than the grace period), is taken
up at start-up, before the server takes new messages:

- in the embedded mode the agents' input streams lived in the server's memory: the message
  is in the database and nowhere else, so it is put on its agent's input again, in its
  chat's order, and its agent started;
- with Redis the message is still pending on its agent's input stream: nothing is put
  again, its agent is started (``Supervisor.ensure_running``; with several gateways the
  agent's lease makes sure one of them runs it) and answers it.

Each message is taken up once at most (``recovered_at`` is set when it is): a turn that
ended in an error is not stored, and its message would otherwise look unanswered at every
start. A message whose chat has a later answer (a turn that failed and was followed by
others) is left as it is, and so is one older than ``RECOVERY_WINDOW`` seconds.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import timedelta
from typing import Any

from agenthub.bus import Bus, keys
from agenthub.chats import service as chats_service
from agenthub.chats.models import ChatMessage
from agenthub.chats.service import PUSH_PREFIX
from agenthub.db.base import utcnow
from agenthub.db.engine import SessionFactory, session_scope
from agenthub.errors import AgentFailed, NotFound
from agenthub.runtime.supervisor import Supervisor

log = logging.getLogger(__name__)

MAX_RECOVERED = 10_000
"""At most this many messages are taken up at one start (the oldest first)."""
ADDED_MARKER_TTL = 120.0


def envelope(message: ChatMessage) -> dict[str, Any]:
    """The inbound bus message for a stored user message, with the files it came with (its
    ``user_data`` was never stored, so it comes back empty)."""
    rebuilt: dict[str, Any] = {
        "message_id": message.message_id,
        "agent_id": message.agent_id,
        "chat_id": message.chat_id,
        "text": message.content,
        "platform_user_id": message.platform_user_id,
        "user_data": {},
        "channel": message.channel,
        "position": message.position,
    }
    if message.attachments:
        rebuilt["attachments"] = list(message.attachments)
    return rebuilt


class UnansweredRecovery:
    """``requeue``: put the messages on their agents' inputs again (the embedded mode, whose
    bus lost them); otherwise only start their agents."""

    def __init__(
        self, *, bus: Bus, session_factory: SessionFactory, supervisor: Supervisor, window: float, requeue: bool
    ) -> None:
        self._bus = bus
        self._sessions = session_factory
        self._supervisor = supervisor
        self._window = window
        self._requeue_messages = requeue

    async def run(self) -> int:
        """Take up every unanswered message not taken up before; returns how many."""
        if self._window <= 0:
            return 0
        since = utcnow() - timedelta(seconds=self._window)
        async with session_scope(self._sessions) as session:
            messages = await chats_service.unanswered_since(session, since, limit=MAX_RECOVERED)
            claimed = await chats_service.mark_recovered(session, [m.message_id for m in messages])
        recovered = 0
        for agent_id, of_agent in _by_agent([m for m in messages if m.message_id in claimed]).items():
            recovered += await self._take_up(agent_id, of_agent)
        if recovered:
            log.info("answering messages left unanswered when the server stopped", extra={"count": recovered})
        return recovered

    async def _take_up(self, agent_id: str, messages: Sequence[ChatMessage]) -> int:
        try:
            await self._supervisor.ensure_running(agent_id)
        except NotFound:  # deleted since: its messages will not be answered
            return 0
        except AgentFailed as error:  # kept failing: it answers once it is started again
            log.warning("not starting an agent that kept failing: %s", error, extra={"agent_id": agent_id})
            return 0
        if not self._requeue_messages:
            return len(messages)
        batch = self._bus.batch()
        for message in messages:
            if message.message_id.startswith(PUSH_PREFIX):
                continue  # a pushed move: without its envelope's server fields it would be a user's empty message
            batch.add_once(
                keys.agent_input(agent_id), envelope(message),
                key=keys.agent_input_added(agent_id, message.message_id), ttl=ADDED_MARKER_TTL,
            )
        await batch.execute()
        return len(messages)


def _by_agent(messages: Sequence[ChatMessage]) -> dict[str, list[ChatMessage]]:
    grouped: dict[str, list[ChatMessage]] = {}
    for message in messages:
        grouped.setdefault(message.agent_id, []).append(message)
    return grouped
