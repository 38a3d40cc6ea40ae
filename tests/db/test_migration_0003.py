"""Migration 0003 (messages remember when start-up recovery took them up) on SQLite and
PostgreSQL: stored messages survive both ways, and none counts as taken up."""

from __future__ import annotations

import asyncio

import pytest
from alembic import command
from sqlalchemy import inspect, text

from agenthub.db import migrate
from agenthub.db.engine import create_engine


@pytest.fixture
def database_url(empty_database_url: str) -> str:
    """The migrations start from an empty database here (the suite's are migrated already)."""
    return empty_database_url


NOW = "CURRENT_TIMESTAMP"
ROWS = (
    "INSERT INTO agents (id, org_id, name, kind, settings, config_version, created_at, updated_at) "
    f"VALUES ('kept', 'default', 'kept', 'llm', '{{}}', 1, {NOW}, {NOW})",
    f"INSERT INTO chats (id, agent_id, org_id, created_at, last_message_at, turns) "
    f"VALUES ('c1', 'kept', 'default', {NOW}, {NOW}, 1)",
    "INSERT INTO chat_messages (message_id, agent_id, chat_id, position, role, content, channel, created_at) "
    f"VALUES ('m1', 'kept', 'c1', 2, 'user', 'hi', 'web', {NOW})",
)


async def _message_columns(engine) -> set[str]:  # type: ignore[no-untyped-def]
    async with engine.connect() as connection:
        return {
            c["name"] for c in await connection.run_sync(lambda sync: inspect(sync).get_columns("chat_messages"))
        }


async def test_recovered_at_comes_and_goes_and_messages_stay(database_url: str) -> None:
    config = migrate.alembic_config(database_url)
    engine = create_engine(database_url, pool_size=1)
    try:
        await asyncio.to_thread(command.upgrade, config, "0002")
        async with engine.begin() as connection:
            for statement in ROWS:
                await connection.execute(text(statement))

        await asyncio.to_thread(command.upgrade, config, "0003")
        assert "recovered_at" in await _message_columns(engine)
        async with engine.begin() as connection:
            rows = (await connection.execute(text("SELECT message_id, recovered_at FROM chat_messages"))).all()
            assert [tuple(row) for row in rows] == [("m1", None)]
            await connection.execute(text(f"UPDATE chat_messages SET recovered_at = {NOW}"))

        await asyncio.to_thread(command.downgrade, config, "0002")
        assert "recovered_at" not in await _message_columns(engine)
        async with engine.connect() as connection:
            assert (await connection.execute(text("SELECT content FROM chat_messages"))).scalars().all() == ["hi"]
    finally:
        await engine.dispose()
