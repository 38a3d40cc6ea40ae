"""``agenthub`` as a user types it: a real subprocess against a running AgentHub."""

from __future__ import annotations

import asyncio
import json
import re
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from tests.e2e.processes import AGENTHUB, clean_env
from tests.support.server import OWNER_EMAIL, OWNER_PASSWORD, free_port, make_settings, running_app


@dataclass
class Result:
    returncode: int
    stdout: str
    stderr: str

    @property
    def text(self) -> str:
        """Both streams, with rich's line wrapping undone."""
        return re.sub(r"\s+", " ", f"{self.stdout}\n{self.stderr}")


async def agenthub(
    *args: str, cwd: Path, stdin: str | bytes | None = None, typing_delay: float = 0.0, timeout: float = 60,
    **env: str,
) -> Result:
    """Run the CLI without blocking the event loop (the server under test runs in it).
    ``typing_delay``: the user types ``stdin`` (text, or bytes as they are) that long after
    the command started. Its logins are kept under ``cwd`` (``AGENTHUB_CONFIG_DIR``), never
    in the home directory."""
    env.setdefault("AGENTHUB_CONFIG_DIR", str(config_dir(cwd)))
    process = await asyncio.create_subprocess_exec(
        AGENTHUB, *args, cwd=cwd, env=clean_env(**env),
        stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )
    try:
        if typing_delay:
            await asyncio.sleep(typing_delay)
        out, err = await asyncio.wait_for(process.communicate(stdin.encode() if isinstance(stdin, str) else stdin or b""), timeout)
    except TimeoutError:
        process.kill()
        await process.wait()
        raise
    return Result(process.returncode, out.decode(), err.decode())


def config_dir(cwd: Path) -> Path:
    """Where :func:`agenthub` run in ``cwd`` keeps its logins."""
    return cwd / "agenthub-config"


async def logged_in(api_url: str, cwd: Path) -> None:
    """``agenthub login`` as the default organisation's owner: the next commands run in
    ``cwd`` act as that owner on ``api_url``."""
    result = await agenthub(
        "login", "--email", OWNER_EMAIL, "--password", OWNER_PASSWORD, "--api-url", api_url, cwd=cwd
    )
    assert result.returncode == 0 and "Logged in" in result.stdout, result


def assert_readable_failure(result: Result, *fragments: str) -> None:
    assert result.returncode != 0, result
    assert "Traceback" not in result.stdout + result.stderr, result
    for fragment in fragments:
        assert fragment in result.text, (fragment, result)


async def test_agents_create_list_start_status_stop(sqlite_url: str, tmp_path: Path) -> None:
    async with running_app(make_settings(database_url=sqlite_url)) as app:
        api = ("--api-url", app.url)
        await logged_in(app.url, tmp_path)

        created = await agenthub(
            "agents", "create", "--id", "cli-agent", "--name", "From the CLI",
            "--provider", "fake", "--model-id", "demo", "--system-prompt", "Be brief.", *api, cwd=tmp_path,
        )
        assert created.returncode == 0, created
        assert "Created agent cli-agent." in created.text

        listed = await agenthub("agents", "list", *api, cwd=tmp_path)
        assert listed.returncode == 0, listed
        row = next(line for line in listed.stdout.splitlines() if "cli-agent" in line)
        for cell in ("From the CLI", "fake", "demo", "shared"):
            assert cell in row, listed.stdout

        status = await agenthub("agents", "status", "cli-agent", *api, cwd=tmp_path)
        assert status.returncode == 0, status
        assert json.loads(status.stdout)["status"] == "stopped"

        started = await agenthub("agents", "start", "cli-agent", *api, cwd=tmp_path)
        assert started.returncode == 0, started
        assert json.loads(started.stdout)["agent_id"] == "cli-agent"
        assert json.loads(started.stdout)["status"] in ("starting", "running")

        status = await agenthub("agents", "status", "cli-agent", *api, cwd=tmp_path)
        assert status.returncode == 0, status
        shown = json.loads(status.stdout)
        assert shown["status"] == "running" and shown["pid"]

        stopped = await agenthub("agents", "stop", "cli-agent", *api, cwd=tmp_path)
        assert stopped.returncode == 0, stopped
        assert json.loads(stopped.stdout)["status"] == "stopped"

        # What the CLI did is what the API holds.
        async with httpx.AsyncClient(base_url=app.url, headers=app.headers, timeout=60) as client:
            agent = (await client.get("/api/v1/agents/cli-agent")).json()
            assert agent["name"] == "From the CLI"
            assert agent["settings"]["system_prompt"] == "Be brief."
            assert (await client.get("/api/v1/agents/cli-agent/status")).json()["status"] == "stopped"


