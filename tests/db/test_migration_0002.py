"""Migration 0002 (soft-deleted agents, usage that outlives them) on SQLite and PostgreSQL:
what was there before survives both ways, and usage logs no longer depend on agents."""

from __future__ import annotations

import asyncio

import pytest
from alembic import command
from sqlalchemy import text

from agenthub.db import migrate
from agenthub.db.engine import create_engine


@pytest.fixture
def database_url(empty_database_url: str) -> str:
    """The migrations start from an empty database here (the suite's are migrated already)."""
    return empty_database_url


NOW = "CURRENT_TIMESTAMP"


async def _run(engine, *statements: str) -> None:  # type: ignore[no-untyped-def]
    async with engine.begin() as connection:
        for statement in statements:
            await connection.execute(text(statement))


async def _ids(engine, table: str, column: str = "agent_id") -> list[str]:  # type: ignore[no-untyped-def]
    async with engine.connect() as connection:
        return sorted((await connection.execute(text(f"SELECT {column} FROM {table}"))).scalars().all())


def _agent(agent_id: str) -> str:
    return (
        "INSERT INTO agents (id, org_id, name, kind, settings, config_version, created_at, updated_at) "
        f"VALUES ('{agent_id}', 'default', '{agent_id}', 'llm', '{{}}', 1, {NOW}, {NOW})"
    )


def _chat_with_message(agent_id: str) -> tuple[str, str]:
    return (
        f"INSERT INTO chats (id, agent_id, org_id, created_at, last_message_at, turns) "
        f"VALUES ('c1', '{agent_id}', 'default', {NOW}, {NOW}, 1)",
        "INSERT INTO chat_messages (message_id, agent_id, chat_id, position, role, content, channel, created_at) "
        f"VALUES ('m-{agent_id}', '{agent_id}', 'c1', 0, 'user', 'hi', 'web', {NOW})",
    )


def _usage(agent_id: str) -> str:
    return (
        "INSERT INTO token_usage_logs (message_id, org_id, agent_id, chat_id, provider, model, "
        f"input_tokens, output_tokens, created_at) VALUES ('u-{agent_id}', 'default', '{agent_id}', 'c1', "
        f"'fake', 'demo', 3, 5, {NOW})"
    )


async def test_upgrade_keeps_every_row_and_lets_usage_outlive_its_agent(database_url: str) -> None:
    config = migrate.alembic_config(database_url)
    engine = create_engine(database_url, pool_size=1)
    try:
        await asyncio.to_thread(command.upgrade, config, "0001")
        await _run(engine, _agent("kept"), *_chat_with_message("kept"), _usage("kept"), _agent("gone"), _usage("gone"))

        await asyncio.to_thread(command.upgrade, config, "head")

        assert await _ids(engine, "agents", "id") == ["gone", "kept"]
        assert await _ids(engine, "chats") == ["kept"]
        assert await _ids(engine, "chat_messages") == ["kept"]
        async with engine.connect() as connection:
            deleted_at = (await connection.execute(text("SELECT deleted_at FROM agents"))).scalars().all()
        assert deleted_at == [None, None]
        # The agent's row goes (a purge); its usage stays.
        await _run(engine, "DELETE FROM agents WHERE id = 'gone'")
        assert await _ids(engine, "token_usage_logs") == ["gone", "kept"]
    finally:
        await engine.dispose()


async def test_downgrade_keeps_live_agents_with_their_chats_and_drops_what_0001_could_not_hold(
    database_url: str,
) -> None:
    config = migrate.alembic_config(database_url)
    engine = create_engine(database_url, pool_size=1)
    try:
        await migrate.upgrade(engine)
        await _run(
            engine,
            _agent("kept"), *_chat_with_message("kept"), _usage("kept"),
            _agent("deleted"), _usage("deleted"),
            f"UPDATE agents SET deleted_at = {NOW} WHERE id = 'deleted'",
            _usage("purged"),
        )

        await asyncio.to_thread(command.downgrade, config, "0001")

        assert await migrate.current_revision(engine) == "0001"
        assert await _ids(engine, "agents", "id") == ["kept"]
        assert await _ids(engine, "chats") == ["kept"]
        assert await _ids(engine, "chat_messages") == ["kept"]
        assert await _ids(engine, "token_usage_logs") == ["kept"]

        await asyncio.to_thread(command.upgrade, config, "head")
        assert await migrate.is_up_to_date(engine)
        assert await _ids(engine, "chat_messages") == ["kept"]
    finally:
        await engine.dispose()
