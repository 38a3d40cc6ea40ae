"""``agenthub queues dead-letters [--retry]`` against a real ``agenthub serve`` in the
embedded mode, where the in-process bus (and so the dead letters) lives in the server."""

from __future__ import annotations

from pathlib import Path

import httpx

from tests.cli.test_cli import agenthub, logged_in
from tests.e2e.processes import clean_env, serve
from tests.runtime.helpers import eventually
from tests.workers.test_queues_api import REFUSE_POISON, health_queues, history, sql


async def test_dead_letters_are_listed_and_retried_from_the_command_line(tmp_path: Path) -> None:
    env = clean_env(QUEUE_MAX_DELIVERIES="1", LOG_JSON="true")
    database = f"sqlite+aiosqlite:///{(tmp_path / 'data' / 'agenthub.db').as_posix()}"
    async with serve(env=env, cwd=tmp_path) as server:
        api = ("--api-url", server.url)
        await logged_in(server.url, tmp_path)
        async with httpx.AsyncClient(base_url=server.url, timeout=30, headers=server.headers) as client:
            await sql(database, REFUSE_POISON)
            response = await client.post("/api/v1/agents/demo/chat", json={"content": "poison"})
            assert response.status_code == 200, response.text
            chat_id = _chat_id(response.text)
            await eventually(
                lambda: _dead(client), what="the refused answer in the dead letters"
            )

            listed = await agenthub("queues", "dead-letters", *api, cwd=tmp_path)
            assert listed.returncode == 0, listed
            # Piped: the count of each queue, as on a terminal, then a tab-separated line per letter.
            counts, [line] = _split(listed.stdout)
            assert counts == ["history_queue: 1 dead letters", "token_usage_queue: 0 dead letters"], listed.stdout
            queue, _failed_at, deliveries, _entry, error = line.split("\t")
            assert (queue, deliveries) == ("history_queue", "1")
            assert "refused: poison" in error

            await sql(database, "DROP TRIGGER refuse_poison")
            retried = await agenthub("queues", "dead-letters", "--retry", *api, cwd=tmp_path)
            assert retried.returncode == 0, retried
            assert "history_queue: 1 put back" in retried.stdout

            stored = await eventually(
                lambda: _two(history(client, "demo", chat_id)), what="the retried answer stored"
            )
            assert stored[0] == "poison" and "poison" in stored[1]
            after = await agenthub("queues", "dead-letters", *api, cwd=tmp_path)
            assert _split(after.stdout) == (["history_queue: 0 dead letters", "token_usage_queue: 0 dead letters"], [])

        missing = await agenthub("queues", "dead-letters", "--queue", "nope", *api, cwd=tmp_path)
        assert missing.returncode != 0 and "404" in missing.text and "No queue named" in missing.text
        assert "Traceback" not in missing.text


async def _dead(client: httpx.AsyncClient) -> bool:
    return (await health_queues(client))["dead_letters"]["history_queue"] == 1


async def _two(messages) -> list[str] | None:  # type: ignore[no-untyped-def]
    found = await messages
    return found if len(found) == 2 else None


def _chat_id(stream: str) -> str:
    from tests.support.sse import parse_sse

    return next(data["chat_id"] for name, data in parse_sse(stream) if name == "done")


def _split(stdout: str) -> tuple[list[str], list[str]]:
    """The count lines and the tab-separated lines of ``queues dead-letters`` piped."""
    lines = stdout.splitlines()
    return [line for line in lines if "\t" not in line], [line for line in lines if "\t" in line]
