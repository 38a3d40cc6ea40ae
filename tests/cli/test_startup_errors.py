"""What a user sees when ``serve``, ``runner`` or ``worker`` can't start: one readable line
and a non-zero exit code, never a traceback."""

from __future__ import annotations

import asyncio
import uuid
from pathlib import Path

import pytest
from sqlalchemy.engine import make_url

from agenthub.config import mask_url
from tests.cli.test_cli import Result, agenthub, assert_readable_failure
from tests.support.server import free_port

UNREACHABLE_BUS = "redis://agenthub:s3cret-pass@127.0.0.1:1/0"


def last_line(result: Result) -> str:
    lines = result.stderr.strip().splitlines()
    return lines[-1] if lines else ""


async def test_runner_and_worker_refuse_the_embedded_bus(tmp_path: Path) -> None:
    """Without REDIS_URL nobody could reach what they host, so both say so and stop."""
    runner, worker = await asyncio.gather(
        agenthub("runner", "--agent-id", "demo", cwd=tmp_path, timeout=30),
        agenthub("worker", cwd=tmp_path, timeout=30),
    )
    assert_readable_failure(runner, "agenthub runner needs REDIS_URL", "agenthub serve")
    assert_readable_failure(worker, "agenthub worker needs REDIS_URL", "agenthub serve")
    assert runner.returncode == worker.returncode == 2
    assert last_line(runner) == (
        "agenthub runner needs REDIS_URL: in the embedded mode agents run inside `agenthub serve`."
    )


@pytest.mark.redis
async def test_runner_for_an_unknown_agent_says_it_is_not_found(
    redis_server_url: str, redis_prefix: str, sqlite_url: str, tmp_path: Path
) -> None:
    env = {"DATABASE_URL": sqlite_url, "REDIS_URL": redis_server_url, "REDIS_KEY_PREFIX": redis_prefix}
    migrated = await agenthub("migrate", cwd=tmp_path, **env)
    assert migrated.returncode == 0, migrated

    result = await agenthub("runner", "--agent-id", "nope", cwd=tmp_path, **env)
    assert_readable_failure(result, "agent 'nope' not found")
    assert last_line(result) == "agent 'nope' not found"


@pytest.mark.parametrize(
    ("env", "variable"),
    [({"LOG_LEVEL": "LOUD"}, "LOG_LEVEL"), ({"MANAGER_PORT": "notanumber"}, "MANAGER_PORT")],
)
async def test_a_bad_setting_is_one_line_naming_the_variable(
    env: dict[str, str], variable: str, tmp_path: Path
) -> None:
    result = await agenthub("serve", "--port", str(free_port()), cwd=tmp_path, timeout=30, **env)
    assert_readable_failure(result, "Invalid configuration", variable)
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [last_line(result)], result


async def test_log_level_names_are_accepted_in_any_case(tmp_path: Path) -> None:
    """A valid level passes the settings: ``migrate`` runs with it as usual."""
    result = await agenthub("migrate", cwd=tmp_path, LOG_LEVEL="warning")
    assert result.returncode == 0, result
    assert "Database is at revision" in result.text


async def test_an_unreachable_bus_is_one_line_without_its_password(tmp_path: Path) -> None:
    results = await asyncio.gather(
        agenthub("serve", "--port", str(free_port()), cwd=tmp_path, REDIS_URL=UNREACHABLE_BUS),
        agenthub("runner", "--agent-id", "demo", cwd=tmp_path, REDIS_URL=UNREACHABLE_BUS),
        agenthub("worker", cwd=tmp_path, REDIS_URL=UNREACHABLE_BUS),
    )
    for result in results:
        assert_readable_failure(result, "Cannot reach the bus at redis://agenthub:***@127.0.0.1:1/0")
        assert last_line(result).startswith("Cannot reach the bus at redis://agenthub:***@127.0.0.1:1/0: ")
        assert "s3cret-pass" not in result.stdout + result.stderr
        assert "Application startup failed" not in result.stderr


