"""What ``agenthub serve`` prints: a start-up line that says where to go, which database is
used and how to stop; readable lines on a terminal and JSON otherwise; a busy port in one
line; a refused WebSocket that is not an error; the first owner's generated password, once."""

from __future__ import annotations

import json
import os
import pty
import re
import shutil
import signal
import socket
import subprocess
from pathlib import Path

import httpx
import pytest
from websockets.exceptions import InvalidStatus

from agenthub.startup import cli_command
from tests.cli.test_cli import agenthub
from tests.e2e.processes import AGENTHUB, clean_env, first_start_env, serve
from tests.support.server import free_port, log_in
from tests.support.ws import connect


async def test_the_ready_line_says_where_to_chat_which_database_and_how_to_stop(tmp_path: Path) -> None:
    async with serve(env=clean_env(), cwd=tmp_path) as served:
        port = served.url.rsplit(":", 1)[1]
        # A page of another site tries the chat: refused, and that is no error.
        with pytest.raises(InvalidStatus):
            async with connect(f"{served.ws_url}/ws/agents/demo", additional_headers={"Origin": "http://evil.test"}):
                pass
        async with httpx.AsyncClient(base_url=served.url) as client:
            assert (await client.get("/health")).status_code == 200  # the refusal has been handled
        await served.terminate()
    lines = [json.loads(line) for line in served.output().splitlines() if line.startswith("{")]
    assert lines, served.output()  # not a terminal: JSON lines
    ready = next(line["msg"] for line in lines if line["msg"].startswith("AgentHub is ready"))
    assert f"Console: http://127.0.0.1:{port}/ " in ready
    assert f"http://127.0.0.1:{port}/docs" in ready
    assert f"agenthub chat demo --api-url http://127.0.0.1:{port}" in ready
    # The chat command runs as shown from where serve was started, venv activated or not.
    program = ready.split("`")[1].split()[0]
    assert program == "agenthub" and shutil.which("agenthub") or os.access(tmp_path / program, os.X_OK), ready
    # No copies of a message with colour codes, and alembic's set-up lines stay out.
    assert not any("color_message" in line for line in lines), served.output()
    assert not any(line["logger"].startswith("alembic") for line in lines), served.output()
    assert f"SQLite file {(tmp_path / 'data' / 'agenthub.db').resolve()}" in ready
    assert "Ctrl-C" in ready
    assert any(line["msg"] == "request from another site refused" for line in lines)
    assert [line for line in lines if line["level"] in ("error", "critical")] == []


def test_on_a_terminal_the_lines_are_for_people(tmp_path: Path) -> None:
    port = free_port()
    main, terminal = pty.openpty()
    process = subprocess.Popen(
        [AGENTHUB, "serve", "--port", str(port)], env=clean_env(), cwd=tmp_path,
        stdin=subprocess.DEVNULL, stdout=terminal, stderr=terminal, start_new_session=True,
    )
    os.close(terminal)
    seen = b""
    try:
        while b"AgentHub is ready" not in seen:  # reads block until the server writes
            chunk = os.read(main, 65536)
            assert chunk, seen.decode(errors="replace")
            seen += chunk
        process.send_signal(signal.SIGINT)
        process.wait(30)
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(10)
        os.close(main)
    text = seen.decode(errors="replace")
    ready = next(line for line in text.splitlines() if "AgentHub is ready" in line)
    assert not ready.lstrip().startswith("{") and " INFO " in ready, ready
    assert "color_message" not in text and "\x1b[36m%d" not in text, text
    assert "Context impl" not in text and "non-transactional DDL" not in text, text
    assert "Press Ctrl-C to stop." in ready


async def test_a_busy_port_is_one_line_naming_how_to_choose_another(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        port = taken.getsockname()[1]
        result = await agenthub("serve", "--port", str(port), cwd=tmp_path, timeout=30)
    assert result.returncode == 1, result
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert str(port) in lines[0] and "--port" in lines[0] and "MANAGER_PORT" in lines[0]
    assert not (tmp_path / "data").exists(), "nothing was started or created"


async def test_the_port_is_free_again_once_serve_has_stopped(tmp_path: Path) -> None:
    async with serve(env=clean_env(), cwd=tmp_path) as served:
        await served.terminate()
    port = int(served.url.rsplit(":", 1)[1])
    with socket.socket() as again:
        again.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        again.bind(("127.0.0.1", port))


def test_the_chat_command_is_named_as_the_user_can_run_it(tmp_path: Path) -> None:
    script = tmp_path / "project" / ".venv" / "bin" / "agenthub"
    script.parent.mkdir(parents=True)
    script.write_text("#!/bin/sh\n")
    script.chmod(0o755)
    project, elsewhere = str(tmp_path / "project"), str(tmp_path)
    # The virtualenv is not activated: its script is named by its path.
    assert cli_command(str(script), search_path="/usr/bin", cwd=project) == ".venv/bin/agenthub"
    assert cli_command(str(script), search_path="/usr/bin", cwd=str(tmp_path / "nearby")) == str(script)
    assert cli_command(str(script), search_path="/usr/bin", cwd=elsewhere) == "project/.venv/bin/agenthub"
    # Activated (or installed on PATH): the bare name runs this very script.
    assert cli_command(str(script), search_path=f"/usr/bin:{script.parent}", cwd=project) == "agenthub"
    # Another agenthub on PATH is not this one.
    other = tmp_path / "other" / "agenthub"
    other.parent.mkdir()
    other.write_text("#!/bin/sh\n")
    other.chmod(0o755)
    assert cli_command(str(script), search_path=str(other.parent), cwd=project) == ".venv/bin/agenthub"


FIRST_START = re.compile(r"First start: log in as admin@localhost with password (\S+) \(shown only this once")


async def test_the_first_owners_generated_password_is_printed_once_and_never_logged(tmp_path: Path) -> None:
    env = first_start_env(LOG_JSON="true")  # a fresh install: no ADMIN_EMAIL, no ADMIN_PASSWORD
    async with serve(env=env, cwd=tmp_path) as first:
        async with httpx.AsyncClient(base_url=first.url, timeout=30) as client:
            assert (await client.get("/api/v1/agents")).status_code == 401
        lines = first.output().splitlines()
        shown = [match for line in lines if (match := FIRST_START.match(line))]
        assert len(shown) == 1, first.output()
        password = shown[0].group(1)
        token = await log_in(first.url, "admin@localhost", password)  # it is the owner's
        async with httpx.AsyncClient(base_url=first.url, timeout=30) as client:
            me = await client.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {token}"})
            assert me.json()["role"] == "owner" and me.json()["org_id"] == "default", me.text
        await first.terminate()
    # On the console, next to the ready line, and never in a log record.
    records = [line for line in first.output().splitlines() if line.startswith("{")]
    assert any(json.loads(line)["msg"].startswith("AgentHub is ready") for line in records)
    assert not any(password in line for line in records), first.output()

    async with serve(env=env, cwd=tmp_path) as second:  # the same install started again
        await second.terminate()
    assert "First start" not in second.output() and password not in second.output(), second.output()
