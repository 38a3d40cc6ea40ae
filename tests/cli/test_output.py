"""What ``agenthub`` prints when all goes well: help that reads well, lists whose ids can be
copied."""

from __future__ import annotations

import asyncio
from pathlib import Path

import httpx

from tests.cli.test_cli import agenthub, logged_in
from tests.support.server import make_settings, running_app

LONG_ID = "an-agent-with-a-rather-long-identifier-0123456789"


def panel_rows(output: str, title: str) -> list[str]:
    """The rows of one ``--help`` panel, without the box drawing."""
    lines = output.splitlines()
    start = next(i for i, line in enumerate(lines) if f"─ {title} " in line)
    rows = []
    for line in lines[start + 1:]:
        if line.startswith("╰"):
            break
        rows.append(line.strip("│ "))
    return rows


async def test_help_reads_well(tmp_path: Path) -> None:
    wide = {"COLUMNS": "200"}
    commands = [(), ("serve",), ("runner",), ("worker",), ("chat",), ("agents",), ("agents", "stop"),
                ("agents", "create"), ("agents", "list"), ("login",), ("logout",)]
    results = await asyncio.gather(*(agenthub(*command, "--help", cwd=tmp_path, **wide) for command in commands))
    for command, result in zip(commands, results, strict=True):
        assert result.returncode == 0, (command, result)
        assert "<bool>" not in result.stdout, (command, result.stdout)
    top, serve, *_ = results
    # Each command's summary is one sentence on one line: no break in mid-sentence.
    for row in panel_rows(top.stdout, "Commands"):
        assert row.endswith("."), top.stdout
    assert "Without DATABASE_URL and REDIS_URL it needs nothing else" in serve.stdout
    # Defaults that name a variable are shown (rich markup used to swallow them).
    assert "[default: (MANAGER_PORT)]" in serve.stdout
    assert "[default: (MANAGER_HOST)]" in serve.stdout


async def test_agents_list_never_cuts_ids(sqlite_url: str, tmp_path: Path) -> None:
    async with running_app(make_settings(database_url=sqlite_url)) as app:
        async with httpx.AsyncClient(base_url=app.url, headers=app.headers, timeout=60) as client:
            created = await client.post("/api/v1/agents", json={
                "id": LONG_ID, "name": "Long\tand\nwinding",
                "settings": {"provider": "fake", "model_id": "demo"},
            })
            assert created.status_code == 201, created.text
        api = ("--api-url", app.url)
        await logged_in(app.url, tmp_path)
        piped, terminal, narrow_terminal = await asyncio.gather(
            agenthub("agents", "list", *api, cwd=tmp_path),
            agenthub("agents", "list", *api, cwd=tmp_path, TTY_COMPATIBLE="1", NO_COLOR="1", COLUMNS="80"),
            agenthub("agents", "list", *api, cwd=tmp_path, TTY_COMPATIBLE="1", NO_COLOR="1", COLUMNS="50"),
        )
    # Piped: a header, then one tab-separated line per agent, for `cut -f1` and friends.
    assert piped.returncode == 0, piped
    assert piped.stdout.splitlines() == [
        "id\tname\tprovider\tmodel\tisolation", f"{LONG_ID}\tLong and winding\tfake\tdemo\tshared"
    ]
    # On a terminal the id stays whole on its line, however narrow: the other columns give way.
    for shown in (terminal, narrow_terminal):
        assert shown.returncode == 0, shown
        lines = shown.stdout.splitlines()
        assert sum(LONG_ID in line for line in lines) == 1, shown.stdout
        assert not any(LONG_ID[:20] in line and LONG_ID not in line for line in lines), shown.stdout
        assert any("Long" in line and LONG_ID in line for line in lines), shown.stdout
