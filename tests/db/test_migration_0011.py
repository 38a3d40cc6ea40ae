"""Migration 0011 (a session's step may be ``<instance>/<template step>``) on SQLite and
PostgreSQL: long step names fit after it; going back, a session inside a template returns
to the start with its caller's variables, and every other row stays."""

from __future__ import annotations

import asyncio
import json

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
INSIDE = "a-rather-long-instance-step-key-of-a-bot-that-asks-for-a-size/ask-which-size"
FRAMES = json.dumps([{"instance": "a-rather-long-instance-step-key-of-a-bot-that-asks-for-a-size",
                      "template": "size", "caller": {"mine": "kept"}}])
ROWS = (
    "INSERT INTO agents (id, org_id, name, kind, settings, config_version, created_at, updated_at) "
    f"VALUES ('b1', 'default', 'b1', 'scenario', '{{}}', 1, {NOW}, {NOW})",
    "INSERT INTO bots (id, org_id, name, description, variables, draft_revision, created_at, updated_at) "
    f"VALUES ('b1', 'default', 'Bot', '', '{{}}', 1, {NOW}, {NOW})",
)


def _session(session_id: str, step: str, frames: str, variables: str) -> str:
    return (
        "INSERT INTO scenario_sessions (id, org_id, bot_id, user_key, channel, step_id, variables, frames, is_test, "
        f"started_at, updated_at) VALUES ('{session_id}', 'default', 'b1', 'user:{session_id}', 'web', '{step}', "
        f"'{variables}', '{frames}', false, {NOW}, {NOW})"
    )


def _event(step: str) -> str:
    return ("INSERT INTO scenario_step_events (org_id, bot_id, step_id, session_id, kind, at) "
            f"VALUES ('default', 'b1', '{step}', 's1', 'entered', {NOW})")


async def test_long_step_names_fit_and_going_back_sends_template_sessions_to_the_start(database_url: str) -> None:
    config = migrate.alembic_config(database_url)
    engine = create_engine(database_url, pool_size=1)
    try:
        await asyncio.to_thread(command.upgrade, config, "0010")
        async with engine.begin() as connection:
            for statement in ROWS:
                await connection.execute(text(statement))
            await connection.execute(text(_session("s0", "hello", "[]", '{"a": 1}')))

        await asyncio.to_thread(command.upgrade, config, "0011")
        async with engine.begin() as connection:
            await connection.execute(text(_session("s1", INSIDE, FRAMES, '{"inside": true}')))
            await connection.execute(text(_event(INSIDE)))
            await connection.execute(text(_event("hello")))

        await asyncio.to_thread(command.downgrade, config, "0010")
        async with engine.connect() as connection:
            rows = (await connection.execute(text(
                "SELECT id, step_id, variables, frames FROM scenario_sessions ORDER BY id"))).all()
            events = (await connection.execute(text("SELECT step_id FROM scenario_step_events"))).scalars().all()
        loaded = [(i, step, v if isinstance(v, dict) else json.loads(v), f if isinstance(f, list) else json.loads(f))
                  for i, step, v, f in rows]
        assert loaded == [("s0", "hello", {"a": 1}, []), ("s1", None, {"mine": "kept"}, [])]
        assert events == ["hello"]
    finally:
        await engine.dispose()
