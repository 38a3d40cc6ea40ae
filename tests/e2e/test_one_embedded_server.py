"""Two embedded servers on one SQLite file: the second, with an in-process bus of its own,
would answer the same messages again; it refuses to start in one line, and a server
started once the first has stopped (or was killed) serves the file as usual."""

from __future__ import annotations

import asyncio
import os
import signal
from pathlib import Path

import httpx

from tests.e2e.processes import clean_env, run_cli, serve
from tests.support.server import free_port


async def _refused(env: dict[str, str], cwd: Path) -> list[str]:
    second = await asyncio.to_thread(run_cli, "serve", "--port", str(free_port()), env=env, cwd=cwd, timeout=60)
    assert second.returncode == 1, second
    assert "Traceback" not in second.stderr
    return second.stderr.strip().splitlines()


async def test_a_second_embedded_server_on_the_same_file_refuses_to_start(tmp_path: Path) -> None:
    env = clean_env(DEMO_AGENT="true")
    async with serve(env=env, cwd=tmp_path) as first:
        lines = await _refused(env, tmp_path)
        database = (tmp_path / "data" / "agenthub.db").resolve()
        assert len(lines) == 1, lines
        assert "Another AgentHub" in lines[0] and str(database) in lines[0], lines
        assert f"pid {first.process.pid}" in lines[0], lines
        async with httpx.AsyncClient(base_url=first.url, timeout=30, headers=first.headers) as client:
            assert (await client.get("/health")).status_code == 200, "the first one serves on"
        await first.terminate()

    # Stopped: the lock went with it.
    async with serve(env=env, cwd=tmp_path) as again:
        assert (await _refused(env, tmp_path))[0].startswith("Another AgentHub")
        os.killpg(again.process.pid, signal.SIGKILL)
        await asyncio.to_thread(again.process.wait, 10)

    # Killed: the OS released the lock all the same.
    async with serve(env=env, cwd=tmp_path) as after_kill:
        async with httpx.AsyncClient(base_url=after_kill.url, timeout=30, headers=after_kill.headers) as client:
            assert (await client.get("/api/v1/agents/demo")).status_code == 200
        await after_kill.terminate()


async def test_servers_on_their_own_files_both_start(tmp_path: Path) -> None:
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    env = clean_env(DEMO_AGENT="false")
    async with serve(env=env, cwd=tmp_path / "a") as first, serve(env=env, cwd=tmp_path / "b") as second:
        for server in (first, second):
            async with httpx.AsyncClient(base_url=server.url, timeout=30, headers=server.headers) as client:
                assert (await client.get("/health")).status_code == 200
