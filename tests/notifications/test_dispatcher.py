"""The dispatcher's contracts: several dispatchers on one database send each delivery once; a
commit that queued deliveries wakes the dispatcher of its process; backoff doubles; long
Telegram texts are split without losing a character."""

from __future__ import annotations

import asyncio

from agenthub.db.engine import create_engine, create_session_factory, session_scope
from agenthub.notifications import outbox, service
from agenthub.notifications.dispatcher import NotificationDispatcher
from agenthub.notifications.senders.email import EmailSender
from agenthub.notifications.senders.telegram import split_text
from agenthub.runtime.tasks import stop_tasks
from tests.notifications.helpers import add_channel, mailing_app, notifying_app, settled
from tests.notifications.mailserver import mail_server

DELIVERIES = 40


async def test_several_dispatchers_on_one_postgresql_send_each_delivery_once(postgres_url: str) -> None:
    async with mail_server() as mail, notifying_app(postgres_url, mail) as (app, client):
        await add_channel(client, type="email", address="ann@example.com")
        me = (await client.get("/api/v1/auth/me")).json()
        # Two more replicas' dispatchers, each with its own engine (connections), besides the app's own.
        engines = [create_engine(postgres_url, pool_size=4) for _ in range(2)]
        replicas = [
            NotificationDispatcher(
                create_session_factory(engine), {"email": EmailSender(host=mail.host, port=mail.port,
                                                                      sender="hub@example.com", tls=False)},
                max_attempts=3, retry_base=0.05, batch_size=5,
            )
            for engine in engines
        ]
        try:
            async with session_scope(app.app.state.session_factory) as session:
                for n in range(DELIVERIES):
                    await service.notify(
                        session, org_id=me["org_id"], user_id=me["id"], subject=f"n{n:03d}", body="once"
                    )
            tasks = [asyncio.create_task(replica.run()) for replica in replicas]
            for replica in replicas:
                replica.wake()
            try:
                logged = await settled(client, DELIVERIES, timeout=60)
            finally:
                await stop_tasks(tasks)
        finally:
            for engine in engines:
                await engine.dispose()
        assert all(row["status"] == "sent" and row["attempts"] == 1 for row in logged)
        subjects = sorted(m.subject for m in mail.mails)
        assert subjects == [f"n{n:03d}" for n in range(DELIVERIES)]


async def test_a_commit_that_queued_deliveries_wakes_the_dispatcher_and_a_rollback_does_not(sqlite_url: str) -> None:
    async with mailing_app(sqlite_url) as (app, client):
        await add_channel(client, type="email", address="ann@example.com")
        me = (await client.get("/api/v1/auth/me")).json()
        sessions = create_session_factory(app.app.state.engine)
        woken: list[str] = []
        service.wake_on_commit(sessions, lambda: woken.append("woken"))

        async with sessions() as session:
            await service.notify(session, org_id=me["org_id"], user_id=me["id"], body="kept")
            assert woken == []  # not before the commit: the row is not there for a dispatcher yet
            await session.commit()
        assert woken == ["woken"]

        async with sessions() as session:
            await service.notify(session, org_id=me["org_id"], user_id=me["id"], body="dropped")
            await session.rollback()
        assert woken == ["woken"]

        async with sessions() as session:
            assert await service.notify(session, org_id=me["org_id"], user_id=me["id"], body="x", channels=["telegram"]) == []
            await session.commit()
        assert woken == ["woken"]


def test_backoff_doubles_from_its_base() -> None:
    assert [outbox.backoff(n, 2.0) for n in (1, 2, 3, 4)] == [2.0, 4.0, 8.0, 16.0]
    assert outbox.backoff(40, 2.0) == outbox.MAX_BACKOFF


def test_long_texts_are_split_at_telegrams_limit_without_losing_anything() -> None:
    assert split_text("") == [""]
    assert split_text("short") == ["short"]
    lines = "\n".join("a" * 99 for _ in range(100))  # 9 999 characters in lines of 100
    parts = split_text(lines)
    assert "".join(parts) == lines
    assert all(len(p) <= 4096 and p.endswith("\n") for p in parts[:-1])
    emoji = "😀" * 3000  # two UTF-16 code units each, as Telegram counts
    parts = split_text(emoji)
    assert "".join(parts) == emoji
    assert all(len(p.encode("utf-16-le")) // 2 <= 4096 for p in parts)
    assert [len(p) for p in parts] == [2048, 952]
