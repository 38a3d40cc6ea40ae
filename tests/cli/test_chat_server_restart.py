"""``agenthub chat`` when the server stops in the middle of an answer: the chat's id was
shown as soon as the server accepted the first line, the partial answer's line is ended,
and a line of its own says the server closed the connection and how to go on with the chat."""

from __future__ import annotations

import asyncio
import re
from pathlib import Path

import httpx

from tests.channels.helpers import create_agent
from tests.e2e.processes import AGENTHUB, clean_env, serve
from tests.support.fake_openai import FakeOpenAI

SLOW = " ".join(f"word{n}" for n in range(200))


async def _read_until(stream: asyncio.StreamReader, marker: bytes, seen: bytearray) -> None:
    while marker not in seen:
        chunk = await asyncio.wait_for(stream.read(4096), 30)
        assert chunk, seen.decode(errors="replace")
        seen += chunk


async def test_a_server_stopping_mid_answer_is_explained_with_how_to_resume(tmp_path: Path) -> None:
    with FakeOpenAI() as model:
        model.add_answer(SLOW, delay=0.1)
        async with serve(env=clean_env(), cwd=tmp_path) as served:
            async with httpx.AsyncClient(base_url=served.url, timeout=30, headers=served.headers) as client:
                agent_id = await create_agent(
                    client, provider="openai_compatible", model_id="fake-model", base_url=model.url
                )
            chat = await asyncio.create_subprocess_exec(
                AGENTHUB, "chat", agent_id, "--api-url", served.url, cwd=tmp_path, env=clean_env(AGENTHUB_TOKEN=served.token),
                stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
            )
            assert chat.stdin is not None and chat.stdout is not None
            chat.stdin.write(b"tell me a long story\n")
            await chat.stdin.drain()
            chat.stdin.close()
            seen = bytearray()
            await _read_until(chat.stdout, b"word3", seen)  # the answer is streaming
            await served.terminate()
            out, err = await asyncio.wait_for(chat.communicate(), 30)
    stdout, stderr = (bytes(seen) + out).decode(), err.decode()
    assert chat.returncode == 1, (stdout, stderr)
    # The chat id came before the answer, with how to continue the chat.
    shown = re.search(r"\(chat (\S+): continue it with --chat-id (\S+)\)", stdout)
    assert shown and shown.group(1) == shown.group(2), stdout
    assert stdout.index(shown.group(0)) < stdout.index("agent>")
    chat_id = shown.group(1)
    # The partial answer's line is ended; the explanation is on a line of its own.
    assert stdout.endswith("\n") and "word3" in stdout and "word199" not in stdout, stdout
    lines = stderr.splitlines()
    assert "the server closed the connection (1012: the server is restarting)" in lines, stderr
    assert any(f"--chat-id {chat_id}" in line for line in lines), stderr
    assert "Traceback" not in stderr
