"""``agenthub agents update|restart|history|usage|delete`` and ``list``'s header, and a chat
that Ctrl-C ends at once: real subprocesses against a running AgentHub."""

from __future__ import annotations

import asyncio
import json
import os
import pty
import signal
import subprocess
from pathlib import Path

import httpx

from tests.channels.helpers import eventually
from tests.cli.test_cli import agenthub, assert_readable_failure, logged_in
from tests.e2e.processes import AGENTHUB, clean_env
from tests.support.server import make_settings, running_app


async def test_update_restart_history_usage_and_delete(sqlite_url: str, tmp_path: Path) -> None:
    async with running_app(make_settings(database_url=sqlite_url, demo_agent=True)) as app:
        api = ("--api-url", app.url)
        await logged_in(app.url, tmp_path)
        chatted = await agenthub("chat", "demo", *api, cwd=tmp_path, stdin="hello\nagain\n")
        assert chatted.returncode == 0, chatted
        chat_id = chatted.text.split("--chat-id ", 1)[1].split(")", 1)[0].strip()

        listed = await agenthub("agents", "list", *api, cwd=tmp_path)
        assert listed.stdout.splitlines()[0] == "id\tname\tprovider\tmodel\tisolation", listed.stdout
        assert listed.stdout.splitlines()[1].startswith("demo\t")
        bare = await agenthub("agents", "list", "--no-header", *api, cwd=tmp_path)
        assert bare.stdout.splitlines()[0].startswith("demo\t"), bare.stdout

        history = await agenthub("agents", "history", "demo", chat_id, *api, cwd=tmp_path)
        assert history.returncode == 0, history
        rows = [line.split("\t") for line in history.stdout.splitlines()]
        assert [(row[0], row[1], row[3]) for row in rows] == [
            ("2", "user", "hello"),
            ("3", "assistant", 'You said: "hello". That is message 1 of this chat.'),
            ("4", "user", "again"),
            ("5", "assistant", 'You said: "again". That is message 2 of this chat.'),
        ], history.stdout

        async with httpx.AsyncClient(base_url=app.url, headers=app.headers, timeout=60) as client:
            async def usage_of_both_turns() -> dict | None:
                totals = (await client.get("/api/v1/agents/demo/usage")).json()
                return totals if totals["turns"] == 2 else None

            stored = await eventually(usage_of_both_turns, what="the usage of both turns to be stored")
            usage = await agenthub("agents", "usage", "demo", *api, cwd=tmp_path)
            assert usage.returncode == 0, usage
            assert json.loads(usage.stdout) == stored

            updated = await agenthub(
                "agents", "update", "demo", "--name", "Renamed", "--system-prompt", "Be terse.", *api, cwd=tmp_path
            )
            assert updated.returncode == 0, updated
            assert "agenthub agents restart demo" in updated.text, "it runs an older config: say how to switch"
            agent = (await client.get("/api/v1/agents/demo")).json()
            assert agent["name"] == "Renamed" and agent["settings"]["system_prompt"] == "Be terse."
            assert agent["settings"]["model_id"] == "demo", "what was not given is kept"

            restarted = await agenthub("agents", "restart", "demo", *api, cwd=tmp_path)
            assert restarted.returncode == 0, restarted
            assert json.loads(restarted.stdout)["status"] in ("starting", "running")
            status = (await client.get("/api/v1/agents/demo/status")).json()
            assert status["config_version"] == agent["config_version"], "restarted on the new config"

            nothing = await agenthub("agents", "update", "demo", *api, cwd=tmp_path)
            assert_readable_failure(nothing, "Nothing to change")
            assert nothing.returncode == 2

            deleted = await agenthub("agents", "delete", "demo", *api, cwd=tmp_path)
            assert deleted.returncode == 0, deleted
            assert "Deleted agent demo." in deleted.text
            assert (await client.get("/api/v1/agents/demo")).status_code == 404
        gone = await agenthub("agents", "delete", "demo", *api, cwd=tmp_path)
        assert_readable_failure(gone, "404", "not found")


async def test_ctrl_c_ends_a_chat_at_once(sqlite_url: str, tmp_path: Path) -> None:
    async with running_app(make_settings(database_url=sqlite_url, demo_agent=True)) as app:
        main, terminal = pty.openpty()  # a person at a terminal: reading a line blocks
        process = subprocess.Popen(
            [AGENTHUB, "chat", "demo", "--api-url", app.url], env=clean_env(AGENTHUB_TOKEN=app.token), cwd=tmp_path,
            stdin=terminal, stdout=terminal, stderr=terminal, start_new_session=True,
        )
        os.close(terminal)
        seen = b""
        try:
            while b"you>" not in seen:  # connected and waiting for the user to type
                chunk = await asyncio.to_thread(os.read, main, 65536)
                assert chunk, seen
                seen += chunk
            process.send_signal(signal.SIGINT)
            # It used to wait for Enter; the deadline is only there so a hang fails.
            code = await asyncio.to_thread(process.wait, 10)
        finally:
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait(10)
            os.close(main)
        assert code == 0
