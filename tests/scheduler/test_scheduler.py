"""The scheduler in a running AgentHub: due events run their agent with the prompt, as their
user, and the answer is queued for the user's notification channels."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta

import httpx

from tests.agents.helpers import agent_body, client_for
from tests.notifications.mailserver import mail_server
from tests.scheduler.helpers import (
    add_channel,
    deliveries,
    event_row,
    eventually,
    iso,
    set_event,
    user_messages,
)
from tests.support.server import RunningApp

EVENTS = "/api/v1/calendar/events"
INTERVAL = 0.2


@asynccontextmanager
async def scheduled(database_url: str) -> AsyncIterator[tuple[RunningApp, httpx.AsyncClient, str]]:
    """A running app that looks for due events every :data:`INTERVAL` seconds and sends e-mail
    (to a local SMTP server), with an agent ``helper`` and an e-mail channel of the owner's;
    and that channel's id."""
    async with mail_server() as mail, client_for(
        database_url, scheduler_interval=INTERVAL, smtp_host=mail.host, smtp_port=mail.port, smtp_tls=False,
        smtp_from="hub@example.com",
    ) as (app, client):
        assert (await client.post("/api/v1/agents", json=agent_body(id="helper"))).status_code == 201
        me = (await client.get("/api/v1/auth/me")).json()
        channel = await add_channel(app.app.state.session_factory, org_id=me["org_id"], user_id=me["id"])
        yield app, client, channel


async def _create(client: httpx.AsyncClient, **body: object) -> dict[str, object]:
    sent = {"title": "Reminder", "agent_id": "helper", "prompt": "Time to stretch", "timezone": "UTC", **body}
    response = await client.post(EVENTS, json=sent)
    assert response.status_code == 201, response.text
    return response.json()


async def test_a_due_one_time_event_runs_its_agent_and_notifies_the_user_once(sqlite_url: str) -> None:
    async with scheduled(sqlite_url) as (app, client, channel):
        sessions = app.app.state.session_factory
        event = await _create(client, start_at=iso(datetime.now(UTC)), title="Stretch")
        event_id = str(event["id"])

        sent = await eventually(lambda: deliveries(sessions, event_id))
        assert len(sent) == 1
        assert sent[0].subject == "Stretch" and sent[0].channel == "email" and sent[0].channel_id == channel
        assert sent[0].body == 'You said: "Time to stretch". That is message 1 of this chat.'
        # Queued for the dispatcher, which sends it to the local mail server.
        assert sent[0].status in ("pending", "sent")

        read = (await client.get(f"{EVENTS}/{event_id}")).json()
        assert read["next_run_at"] is None and read["last_run_at"] is not None
        # It ran once: another look of the scheduler finds nothing more to do.
        assert not await app.app.state.scheduler.run_once()
        assert len(await deliveries(sessions, event_id)) == 1 and await user_messages(sessions, event_id) == 1


async def test_a_recurring_event_runs_again_and_again_in_one_chat(sqlite_url: str) -> None:
    async with scheduled(sqlite_url) as (app, client, _channel):
        sessions = app.app.state.session_factory
        every_second = "* * * * * *"  # croniter's sixth field: seconds
        event = await _create(client, start_at=iso(datetime.now(UTC)), cron=every_second, channels=["email"])
        event_id = str(event["id"])

        async def three() -> bool:
            return len(await deliveries(sessions, event_id)) >= 3

        await eventually(three)
        bodies = [row.body for row in await deliveries(sessions, event_id)][:3]
        # One chat per event: each run sees the ones before it.
        assert [body.rsplit("message ", 1)[1] for body in bodies] == ["1 of this chat.", "2 of this chat.",
                                                                      "3 of this chat."]
        assert (await client.patch(f"{EVENTS}/{event_id}", json={"enabled": False})).status_code == 200
        row = await event_row(sessions, event_id)
        assert row is not None and row.last_run_at is not None and row.next_run_at is None


async def test_runs_missed_while_down_are_run_once_or_skipped_as_the_event_says(sqlite_url: str) -> None:
    async with scheduled(sqlite_url) as (app, client, _channel):
        sessions = app.app.state.session_factory
        start = iso(datetime.now(UTC) + timedelta(days=1))
        hourly = "0 * * * *"
        run_once = str((await _create(client, start_at=start, cron=hourly, enabled=False))["id"])
        skip = str((await _create(client, start_at=start, cron=hourly, missed="skip", enabled=False))["id"])
        once_skipped = str((await _create(client, start_at=start, missed="skip", enabled=False))["id"])
        # As AgentHub finds them after five hours down: the last run due five hours ago.
        down_since = datetime.now(UTC) - timedelta(hours=5)
        for event_id in (run_once, skip, once_skipped):
            await set_event(sessions, event_id, enabled=True, next_run_at=down_since)

        async def all_taken() -> bool:
            rows = [await event_row(sessions, event_id) for event_id in (run_once, skip, once_skipped)]
            return all(row is not None and row.next_run_at != down_since for row in rows) and bool(
                await deliveries(sessions, run_once)
            )

        await eventually(all_taken)
        now = datetime.now(UTC)
        # run_once: one run for all five missed, then the next one on schedule.
        assert len(await deliveries(sessions, run_once)) == 1 and await user_messages(sessions, run_once) == 1
        ran = await event_row(sessions, run_once)
        assert ran is not None and ran.next_run_at is not None and now < ran.next_run_at <= now + timedelta(hours=1)
        # skip: none, the next one on schedule.
        assert await deliveries(sessions, skip) == [] and await user_messages(sessions, skip) == 0
        skipped = await event_row(sessions, skip)
        assert skipped is not None and skipped.last_run_at is None
        assert skipped.next_run_at is not None and now < skipped.next_run_at <= now + timedelta(hours=1)
        # A one-time event missed with skip: never runs.
        gone = await event_row(sessions, once_skipped)
        assert gone is not None and gone.next_run_at is None and gone.last_run_at is None
        assert await deliveries(sessions, once_skipped) == []


async def test_a_run_that_fails_is_not_repeated_and_the_others_go_on(sqlite_url: str) -> None:
    async with scheduled(sqlite_url) as (app, client, _channel):
        sessions = app.app.state.session_factory
        assert (await client.post("/api/v1/agents", json=agent_body(id="doomed"))).status_code == 201
        doomed = str((await _create(client, agent_id="doomed", start_at=iso(datetime.now(UTC) + timedelta(hours=1))))["id"])
        assert (await client.delete("/api/v1/agents/doomed")).status_code == 204
        await set_event(sessions, doomed, next_run_at=datetime.now(UTC))

        async def taken() -> bool:
            row = await event_row(sessions, doomed)
            return row is not None and row.next_run_at is None and row.lease_owner is None

        await eventually(taken)
        assert await deliveries(sessions, doomed) == []
        row = await event_row(sessions, doomed)
        assert row is not None and row.last_run_at is None  # it never ran

        fine = str((await _create(client, start_at=iso(datetime.now(UTC))))["id"])
        assert len(await eventually(lambda: deliveries(sessions, fine))) == 1
        assert await deliveries(sessions, doomed) == []