STARTS = (("serve", "--port", str(free_port())), ("migrate",), ("runner", "--agent-id", "demo"), ("worker",))
"""Every command that opens the database."""


def only_line(result: Result) -> str:
    """The single line on standard error, asserting there is no other."""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result
    return lines[0]


@pytest.mark.parametrize(
    ("url", "line"),
    [
        ("mysql://bob:s3cret-pass@127.0.0.1/app",
         "The database URL mysql://bob:***@127.0.0.1/app is not supported: AgentHub supports SQLite and PostgreSQL"),
        ("mongodb://bob:s3cret-pass@127.0.0.1/app",
         "The database URL mongodb://bob:***@127.0.0.1/app is not supported: AgentHub supports SQLite and PostgreSQL"),
        ("postgresql+psycopg2://bob:s3cret-pass@127.0.0.1/app",
         "Cannot use the database at postgresql+psycopg2://bob:***@127.0.0.1/app: its driver is not installed "
         "(No module named 'psycopg2')"),
        ("postgresql://bob:s3cret-pass@127.0.0.1:port/app",
         "Invalid database URL postgresql://bob:***@127.0.0.1:port/app: invalid literal for int() with base 10: "
         "'port'"),
    ],
)
async def test_a_database_url_agenthub_cannot_open_is_one_line(url: str, line: str, tmp_path: Path) -> None:
    results = await asyncio.gather(*(agenthub(*start, cwd=tmp_path, timeout=90, DATABASE_URL=url) for start in STARTS))
    for result in results:
        assert_readable_failure(result)
        assert result.returncode == 2, result
        assert only_line(result) == line
        assert "s3cret-pass" not in result.stdout + result.stderr


async def test_an_unreachable_database_stops_every_command_in_one_line(tmp_path: Path) -> None:
    """`runner` and `worker` used to start without touching the database."""
    url = f"postgresql://bob:s3cret-pass@127.0.0.1:{free_port()}/app"
    results = await asyncio.gather(
        *(agenthub(*start, cwd=tmp_path, timeout=30, DATABASE_URL=url, REDIS_URL=UNREACHABLE_BUS) for start in STARTS)
    )
    for result in results:
        assert_readable_failure(result)
        assert only_line(result).startswith(f"Cannot reach the database at {mask_url(url)}: "), result
        assert "s3cret-pass" not in result.stdout + result.stderr


@pytest.mark.postgres
@pytest.mark.parametrize("missing", ["database", "role"])
async def test_a_database_or_role_that_does_not_exist_is_one_line(
    missing: str, postgres_server_url: str, tmp_path: Path
) -> None:
    name = f"agenthub_missing_{uuid.uuid4().hex[:8]}"
    server = make_url(postgres_server_url)
    url = server.set(**{"database" if missing == "database" else "username": name}).render_as_string(
        hide_password=False
    )
    results = await asyncio.gather(
        *(agenthub(*start, cwd=tmp_path, timeout=60, DATABASE_URL=url, REDIS_URL=UNREACHABLE_BUS) for start in STARTS)
    )
    for result in results:
        assert_readable_failure(result)
        assert result.returncode == 1, result
        assert only_line(result) == f'Cannot use the database at {mask_url(url)}: {missing} "{name}" does not exist'
        if server.password:
            assert server.password not in result.stdout + result.stderr


@pytest.mark.parametrize("port", ["99999", "0", "-1"])
async def test_serve_refuses_a_port_out_of_range(port: str, tmp_path: Path) -> None:
    """It used to log "Uvicorn running on http://127.0.0.1:99999" and listen on another port."""
    result = await agenthub("serve", "--port", port, cwd=tmp_path, timeout=30)
    assert_readable_failure(result, "Invalid value for '--port'")
    assert result.returncode == 2
    assert "Uvicorn running" not in result.text
