"""The dispatcher's work on the delivery rows: claim what is due, record how an attempt went.

Claiming is safe with any number of dispatchers (gateway replicas) on one database: a due
row (``pending``, ``next_attempt_at <= now``) is taken by one UPDATE that counts the attempt
and moves ``next_attempt_at`` to the end of a lease, guarded by the same condition, so of two
dispatchers that saw the same row only one takes it. On PostgreSQL the rows are first locked
with ``FOR UPDATE SKIP LOCKED``, so dispatchers pass each other by instead of waiting. A
dispatcher that dies while sending leaves the row to be taken again when its lease ends
(at-least-once: that one message may then arrive twice).

The attempt count is the lease's fence: an outcome is recorded only if the row still has the
count its claim gave it (no other dispatcher took it over meanwhile).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from agenthub.db.base import utcnow
from agenthub.notifications import service
from agenthub.notifications.models import NotificationChannel, NotificationDelivery

MAX_BACKOFF = 3600.0
"""Seconds: the longest wait between two attempts, however many there were."""


@dataclass(frozen=True, slots=True)
class Job:
    """A claimed delivery, with where its channel points now (None: the channel is gone)."""

    id: str
    notification_id: str
    org_id: str
    user_id: str
    channel: str
    channel_id: str | None
    address: str | None
    chat_id: str | None
    exists: bool
    subject: str
    body: str
    source: str | None
    attempts: int
    fallback: bool


async def claim(session: AsyncSession, *, lease_seconds: float, limit: int) -> list[Job]:
    """Take up to ``limit`` due deliveries for one attempt each (the caller commits)."""
    now = utcnow()
    due = (
        select(NotificationDelivery.id)
        .where(NotificationDelivery.status == "pending", NotificationDelivery.next_attempt_at <= now)
        .order_by(NotificationDelivery.next_attempt_at)
        .limit(limit)
    )
    if session.get_bind().dialect.name == "postgresql":
        due = due.with_for_update(skip_locked=True)
    ids = list(await session.scalars(due))
    if not ids:
        return []
    taken = await session.scalars(
        update(NotificationDelivery)
        .where(
            NotificationDelivery.id.in_(ids), NotificationDelivery.status == "pending",
            NotificationDelivery.next_attempt_at <= now,
        )
        .values(
            attempts=NotificationDelivery.attempts + 1, next_attempt_at=now + timedelta(seconds=lease_seconds),
            updated_at=now,
        )
        .returning(NotificationDelivery.id)
        .execution_options(synchronize_session=False)
    )
    claimed = list(taken)
    if not claimed:
        return []
    rows = await session.execute(
        select(NotificationDelivery, NotificationChannel)
        .outerjoin(NotificationChannel, NotificationChannel.id == NotificationDelivery.channel_id)
        .where(NotificationDelivery.id.in_(claimed))
        .execution_options(populate_existing=True)
    )
    return [_job(delivery, channel) for delivery, channel in rows]


def _job(delivery: NotificationDelivery, channel: NotificationChannel | None) -> Job:
    return Job(
        id=delivery.id, notification_id=delivery.notification_id, org_id=delivery.org_id,
        user_id=delivery.user_id, channel=delivery.channel, channel_id=delivery.channel_id,
        address=channel.address if channel else None, chat_id=channel.chat_id if channel else None,
        exists=channel is not None, subject=delivery.subject, body=delivery.body, source=delivery.source, attempts=delivery.attempts,
        fallback=delivery.fallback,
    )


def _mine(job: Job):  # type: ignore[no-untyped-def]
    """The row as the claim left it: still pending, with the claim's attempt count."""
    return (
        NotificationDelivery.id == job.id, NotificationDelivery.status == "pending",
        NotificationDelivery.attempts == job.attempts,
    )


async def record_sent(session: AsyncSession, job: Job) -> bool:
    now = utcnow()
    result = await session.execute(
        update(NotificationDelivery).where(*_mine(job))
        .values(status="sent", sent_at=now, error=None, next_attempt_at=None, updated_at=now)
        .execution_options(synchronize_session=False)
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


def backoff(attempts: int, base: float) -> float:
    """Seconds before the next attempt after ``attempts`` failed ones: ``base``, doubled each time."""
    return min(MAX_BACKOFF, base * 2 ** max(0, attempts - 1))


async def record_failure(
    session: AsyncSession, job: Job, error: str, *, retry_at: datetime | None
) -> str | None:
    """Record a failed attempt: tried again at ``retry_at``, or (None) failed for good. Then,
    for a default notification, the user's next channel by priority gets a row of its own;
    its id, if one was added."""
    now = utcnow()
    values = {"error": error, "updated_at": now}
    if retry_at is None:
        values.update(status="failed", next_attempt_at=None)
    else:
        values["next_attempt_at"] = retry_at
    result = await session.execute(
        update(NotificationDelivery).where(*_mine(job)).values(**values)
        .execution_options(synchronize_session=False)
    )
    if not result.rowcount or retry_at is not None or not job.fallback:  # type: ignore[attr-defined]
        return None
    return await _fall_back(session, job)


async def _fall_back(session: AsyncSession, job: Job) -> str | None:
    tried = set(await session.scalars(
        select(NotificationDelivery.channel_id).where(NotificationDelivery.notification_id == job.notification_id)
    ))
    channels = await service.channels_of(session, org_id=job.org_id, user_id=job.user_id)
    following = next((c for c in channels if c.id not in tried), None)
    if following is None:
        return None
    row = NotificationDelivery(
        id=service.new_id("dlv"), notification_id=job.notification_id, org_id=job.org_id, user_id=job.user_id,
        channel=following.type, channel_id=following.id, subject=job.subject, body=job.body,
        source=job.source,
        fallback=True, status="pending", attempts=0, next_attempt_at=utcnow(),
    )
    session.add(row)
    await session.flush()
    return row.id


async def next_due(session: AsyncSession) -> datetime | None:
    """When the earliest pending delivery is due (a lease's end for one being sent)."""
    return await session.scalar(
        select(func.min(NotificationDelivery.next_attempt_at)).where(NotificationDelivery.status == "pending")
    )
