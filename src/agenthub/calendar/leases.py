"""How the scheduler takes due events, so that each run happens once however many replicas
look at the same database.

:func:`claim_due` takes events whose ``next_run_at`` has come, in one transaction: it locks
them (``SELECT ... FOR UPDATE SKIP LOCKED`` on PostgreSQL: another replica passes over them
instead of waiting), moves ``next_run_at`` on to the following run (None for a one-time
event) and, for an event it will run, sets a lease (``lease_owner``, ``lease_until``). Each
row is changed by a compare-and-set (``WHERE next_run_at = <the value seen>``) too, which is
what makes it atomic on SQLite (one process, no row locks) and a second guard on PostgreSQL.
Once committed, no other replica sees the run as due: a run is taken once.

While an event is leased it is not taken again (a run that lasts longer than the time
between runs is not overlapped by the next); :func:`release` ends the lease when the run is
done. A replica that dies during a run loses that run (its lease expires; the event goes on
with its next run): a run happens at most once, never twice.

Runs missed while AgentHub was down (``next_run_at`` more than ``grace`` in the past)
follow the event's ``missed`` policy: ``run_once`` runs once now for all of them; ``skip``
runs none, and the event waits for its next run on schedule.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from agenthub.calendar import recurrence
from agenthub.calendar.models import CalendarEvent

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Firing:
    """One run of an event, taken by this replica: what the scheduler needs to run it."""

    event_id: str
    org_id: str
    user_id: str
    agent_id: str
    """The agent's internal id."""
    title: str
    prompt: str
    channels: list[str] | None
    due_at: datetime


def _free(now: datetime):  # type: ignore[no-untyped-def]
    return or_(CalendarEvent.lease_until.is_(None), CalendarEvent.lease_until < now)


def _following(event: CalendarEvent, now: datetime) -> datetime | None:
    try:
        return recurrence.following_run(cron=event.cron, tz=recurrence.zone(event.timezone), now=now)
    except ValueError as error:  # a schedule with no more runs (or a zone gone from the system)
        log.warning("calendar event has no next run", extra={"event_id": event.id, "error": str(error)})
        return None


async def claim_due(
    session: AsyncSession, *, now: datetime, owner: str, lease: timedelta, grace: timedelta, limit: int = 100
) -> list[Firing]:
    """Take the events due at ``now`` (oldest first, ``limit`` at most) for ``owner``, and
    commit: the runs to make now. An event past due by more than ``grace`` with the ``skip``
    policy is moved on to its next run without one."""
    due = await session.scalars(
        select(CalendarEvent)
        .where(CalendarEvent.enabled.is_(True), CalendarEvent.next_run_at <= now, _free(now))
        .order_by(CalendarEvent.next_run_at, CalendarEvent.id)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    firings: list[Firing] = []
    for event in list(due):
        seen = event.next_run_at
        assert seen is not None
        run = not (event.missed == "skip" and now - seen > grace)
        values: dict[str, object] = {"next_run_at": _following(event, now), "updated_at": CalendarEvent.updated_at}
        if run:
            values.update(lease_owner=owner, lease_until=now + lease)
        taken = await session.execute(
            update(CalendarEvent)
            .where(CalendarEvent.id == event.id, CalendarEvent.next_run_at == seen, CalendarEvent.enabled.is_(True),
                   _free(now))
            .values(**values)
            .execution_options(synchronize_session=False)
        )
        if taken.rowcount != 1:  # type: ignore[attr-defined]
            continue  # another replica took it between the read and the write
        if run:
            firings.append(Firing(
                event_id=event.id, org_id=event.org_id, user_id=event.user_id, agent_id=event.agent_id,
                title=event.title, prompt=event.prompt, channels=event.channels, due_at=seen,
            ))
        else:
            log.info("calendar event missed while down, skipped", extra={"event_id": event.id, "due_at": str(seen)})
    await session.commit()
    return firings


async def release(session: AsyncSession, *, event_id: str, owner: str, ran_at: datetime | None) -> None:
    """End ``owner``'s lease of the event (not committed); ``ran_at``: when the agent ran for
    it (its ``last_run_at``), None for a run that failed."""
    values: dict[str, object] = {"lease_owner": None, "lease_until": None, "updated_at": CalendarEvent.updated_at}
    if ran_at is not None:
        values["last_run_at"] = ran_at
    await session.execute(
        update(CalendarEvent)
        .where(CalendarEvent.id == event_id, CalendarEvent.lease_owner == owner)
        .values(**values)
        .execution_options(synchronize_session=False)
    )
