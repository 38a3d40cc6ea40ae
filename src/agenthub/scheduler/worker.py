"""The scheduler: every ``SCHEDULER_INTERVAL`` seconds it takes the calendar events that are
due (under a lease, so each run happens once with any number of replicas: see
:mod:`agenthub.calendar.leases`), runs each event's agent with its prompt as a message from
the event's user (:mod:`agenthub.scheduler.proactive`) and notifies the user with the answer
(:func:`agenthub.notifications.service.notify`: delivery rows the dispatcher sends).

Runs go on side by side as tasks, so one slow agent delays no other event and no look. A
run that fails (the agent down or failing, a budget spent, the agent deleted) is logged and
the loop goes on; the event is not run again for it (it waits for its next run).

One lifecycle as the other workers: ``setup()``, ``run()`` (until cancelled), ``cleanup()``;
:meth:`Scheduler.run_once` is one look, for tests.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from datetime import datetime, timedelta

from sqlalchemy import select

from agenthub.accounts.models import User
from agenthub.agents import service as agents_service
from agenthub.calendar import leases
from agenthub.calendar.leases import Firing
from agenthub.caller import Caller
from agenthub.channels.gateway import START_ALLOWANCE, Gateway
from agenthub.config import Settings
from agenthub.db.base import utcnow
from agenthub.db.engine import SessionFactory, session_scope
from agenthub.errors import NotFound
from agenthub.notifications import service as notifications_service
from agenthub.runtime.tasks import raise_if_cancel_requested, stop_tasks
from agenthub.scheduler import proactive

log = logging.getLogger(__name__)

MIN_GRACE = timedelta(seconds=60)
"""A run later than this (or three intervals, if longer) was missed (AgentHub was down)."""
MAX_RUNNING = 100
"""Runs of this replica under way at most; more due events wait for the next look."""
LEASE_MARGIN = 30.0
"""Seconds a lease outlasts the longest a run may wait for its answer."""


def chat_of(event_id: str) -> str:
    """The chat an event's runs are in: one per event, so each run sees the ones before."""
    return f"calendar-{event_id.removeprefix('evt_')}"


class Scheduler:
    name = "scheduler"

    def __init__(
        self, *, sessions: SessionFactory, gateway: Gateway, settings: Settings, owner: str | None = None
    ) -> None:
        self._sessions = sessions
        self._gateway = gateway
        self._interval = settings.scheduler_interval
        self._grace = max(MIN_GRACE, timedelta(seconds=3 * settings.scheduler_interval))
        self._lease = timedelta(seconds=settings.turn_timeout + START_ALLOWANCE + LEASE_MARGIN)
        self.owner = owner or f"scheduler-{uuid.uuid4().hex[:12]}"
        self._running: set[asyncio.Task[None]] = set()

    async def setup(self) -> None:
        """Nothing to prepare: the tables are the migration's."""

    async def run(self) -> None:
        """Look every interval until cancelled; a look that fails (the database away) is
        logged and the next one tried."""
        while True:
            try:
                await self.run_once()
            except asyncio.CancelledError:
                raise
            except Exception as error:  # noqa: BLE001 - the loop must outlive any one look
                log.warning("scheduler look failed: %s", type(error).__name__, extra={"error": str(error)[:500]})
            raise_if_cancel_requested()
            await asyncio.sleep(self._interval)

    async def run_once(self, *, now: datetime | None = None) -> list[asyncio.Task[None]]:
        """Take what is due and start its runs; the tasks running them."""
        room = MAX_RUNNING - len(self._running)
        if room <= 0:
            return []
        async with self._sessions() as session:
            firings = await leases.claim_due(
                session, now=now or utcnow(), owner=self.owner, lease=self._lease, grace=self._grace, limit=room
            )
        started = []
        for firing in firings:
            task = asyncio.create_task(self._fire(firing), name=f"calendar:{firing.event_id}")
            self._running.add(task)
            task.add_done_callback(self._running.discard)
            started.append(task)
        return started

    async def cleanup(self) -> None:
        """Stop the runs under way (their leases expire; those runs are lost, not repeated)."""
        await stop_tasks(list(self._running))

    async def _fire(self, firing: Firing) -> None:
        ran_at: datetime | None = None
        answer = ""
        try:
            caller, handle = await self._who(firing)
            answer = await proactive.ask(
                self._gateway, caller=caller, agent_id=handle, prompt=firing.prompt,
                chat_id=chat_of(firing.event_id), user_data={"event_id": firing.event_id},
            )
            ran_at = utcnow()
        except asyncio.CancelledError:
            raise
        except Exception as error:  # noqa: BLE001 - a failed run is logged; the others go on
            log.warning(
                "calendar event run failed: %s", type(error).__name__,
                extra={"event_id": firing.event_id, "agent_id": firing.agent_id, "error": str(error)[:500]},
            )
        try:
            async with session_scope(self._sessions) as session:
                await leases.release(session, event_id=firing.event_id, owner=self.owner, ran_at=ran_at)
                if ran_at is not None:
                    await notifications_service.notify(
                        session, org_id=firing.org_id, user_id=firing.user_id, subject=firing.title, body=answer,
                        channels=firing.channels, source=f"calendar:{firing.event_id}",
                    )
        except Exception as error:  # noqa: BLE001
            log.warning(
                "calendar event run not recorded: %s", type(error).__name__,
                extra={"event_id": firing.event_id, "error": str(error)[:500]},
            )
            return
        if ran_at is not None:
            log.info("calendar event ran", extra={"event_id": firing.event_id, "agent_id": firing.agent_id})

    async def _who(self, firing: Firing) -> tuple[Caller, str]:
        """The event's user as a caller, and the agent's handle in their organisation."""
        async with self._sessions() as session:
            user = await session.scalar(select(User).where(User.id == firing.user_id))
            handles = await agents_service.handles(session, [firing.agent_id])
        if user is None or user.org_id != firing.org_id:
            raise NotFound("the event's user is no longer in its organisation")
        if firing.agent_id not in handles:
            raise NotFound(f"agent {firing.agent_id!r} not found")
        return Caller(org_id=user.org_id, user_id=user.id, role=user.role), handles[firing.agent_id]
