"""Which stored messages count as unanswered when an embedded server starts again, on
SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import update

from agenthub.chats import service as chats_service
from agenthub.chats.models import ChatMessage
from agenthub.chats.service import InboundRecord
from agenthub.db.base import utcnow
from agenthub.db.engine import session_scope
from tests.runtime.helpers import create_agent_row, migrated_sessions


def _inbound(chat_id: str, message_id: str) -> InboundRecord:
    return InboundRecord(
        org_id="default", agent_id="keeper", chat_id=chat_id, message_id=message_id,
        content=f"text of {message_id}", channel="web",
    )


def _answer(chat_id: str, reply_to: str, position: int) -> dict[str, object]:
    return {
        "message_id": f"answer-{reply_to}", "reply_to": reply_to, "org_id": "default", "agent_id": "keeper",
        "chat_id": chat_id, "position": position, "role": "assistant", "content": "ok", "channel": "web",
    }


async def test_unanswered_messages_are_those_after_each_chats_last_answer(database_url: str) -> None:
    engine, sessions = await migrated_sessions(database_url)
    try:
        await create_agent_row(sessions, "keeper")
        async with session_scope(sessions) as session:
            # Chat a: 1 answered, 2 failed, 3 answered, 4 and 5 owed. Chat b: 1 owed.
            # Chat c: 1 owed, but stored long ago.
            positions = await chats_service.record_inbound(session, [
                *(_inbound("a", f"a{n}") for n in range(1, 6)), _inbound("b", "b1"), _inbound("c", "c1"),
            ])
            assert positions == [2, 4, 6, 8, 10, 2, 2]
            await chats_service.save_history(session, [_answer("a", "a1", 3), _answer("a", "a3", 7)])
            await session.execute(
                update(ChatMessage).where(ChatMessage.message_id == "c1")
                .values(created_at=utcnow() - timedelta(days=2))
            )
        async with sessions() as session:
            owed = await chats_service.unanswered_since(session, utcnow() - timedelta(days=1), limit=100)
            assert [(m.chat_id, m.message_id, m.position) for m in owed] == [
                ("a", "a4", 8), ("a", "a5", 10), ("b", "b1", 2),
            ]
            assert len(await chats_service.unanswered_since(session, utcnow() - timedelta(days=1), limit=2)) == 2
    finally:
        await engine.dispose()


async def test_a_message_taken_up_once_is_not_unanswered_any_more(database_url: str) -> None:
    engine, sessions = await migrated_sessions(database_url)
    try:
        await create_agent_row(sessions, "keeper")
        async with session_scope(sessions) as session:
            await chats_service.record_inbound(session, [_inbound("a", "a1"), _inbound("a", "a2")])
        since = utcnow() - timedelta(days=1)
        async with session_scope(sessions) as session:
            assert await chats_service.mark_recovered(session, ["a1"]) == {"a1"}
        async with session_scope(sessions) as session:
            # Another start that read both before the first marked a1 gets only a2.
            assert await chats_service.mark_recovered(session, ["a1", "a2"]) == {"a2"}
            assert await chats_service.mark_recovered(session, []) == set()
        async with sessions() as session:
            assert await chats_service.unanswered_since(session, since, limit=100) == []
    finally:
        await engine.dispose()