async def test_cli_errors_are_readable_and_exit_non_zero(sqlite_url: str, tmp_path: Path) -> None:
    nowhere = f"http://127.0.0.1:{free_port()}"
    async with running_app(make_settings(database_url=sqlite_url, demo_agent=True)) as app:
        api = ("--api-url", app.url)
        await logged_in(app.url, tmp_path)
        results = await asyncio.gather(
            agenthub("agents", "status", "no-such-agent", *api, cwd=tmp_path),
            agenthub("agents", "start", "no-such-agent", *api, cwd=tmp_path),
            agenthub("agents", "create", "--name", "x", "--provider", "bogus", "--model-id", "m", *api, cwd=tmp_path),
            agenthub("agents", "create", "--id", "demo", "--name", "again", "--provider", "fake",
                     "--model-id", "demo", *api, cwd=tmp_path),
            agenthub("chat", "no-such-agent", *api, cwd=tmp_path, stdin="hello\n"),
            # The server has closed the socket by the time the user has typed a line.
            agenthub("chat", "no-such-agent", *api, cwd=tmp_path, stdin="hello\n", typing_delay=1.5),
            agenthub("chat", "demo", "--api-url", f"{app.url}/not-agenthub", cwd=tmp_path, stdin="hello\n"),
        )
    unknown_status, unknown_start, bad_provider, duplicate, unknown_chat, unknown_chat_later, wrong_url = results
    assert_readable_failure(unknown_status, "404", "no-such-agent", "not found")
    assert_readable_failure(unknown_start, "404", "no-such-agent", "not found")
    assert_readable_failure(bad_provider, "422", "provider")
    assert_readable_failure(duplicate, "409", "demo", "already exists")
    assert_readable_failure(unknown_chat, "no-such-agent", "not found")
    assert_readable_failure(unknown_chat_later, "no-such-agent", "not found")
    # The server answered: not "Cannot reach", but what its refusal means.
    assert_readable_failure(wrong_url, "refused the chat", "HTTP 403", "/not-agenthub")
    assert "Cannot reach" not in wrong_url.text

    unreachable = await asyncio.gather(
        agenthub("agents", "list", "--api-url", nowhere, cwd=tmp_path),
        agenthub("chat", "demo", "--api-url", nowhere, cwd=tmp_path, stdin="hello\n"),
    )
    for result in unreachable:
        assert_readable_failure(result, "Cannot reach AgentHub")


async def test_chat_streams_both_answers_from_stdin(sqlite_url: str, tmp_path: Path) -> None:
    async with running_app(make_settings(database_url=sqlite_url, demo_agent=True)) as app:
        await logged_in(app.url, tmp_path)  # the demo agent is the organisation's until it is public
        long_line = " ".join(["a line longer than any terminal's eighty columns"] * 3)
        result = await agenthub(
            "chat", "demo", "--api-url", app.url, cwd=tmp_path, stdin=f"hello\n{long_line}\n"
        )
    assert result.returncode == 0, result
    assert "Traceback" not in result.stderr
    assert 'You said: "hello". That is message 1 of this chat.' in result.text
    # Piped on, an answer stays one line: nothing breaks it at 80 columns.
    assert f'You said: "{long_line}". That is message 2 of this chat.' in result.stdout
    assert result.text.index("message 1 of this chat") < result.text.index("message 2 of this chat")
    assert "continue it with --chat-id" in result.text


@pytest.mark.postgres
async def test_serve_refuses_an_unmigrated_postgres_database(empty_postgres_url: str, tmp_path: Path) -> None:
    result = await agenthub("serve", "--port", str(free_port()), cwd=tmp_path, DATABASE_URL=empty_postgres_url)
    assert_readable_failure(result, "agenthub migrate")
