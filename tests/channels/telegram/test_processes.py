"""In production (``agenthub serve`` on PostgreSQL + Redis) each running bot is a process of
its own, supervised by the serve process: restarted when it dies, ended on a stop. Its
webhook may be posted to any replica: the update reaches the process running the bot."""

from __future__ import annotations

import os
import signal
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from pathlib import Path
from typing import Any

import httpx

from tests.agents.helpers import assert_error, migrated, wait_for
from tests.channels.telegram.helpers import PUBLIC_URL, TOKEN, World, texts_to
from tests.e2e.processes import Served, clean_env, serve
from tests.support.fake_telegram import FakeBotApi

BOX_KEY = "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY="
SECRET = "webhook-secret-0123456789"
HEADER = "X-Telegram-Bot-Api-Secret-Token"


def _env(postgres_url: str, redis_url: str, prefix: str, api: FakeBotApi) -> dict[str, str]:
    return clean_env(
        DEMO_AGENT="false", DATABASE_URL=postgres_url, REDIS_URL=redis_url, REDIS_KEY_PREFIX=prefix,
        TELEGRAM_API_BASE_URL=api.root, PUBLIC_URL=PUBLIC_URL, SECRET_BOX_KEY=BOX_KEY, STOP_GRACE_PERIOD="2",
    )


@asynccontextmanager
async def _worlds(env: dict[str, str], cwd: Path, api: FakeBotApi, count: int) -> AsyncIterator[list[tuple[Served, World]]]:
    async with AsyncExitStack() as stack:
        worlds = []
        for _ in range(count):
            server = await stack.enter_async_context(serve(env=env, cwd=cwd))
            client = await stack.enter_async_context(
                httpx.AsyncClient(base_url=server.url, timeout=30, headers=server.headers)
            )
            worlds.append((server, World(api, None, client)))  # type: ignore[arg-type]
        yield worlds


def _alive(pid: int) -> bool:
    """The process exists and is not a zombie."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, ProcessLookupError):
        return False
    return state != "Z"


def _command(pid: int) -> str:
    return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")


async def _running_other_than(w: World, agent_id: str, pid: int | None) -> dict[str, Any]:
    async def probe() -> dict[str, Any] | None:
        status = await w.status(agent_id)
        return status if status["status"] == "running" and status["pid"] not in (None, pid) else None

    status = await wait_for(probe, timeout=30)
    assert status, await w.status(agent_id)
    return status


async def test_a_bot_is_a_process_of_its_own_restarted_when_it_dies_and_ended_on_a_stop(
    postgres_url: str, redis_server_url: str, redis_prefix: str, tmp_path: Path, api: FakeBotApi
) -> None:
    api.add_bot(TOKEN)
    await migrated(postgres_url)
    env = _env(postgres_url, redis_server_url, redis_prefix, api)
    async with _worlds(env, tmp_path, api, 1) as [(server, w)]:
        await w.agent("tg-bot", await w.credential())
        response = await w.client.post("/api/v1/integrations/tg-bot/telegram/start")  # the seed's path
        assert response.status_code == 200, response.text
        first = (await _running_other_than(w, "tg-bot", None))["pid"]
        assert first != server.process.pid and _alive(first)
        assert "agenthub telegram" in _command(first)
        await api.user_says(TOKEN, "hi")
        calls = await w.replies(lambda sent: len(texts_to(sent)) >= 1)
        assert texts_to(calls) == ['You said: "hi". That is message 1 of this chat.']
        # Killed: the serve process starts it again, and it answers again.
        os.kill(first, signal.SIGKILL)
        second = (await _running_other_than(w, "tg-bot", first))["pid"]
        assert _alive(second)
        await api.user_says(TOKEN, "again")
        calls = await w.replies(lambda sent: len(texts_to(sent)) >= 2)
        assert texts_to(calls)[1] == 'You said: "again". That is message 2 of this chat.'
        # Stopped (the seed's path): its process ends.
        stopped = await w.client.post("/api/v1/integrations/tg-bot/telegram/stop")
        assert stopped.status_code == 200 and stopped.json()["status"] == "stopped", stopped.text

        async def gone() -> bool:
            return not _alive(second)

        assert await wait_for(gone, timeout=15)
        await server.terminate(timeout=30)


async def test_a_webhook_update_posted_to_another_replica_is_answered_by_the_bot(
    postgres_url: str, redis_server_url: str, redis_prefix: str, tmp_path: Path, api: FakeBotApi
) -> None:
    api.add_bot(TOKEN)
    await migrated(postgres_url)
    env = _env(postgres_url, redis_server_url, redis_prefix, api)
    async with _worlds(env, tmp_path, api, 2) as [(_, a), (_, b)]:
        created = await a.agent("hooked", await a.credential(), mode="webhook", webhook_secret=SECRET)
        await a.start("hooked")
        path = f"/api/v1/agents/{created['address']}/integrations/telegram/webhook"
        update = {"update_id": 11, "message": {
            "message_id": 1, "date": 0, "chat": {"id": 42, "type": "private"},
            "from": {"id": 42, "is_bot": False, "first_name": "Ann"}, "text": "via b",
        }}
        # B does not run the bot: a wrong or missing secret is 401 there, the right one is taken.
        assert_error(await b.client.post(path, json=update, headers={HEADER: "wrong"}), 401, "unauthorized")
        assert_error(await b.client.post(path, json=update), 401, "unauthorized")
        accepted = await b.client.post(path, json=update, headers={HEADER: SECRET})
        assert accepted.status_code == 200, accepted.text
        calls = await a.replies(lambda sent: len(texts_to(sent)) >= 1)
        assert texts_to(calls) == ['You said: "via b". That is message 1 of this chat.']
        # Once: no second answer comes with the next one.
        again = {**update, "update_id": 12, "message": {**update["message"], "message_id": 2, "text": "more"}}
        assert (await a.client.post(path, json=again, headers={HEADER: SECRET})).status_code == 200
        calls = await a.replies(lambda sent: len(texts_to(sent)) >= 2)
        assert texts_to(calls) == [
            'You said: "via b". That is message 1 of this chat.', 'You said: "more". That is message 2 of this chat.',
        ]
        # Stopped: no replica takes its updates any more.
        assert (await b.client.post("/api/v1/agents/hooked/integrations/telegram/stop")).status_code == 200
        assert_error(await b.client.post(path, json=update, headers={HEADER: SECRET}), 401, "unauthorized")
