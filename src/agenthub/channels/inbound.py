"""Inbound messages are stored and put on their agents' input streams in groups.

Each message must be stored before it is acknowledged to its sender, and must have reached
the bus before its transaction commits, so a bus that is down leaves nothing stored that
no agent will ever see. One message at a time, that is a transaction and a bus round trip
per message, and under load every sender waits for a database connection.

The writer writes one group at a time (:class:`agenthub.grouping.GroupedCalls`): the
messages that arrive while a group is being written are written together as the next one,
in one transaction with one statement per table and one batch of stream additions. A message that arrives while nothing is being
written starts a group of its own at once, so a quiet gateway adds no wait.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import orjson
from sqlalchemy.ext.asyncio import AsyncEngine

from agenthub.bus import Bus, keys
from agenthub.chats import service as chats_service
from agenthub.chats.service import InboundRecord
from agenthub.db.driver_sql import driver_transaction
from agenthub.errors import InvalidInput
from agenthub.grouping import GroupedCalls

log = logging.getLogger(__name__)

ADDED_MARKER_TTL = 120.0
"""Seconds a message id is remembered on its input stream; longer than a retried write to
Redis can take (a few attempts, each bounded by the socket timeouts)."""
CLOSE_GRACE = 5.0


@dataclass(frozen=True, slots=True)
class InboundMessage:
    record: InboundRecord
    user_data: dict[str, Any] = field(default_factory=dict)
    """What the client sent along, as data: it never says who the sender is."""
    user_id: str | None = None
    """Who pays for the turn: the user who sent it, or an end user's ``{channel}:{platform_user_id}``
    (an anonymous visitor, a Telegram user); None for an API key."""
    api_key_id: str | None = None
    """The API key it was sent with, if any, for billing."""
    button: str | None = None
    """The value of the button pressed, when the message is a press (scenario bots)."""
    server_fields: dict[str, Any] | None = None
    """Envelope fields only server code sets (a scenario bot's delayed move: see
    :meth:`Gateway.push`); never from a client."""
    test: bool = False
    """A builder's test message (server code only: never what a client says): a scenario
    bot runs its draft in a test session."""

    def envelope(self, position: int) -> dict[str, Any]:
        """The bus message of the seed protocol, plus where it stands in its chat, the agent's
        organisation, and the user and API key of the sender (``platform_user_id`` is who
        the sender is on its channel: a user's or a key's id, ``anonymous:<address>``);
        ``attachments`` (file ids) when the user sent any."""
        r = self.record
        envelope: dict[str, Any] = {
            "message_id": r.message_id,
            "agent_id": r.agent_id,
            "chat_id": r.chat_id,
            "text": r.content,
            "platform_user_id": r.platform_user_id,
            "user_data": self.user_data,
            "channel": r.channel,
            "position": position,
            "org_id": r.org_id,
            "user_id": self.user_id,
            "api_key_id": self.api_key_id,
        }
        if r.attachments:
            envelope["attachments"] = list(r.attachments)
        if self.button is not None:
            envelope["button"] = self.button
        if self.server_fields:
            envelope.update(self.server_fields)
        if self.test:
            envelope["test"] = True
        return envelope


class InboundWriter:
    def __init__(self, *, bus: Bus, engine: AsyncEngine) -> None:
        self._bus = bus
        self._engine = engine
        self._groups: GroupedCalls[InboundMessage, int] = GroupedCalls(self._write_group, name="inbound-writer")

    async def write(self, message: InboundMessage) -> int:
        """Store the message and put it on its agent's input; returns its position in the
        chat. Raises what storing or sending it raised (IntegrityError when its agent no
        longer exists), in which case nothing of it was kept. Something in one message that
        fails its group (its agent deleted meanwhile, text that can't be encoded) rolls the
        group back, and each of its messages is written again alone with its own outcome;
        not for an unreachable database or bus (see :mod:`agenthub.grouping`)."""
        return await self._groups.call(message)

    async def close(self, *, grace: float = CLOSE_GRACE) -> None:
        """Let what is queued be written for up to ``grace`` seconds, then stop: a group
        still being written is rolled back and its senders told."""
        await self._groups.close(grace=grace)

    async def _write_group(self, messages: Sequence[InboundMessage]) -> list[int]:
        """Store ``messages`` and put them on their agents' inputs, as one unit; each one's
        position in its chat."""
        records = [m.record for m in messages]
        try:
            # Every message's path: on PostgreSQL the statements run on asyncpg itself, in a
            # transaction of its own; elsewhere a Core connection (nothing here needs the ORM).
            # Either commits when the block ends without an error: only then is each message
            # accepted.
            if self._engine.dialect.name == "postgresql":
                async with self._engine.connect() as connection, driver_transaction(connection):
                    positions = await chats_service.record_inbound_on_driver(connection, records)
                    await self._add_to_inputs(messages, positions)
            else:
                async with self._engine.begin() as connection:
                    positions = await chats_service.record_inbound(connection, records)
                    await self._add_to_inputs(messages, positions)
        except Exception as error:
            reported = _as_reported(error)
            if reported is error:
                raise
            raise reported from error
        return positions

    async def _add_to_inputs(self, messages: Sequence[InboundMessage], positions: Sequence[int]) -> None:
        """Put each message on its agent's input (once: a write retried adds nothing twice)."""
        batch = self._bus.batch()
        for message, position in zip(messages, positions, strict=True):
            record = message.record
            batch.add_once(
                keys.agent_input(record.agent_id), message.envelope(position),
                key=keys.agent_input_added(record.agent_id, record.message_id), ttl=ADDED_MARKER_TTL,
            )
        await batch.execute()


def _as_reported(error: Exception) -> Exception:
    """What the sender is told: text that can't be encoded is the message's fault (422)."""
    if isinstance(error, (orjson.JSONEncodeError, UnicodeError)):
        return InvalidInput(f"the message cannot be stored: {error}")
    return error
