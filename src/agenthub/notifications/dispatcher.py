"""The dispatcher: sends pending deliveries (the outbox :func:`~agenthub.notifications.service.notify`
writes), retries with backoff, fails a delivery for good after ``NOTIFICATION_MAX_ATTEMPTS``
attempts (or at once when trying again can't help), and then falls back to the user's next
channel for a default notification.

Every gateway runs one; they share the work through the database (see :mod:`.outbox`). It is
woken as soon as a session of this process commits new deliveries, and looks by itself at
least every ``poll_interval`` seconds (for deliveries other processes added) and whenever a
retry is due. No database session is held while a message is sent (SQLite has one
connection): a claim commits, the sends run, each outcome is recorded in a session of its own.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping
from datetime import timedelta

from agenthub.config import Settings
from agenthub.db.base import utcnow
from agenthub.db.engine import SessionFactory, session_scope
from agenthub.errors import is_unavailable
from agenthub.notifications import outbox, service
from agenthub.notifications.outbox import Job
from agenthub.notifications.senders import NOT_SET_UP, Sender, SendFailed, Target

log = logging.getLogger(__name__)

POLL_INTERVAL = 2.0
"""Seconds between looks for deliveries this process was not told about."""
LEASE_SECONDS = 300.0
"""Seconds a claimed delivery is left to its dispatcher (far more than a send may take)
before another may take it up."""
MIN_WAIT = 0.05
"""Seconds a pass that took nothing waits at least, though a row looks due (another
dispatcher is claiming it just now)."""
BATCH_SIZE = 20
"""Deliveries claimed, and sent at once, per pass."""


class NotificationDispatcher:
    """Lifecycle of every background component: :meth:`setup`, :meth:`run`, :meth:`cleanup`;
    :meth:`run_once` is one pass, for tests."""

    name = "notification-dispatcher"

    def __init__(
        self, session_factory: SessionFactory, senders: Mapping[str, Sender], *, max_attempts: int,
        retry_base: float, poll_interval: float = POLL_INTERVAL, lease_seconds: float = LEASE_SECONDS,
        batch_size: int = BATCH_SIZE,
    ) -> None:
        self._sessions = session_factory
        self._senders = dict(senders)
        self.max_attempts = max_attempts
        self.retry_base = retry_base
        self.poll_interval = poll_interval
        self.lease_seconds = lease_seconds
        self.batch_size = batch_size
        self._woken = asyncio.Event()

    @classmethod
    def from_settings(
        cls, session_factory: SessionFactory, senders: Mapping[str, Sender], settings: Settings
    ) -> NotificationDispatcher:
        return cls(
            session_factory, senders, max_attempts=settings.notification_max_attempts,
            retry_base=settings.notification_retry_base,
        )

    def wake(self) -> None:
        """Look for due deliveries now (a session of this process committed some)."""
        self._woken.set()

    async def setup(self) -> None:
        service.wake_on_commit(self._sessions, self.wake)

    async def cleanup(self) -> None:
        for sender in self._senders.values():
            try:
                await sender.close()
            except Exception:  # noqa: BLE001 - closing the others matters more
                log.warning("closing a notification sender failed", extra={"channel": sender.channel_type})

    async def run_once(self) -> int:
        """Claim one batch of due deliveries and make one attempt at each; how many."""
        async with session_scope(self._sessions) as session:
            jobs = await outbox.claim(session, lease_seconds=self.lease_seconds, limit=self.batch_size)
        if jobs:
            await asyncio.gather(*(self._deliver(job) for job in jobs))
        return len(jobs)

    async def run(self) -> None:
        while True:
            self._woken.clear()  # before the pass: a wake during it makes the next wait end at once
            try:
                if await self.run_once():
                    continue
                wait = await self._until_due()
            except asyncio.CancelledError:
                raise
            except Exception as error:  # noqa: BLE001 - the rows stay pending; look again later
                if is_unavailable(error):
                    log.warning("notification dispatcher waits: the database is unreachable")
                else:
                    log.exception("notification dispatcher pass failed")
                wait = self.poll_interval
            try:
                await asyncio.wait_for(self._woken.wait(), wait)
            except TimeoutError:
                pass

    async def _until_due(self) -> float:
        async with session_scope(self._sessions) as session:
            due = await outbox.next_due(session)
        if due is None:
            return self.poll_interval
        return min(self.poll_interval, max(MIN_WAIT, (due - utcnow()).total_seconds()))

    async def _deliver(self, job: Job) -> None:
        """One attempt at one delivery, and its outcome recorded."""
        try:
            await self._send(job)
        except SendFailed as failed:
            await self._record_failure(job, failed)
        except Exception as error:  # noqa: BLE001 - a sender's bug: counted as a failed attempt
            log.exception("notification sender failed unexpectedly", extra={"channel": job.channel})
            await self._record_failure(job, SendFailed(f"the sender failed unexpectedly ({type(error).__name__})"))
        else:
            async with session_scope(self._sessions) as session:
                await outbox.record_sent(session, job)
            log.info("notification sent", extra={"delivery_id": job.id, "channel": job.channel})

    async def _send(self, job: Job) -> None:
        if not job.exists:
            raise SendFailed("the channel was deleted", permanent=True)
        sender = self._senders.get(job.channel)
        if sender is None:
            raise SendFailed(NOT_SET_UP.get(job.channel, f"no sender for {job.channel!r}"), permanent=True)
        await sender.send(Target(address=job.address, chat_id=job.chat_id), subject=job.subject, body=job.body)

    async def _record_failure(self, job: Job, failed: SendFailed) -> None:
        final = failed.permanent or job.attempts >= self.max_attempts
        retry_at = None
        if not final:
            wait = max(outbox.backoff(job.attempts, self.retry_base), failed.retry_after or 0.0)
            retry_at = utcnow() + timedelta(seconds=wait)
        async with session_scope(self._sessions) as session:
            fallback = await outbox.record_failure(session, job, failed.message, retry_at=retry_at)
        log.warning(
            "notification attempt failed: %s", failed.message,
            extra={"delivery_id": job.id, "channel": job.channel, "attempts": job.attempts, "final": final},
        )
        if fallback is not None:
            self.wake()
