"""Issue 10, point 7, as a user sees it: ``agenthub serve`` runs as a real process; a recurring
calendar event fires, its agent answers the event's prompt, and the answer reaches the user
by e-mail (a real SMTP server on 127.0.0.1, aiosmtpd) and by Telegram (the fake Bot API,
through python-telegram-bot), one mail and one Telegram message for each firing. Embedded
(SQLite, the in-process bus) and with PostgreSQL + Redis."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from agenthub.db.engine import create_engine, create_session_factory
from tests.channels.helpers import eventually
from tests.e2e.processes import clean_env, run_cli, serve
from tests.notifications.mailserver import Mail, mail_server
from tests.scheduler.helpers import event_row
from tests.support.fake_telegram import Call, FakeBotApi

pytestmark = pytest.mark.e2e

BOT_TOKEN = "987654:e2e-platform-bot-token-never-logged"
SENDER = "agenthub@example.com"
ADDRESS = "owner@example.com"
CHAT_ID = "424242"
TITLE = "Morning briefing"
PROMPT = "What is on my agenda today?"
EVENTS = "/api/v1/calendar/events"


def answer(number: int) -> str:
    """The demo agent's answer to the event's prompt, the ``number``-th message of the event's chat
    (the offline ``fake`` model: see agenthub/llm/fake.py)."""
    return f'You said: "{PROMPT}". That is message {number} of this chat.'


@pytest.fixture(params=[
    "sqlite", pytest.param("postgres+redis", marks=[pytest.mark.postgres, pytest.mark.redis]),
])
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> dict[str, str]:
    """Where the served AgentHub keeps its data: its own SQLite file (embedded), or a fresh
    PostgreSQL database, migrated, and a Redis prefix of its own."""
    if request.param == "sqlite":
        return {"DATABASE_URL": request.getfixturevalue("sqlite_url")}
    values = {
        "DATABASE_URL": request.getfixturevalue("postgres_url"),
        "REDIS_URL": request.getfixturevalue("redis_server_url"),
        "REDIS_KEY_PREFIX": request.getfixturevalue("redis_prefix"),
    }
    migrated = run_cli("migrate", env=clean_env(**values), cwd=tmp_path)
    assert migrated.returncode == 0, migrated.stderr
    return values


def _texts(api: FakeBotApi) -> list[str]:
    return [str(call.params.get("text", "")) for call in api.sent(BOT_TOKEN)]


async def test_a_recurring_event_runs_its_agent_and_the_answer_arrives_by_email_and_telegram_once_each(
    tmp_path: Path, backend: dict[str, str]
) -> None:
    async with mail_server() as mail, FakeBotApi() as api:
        api.add_bot(BOT_TOKEN)
        env = clean_env(
            **backend,
            SMTP_HOST=mail.host, SMTP_PORT=str(mail.port), SMTP_TLS="false", SMTP_FROM=SENDER,
            TELEGRAM_BOT_TOKEN=BOT_TOKEN, TELEGRAM_API_BASE_URL=api.root,
            SCHEDULER_INTERVAL="0.2",
        )
        async with serve(env=env, cwd=tmp_path) as server:
            async with httpx.AsyncClient(base_url=server.url, timeout=30, headers=server.headers) as client:
                # The user's two channels: an e-mail address and a Telegram chat.
                email = await _post(client, "/api/v1/notification-channels", type="email", address=ADDRESS, priority=1)
                telegram = await _post(
                    client, "/api/v1/notification-channels", type="telegram", chat_id=CHAT_ID, priority=2
                )

                # Every second (a sixth cron field: seconds), from a moment ago, to both channels.
                start = (datetime.now(UTC) - timedelta(minutes=1)).isoformat()
                event = await _post(
                    client, EVENTS, title=TITLE, agent_id="demo", prompt=PROMPT, start_at=start,
                    timezone="Europe/Berlin", cron="* * * * * *", channels=["email", "telegram"],
                )
                assert event["next_run_at"] is not None and event["enabled"] is True

                # Two firings' answers arrive on both channels (it recurs; a second later, its
                # agent answers the second message of the event's chat).
                first_mail = await mail.next_mail(timeout=60)
                second_mail = await mail.next_mail(timeout=60)
                await api.wait_for(lambda calls: sum(_to_the_chat(c) for c in calls) >= 2, timeout=60)

                # Paused: a run under way ends; none starts after it.
                paused = await client.patch(f"{EVENTS}/{event['id']}", json={"enabled": False})
                assert paused.status_code == 200, paused.text
                assert paused.json()["enabled"] is False
                await _no_run_under_way(backend["DATABASE_URL"], event["id"])
                rows = await eventually(
                    lambda: _deliveries_settled(client, event["id"]), timeout=60, what="every delivery sent"
                )

                # The event ran (its last run is shown).
                shown = (await client.get(f"{EVENTS}/{event['id']}")).json()
                assert shown["last_run_at"] is not None and shown["enabled"] is False

                # Each firing made one notification with one row per named channel, each sent once.
                firings = Counter(row["notification_id"] for row in rows)
                count = len(firings)
                assert count >= 2
                assert all(n == 2 for n in firings.values()), rows
                assert Counter(row["channel"] for row in rows) == {"email": count, "telegram": count}
                assert {row["channel_id"] for row in rows} == {email["id"], telegram["id"]}
                assert all(row["status"] == "sent" and row["attempts"] == 1 and row["error"] is None for row in rows)
                assert all(row["subject"] == TITLE for row in rows)

                # What the user got: one mail and one Telegram message per firing, each the
                # agent's answer to the prompt (the n-th firing is the n-th message of its chat).
                await eventually(lambda: _arrived(mail.mails, api, count), timeout=30, what="every message received")
                expected = [answer(n) for n in range(1, count + 1)]
                assert sorted(m.body for m in mail.mails) == sorted(expected)
                assert sorted(_texts(api)) == sorted(f"{TITLE}\n\n{text}" for text in expected)
                assert (first_mail.body, second_mail.body) == (answer(1), answer(2))
                for message in mail.mails:
                    assert message.recipients == [ADDRESS]
                    assert message.sender == SENDER
                    assert message.subject == TITLE
                    assert message.message["From"] == SENDER and message.message["To"] == ADDRESS
                assert all(_to_the_chat(call) for call in api.sent(BOT_TOKEN)), api.sent(BOT_TOKEN)

                # The agent's chat for the event holds each run's prompt and answer.
                chat = f"calendar-{event['id'].removeprefix('evt_')}"
                items = await eventually(
                    lambda: _chat_of_at_least(client, chat, 2 * count), timeout=30, what="the runs stored"
                )
                assert [m["content"] for m in items if m["role"] == "user"] == [PROMPT] * count
                assert [m["content"] for m in items if m["role"] == "assistant"] == expected

            output = server.output()
            await server.terminate(timeout=30)
    assert BOT_TOKEN not in output and BOT_TOKEN.split(":")[1] not in output, "the bot's token reached the logs"
    assert "calendar event ran" in output


async def _post(client: httpx.AsyncClient, path: str, **body: Any) -> dict[str, Any]:
    response = await client.post(path, json=body)
    assert response.status_code == 201, response.text
    return dict(response.json())


def _to_the_chat(call: Call) -> bool:
    return call.method == "sendMessage" and str(call.params.get("chat_id")) == CHAT_ID


async def _no_run_under_way(database_url: str, event_id: str) -> None:
    """Wait until the paused event is not leased: no run of it is under way (the scheduler holds
    a lease for a run's whole length; a paused event is never taken again). The one thing the
    API does not show, read from the database."""
    engine = create_engine(database_url)
    sessions = create_session_factory(engine)

    async def free() -> bool:
        row = await event_row(sessions, event_id)
        assert row is not None and row.enabled is False
        return row.lease_owner is None

    try:
        await eventually(free, timeout=60, what="the event's last run to end")
    finally:
        await engine.dispose()


async def _deliveries_settled(client: httpx.AsyncClient, event_id: str) -> list[dict[str, Any]] | None:
    response = await client.get("/api/v1/notifications/deliveries")
    assert response.status_code == 200, response.text
    rows = [row for row in response.json() if row["source"] == f"calendar:{event_id}"]
    return rows if rows and all(row["status"] != "pending" for row in rows) else None


async def _arrived(mails: list[Mail], api: FakeBotApi, count: int) -> bool:
    return len(mails) >= count and len(api.sent(BOT_TOKEN)) >= count


async def _chat_of_at_least(client: httpx.AsyncClient, chat_id: str, count: int) -> list[dict[str, Any]] | None:
    response = await client.get(f"/api/v1/agents/demo/chats/{chat_id}/messages")
    if response.status_code == 404:
        return None
    assert response.status_code == 200, response.text
    items: list[dict[str, Any]] = response.json()["items"]
    return items if len(items) >= count else None
