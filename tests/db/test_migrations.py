"""Migrations on an empty SQLite and an empty PostgreSQL database, and the CLI's refusal to
serve an unmigrated PostgreSQL database."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from alembic import command
from sqlalchemy import inspect, text

from agenthub.db import migrate
from agenthub.db.engine import create_engine
from tests.support.server import free_port


@pytest.fixture
def database_url(empty_database_url: str) -> str:
    """The migrations start from an empty database here (the suite's are migrated already)."""
    return empty_database_url


TABLES = {"agents", "chats", "chat_messages", "token_usage_logs"}
AGENTHUB = Path(sys.executable).parent / "agenthub"


async def _tables(engine) -> set[str]:  # type: ignore[no-untyped-def]
    async with engine.connect() as connection:
        return set(await connection.run_sync(lambda sync: inspect(sync).get_table_names()))


async def test_upgrade_creates_every_table_and_is_idempotent(database_url: str) -> None:
    engine = create_engine(database_url, pool_size=1)
    try:
        assert await _tables(engine) == set()
        assert await migrate.current_revision(engine) is None
        assert await migrate.is_up_to_date(engine) is False

        await migrate.upgrade(engine)
        assert await _tables(engine) >= TABLES | {"alembic_version"}
        assert await migrate.current_revision(engine) == migrate.head_revision()
        assert await migrate.is_up_to_date(engine) is True

        async with engine.begin() as connection:
            await connection.execute(text(
                "INSERT INTO agents (id, org_id, name, kind, settings, config_version, created_at, updated_at) "
                "VALUES ('kept', 'default', 'Kept', 'llm', '{}', 1, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"
            ))

        # A second upgrade changes nothing and loses nothing.
        await migrate.upgrade(engine)
        assert await migrate.is_up_to_date(engine) is True
        async with engine.connect() as connection:
            assert (await connection.execute(text("SELECT name FROM agents"))).scalars().all() == ["Kept"]
    finally:
        await engine.dispose()


async def test_downgrade_to_base_removes_everything_and_upgrade_again_works(database_url: str) -> None:
    engine = create_engine(database_url, pool_size=1)
    try:
        await migrate.upgrade(engine)
        assert await _tables(engine) >= TABLES

        # As `alembic downgrade base` runs it: its own engine, outside this event loop.
        await asyncio.to_thread(command.downgrade, migrate.alembic_config(database_url), "base")
        assert await _tables(engine) & TABLES == set()
        assert await migrate.current_revision(engine) is None
        assert await migrate.is_up_to_date(engine) is False

        await asyncio.to_thread(command.upgrade, migrate.alembic_config(database_url), "head")
        assert await _tables(engine) >= TABLES
        assert await migrate.is_up_to_date(engine) is True
    finally:
        await engine.dispose()


async def test_migrated_schema_matches_the_models(database_url: str) -> None:
    """Nothing the code maps is missing from, or different in, what the migrations build."""
    from alembic.autogenerate import compare_metadata
    from alembic.runtime.migration import MigrationContext

    from agenthub.db.models import Base, include_object

    engine = create_engine(database_url, pool_size=1)
    try:
        await migrate.upgrade(engine)

        def _diff(connection):  # type: ignore[no-untyped-def]
            context = MigrationContext.configure(connection, opts={
                "compare_type": True, "include_object": include_object,  # not the knowledge keyword index
            })
            return compare_metadata(context, Base.metadata)

        async with engine.connect() as connection:
            assert await connection.run_sync(_diff) == []
    finally:
        await engine.dispose()


def _cli_env(database_url: str, tmp_path: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("REDIS_URL", "DATABASE_URL")}
    # The plain scheme people paste; AgentHub picks the async driver itself.
    database_url = database_url.replace("postgresql+asyncpg://", "postgresql://", 1)
    env.update(DATABASE_URL=database_url, LOG_JSON="false", DATA_DIR=str(tmp_path))
    return env


async def test_serve_refuses_an_unmigrated_postgres_until_agenthub_migrate(empty_postgres_url: str, tmp_path: Path) -> None:
    env = _cli_env(empty_postgres_url, tmp_path)
    started = time.monotonic()
    refused = await asyncio.to_thread(
        subprocess.run,
        [str(AGENTHUB), "serve", "--port", str(free_port())],
        env=env, cwd=tmp_path, capture_output=True, text=True, timeout=60,
    )
    assert refused.returncode != 0
    assert time.monotonic() - started < 20
    assert "agenthub migrate" in refused.stdout + refused.stderr
    assert "Traceback" not in refused.stderr

    engine = create_engine(empty_postgres_url, pool_size=1)
    try:
        # The refusal touched nothing.
        assert await _tables(engine) == set()

        migrated = await asyncio.to_thread(
            subprocess.run, [str(AGENTHUB), "migrate"],
            env=env, cwd=tmp_path, capture_output=True, text=True, timeout=30,
        )
        assert migrated.returncode == 0, migrated.stderr
        assert migrate.head_revision() in migrated.stdout
        assert await migrate.is_up_to_date(engine) is True
        assert await _tables(engine) >= TABLES
    finally:
        await engine.dispose()
