"""Delayed and periodic messages of scenario bots: the steps' emitters (a ``DelayedMove``
row, written with the session's save when it enters a step that has one) and the bots'
crons (``BotCron``).

Each look takes what is due under a lease (``lease_owner``, ``lease_until``), as the
calendar's scheduler does (:mod:`agenthub.calendar.leases`): the rows are read ``FOR UPDATE
SKIP LOCKED`` on PostgreSQL and each is taken by a compare-and-set, so with any number of
replicas one takes it. A delayed move is marked done (``done_at``) when taken; a cron's
``next_run_at`` moves on to its following time when taken: each fires once.

Firing is a message pushed to the bot (:meth:`Gateway.push`) in the session's chat, from
the session's user, whose envelope carries ``delayed_move`` (``{"id", "from_step",
"next_step"}``): the bot's host enters ``next_step`` instead of evaluating groups
(:func:`agenthub.scenarios.engine.move`), if the session is still in ``from_step`` (a cron:
any step), and what it sends goes where any answer of that chat goes: the history,
Telegram, the WebSockets watching the chat. The pushed message's id is made from the move
(or the cron, its due time and the session), so a session's host that gets it twice does
not move twice.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, or_, select, update

from agenthub.calendar import recurrence
from agenthub.channels.gateway import Gateway
from agenthub.chats.service import PUSH_PREFIX
from agenthub.config import Settings
from agenthub.db.base import utcnow
from agenthub.db.engine import SessionFactory, session_scope
from agenthub.runtime.tasks import raise_if_cancel_requested
from agenthub.scenarios.export import keys_of
from agenthub.scenarios.models import BotCron, DelayedMove, ScenarioSession, Step
from agenthub.scenarios.sessions import DELAYED_MOVE, TEST_PREFIX

log = logging.getLogger(__name__)

LEASE = timedelta(seconds=120)
"""How long a taken row is this replica's (it is marked done or moved on when taken: the
lease only keeps a second replica off while the first commits)."""
BATCH = 200
"""Rows taken at most per look, of each kind."""
KEEP_DONE = timedelta(days=1)
"""How long a fired (or dropped) delayed move's row is kept; then a look deletes it."""
PURGE_EVERY = 60
"""Looks between two deletions of old done moves."""


@dataclass(frozen=True, slots=True)
class Push:
    """One message to push: a session of a bot to move to ``next_step``."""

    push_id: str
    org_id: str
    bot_id: str
    chat_id: str
    channel: str
    user_key: str
    from_step: str | None
    next_step: str


def _free(model: type[DelayedMove] | type[BotCron], now: datetime):  # type: ignore[no-untyped-def]
    return or_(model.lease_until.is_(None), model.lease_until < now)


class ScenarioTimers:
    """Lifecycle ``setup()``, ``run()`` (until cancelled), ``cleanup()``; :meth:`run_once`
    is one look (for tests, with a controlled ``now``)."""

    name = "scenario-timers"

    def __init__(
        self, *, sessions: SessionFactory, gateway: Gateway, settings: Settings, owner: str | None = None
    ) -> None:
        self._sessions = sessions
        self._gateway = gateway
        # As often as the calendar's scheduler (SCHEDULER_INTERVAL): every look is a few queries,
        # which on SQLite wait for its one connection with every turn of the process.
        self._interval = settings.scheduler_interval
        self.owner = owner or f"timers-{uuid.uuid4().hex[:12]}"
        self._looks = 0

    async def setup(self) -> None:
        """Nothing to prepare: the tables are the migration's."""

    async def run(self) -> None:
        while True:
            try:
                await self.run_once()
            except asyncio.CancelledError:
                raise
            except Exception as error:  # noqa: BLE001 - the loop must outlive any one look
                log.warning("scenario timers look failed: %s", type(error).__name__, extra={"error": str(error)[:500]})
            raise_if_cancel_requested()
            await asyncio.sleep(self._interval)

    async def cleanup(self) -> None:
        """Nothing runs between looks (a pushed message is the bot host's to answer)."""

    async def run_once(self, *, now: datetime | None = None) -> list[Push]:
        """Take the due delayed moves and crons and push their messages; what was pushed."""
        now = now or utcnow()
        if self._looks % PURGE_EVERY == 0:
            await self._purge(now)
        self._looks += 1
        pushes = await self._take_moves(now) + await self._take_crons(now)
        pushed = []
        for push in pushes:
            try:
                await self._gateway.push(
                    org_id=push.org_id, agent_id=push.bot_id, chat_id=push.chat_id, channel=push.channel,
                    user_key=push.user_key, message_id=PUSH_PREFIX + push.push_id,
                    fields={DELAYED_MOVE: {"id": push.push_id, "from_step": push.from_step,
                                           "next_step": push.next_step}},
                )
                pushed.append(push)
            except asyncio.CancelledError:
                raise
            except Exception as error:  # noqa: BLE001 - one failed push stops no other
                log.warning("scenario delayed message not sent: %s", type(error).__name__,
                            extra={"bot_id": push.bot_id, "error": str(error)[:500]})
        return pushed

    async def _purge(self, now: datetime) -> None:
        async with session_scope(self._sessions) as db:
            await db.execute(
                delete(DelayedMove).where(DelayedMove.done_at.is_not(None), DelayedMove.done_at < now - KEEP_DONE)
                .execution_options(synchronize_session=False)
            )

    async def _take_moves(self, now: datetime) -> list[Push]:
        async with session_scope(self._sessions) as db:
            due = list(await db.scalars(
                select(DelayedMove)
                .where(DelayedMove.done_at.is_(None), DelayedMove.due_at <= now, _free(DelayedMove, now))
                .order_by(DelayedMove.due_at, DelayedMove.id)
                .limit(BATCH)
                .with_for_update(skip_locked=True)
            ))
            taken: list[DelayedMove] = []
            for move in due:
                result = await db.execute(
                    update(DelayedMove)
                    .where(DelayedMove.id == move.id, DelayedMove.done_at.is_(None), _free(DelayedMove, now))
                    .values(done_at=now, lease_owner=self.owner, lease_until=now + LEASE)
                    .execution_options(synchronize_session=False)
                )
                if result.rowcount == 1:  # type: ignore[attr-defined]
                    taken.append(move)
            if not taken:
                return []
            rows = {s.id: s for s in await db.scalars(
                select(ScenarioSession).where(ScenarioSession.id.in_([m.session_id for m in taken]))
            )}
        pushes = []
        for move in taken:
            session = rows.get(move.session_id)
            if session is None or session.ended_at is not None or not session.chat_id:
                continue
            if session.step_id != move.from_step_id:  # moved on: dropped (the host checks again)
                log.info("scenario delayed move dropped: the session moved on",
                         extra={"bot_id": move.bot_id, "session_id": session.id})
                continue
            pushes.append(Push(
                push_id=move.id, org_id=move.org_id, bot_id=move.bot_id, chat_id=session.chat_id,
                channel=session.channel, user_key=session.user_key, from_step=move.from_step_id,
                next_step=move.next_step_id,
            ))
        return pushes

    async def _take_crons(self, now: datetime) -> list[Push]:
        async with session_scope(self._sessions) as db:
            await self._schedule_new(db, now)
            due = list(await db.scalars(
                select(BotCron)
                .where(BotCron.enabled.is_(True), BotCron.next_run_at <= now, _free(BotCron, now))
                .order_by(BotCron.next_run_at, BotCron.id)
                .limit(BATCH)
                .with_for_update(skip_locked=True)
            ))
            pushes: list[Push] = []
            for cron in due:
                seen = cron.next_run_at
                assert seen is not None
                result = await db.execute(
                    update(BotCron)
                    .where(BotCron.id == cron.id, BotCron.next_run_at == seen, _free(BotCron, now))
                    .values(next_run_at=_following(cron, now), lease_owner=self.owner, lease_until=now + LEASE,
                            updated_at=BotCron.updated_at)
                    .execution_options(synchronize_session=False)
                )
                if result.rowcount != 1:  # type: ignore[attr-defined]
                    continue  # another replica took it
                steps = list(await db.scalars(select(Step).where(Step.bot_id == cron.bot_id)))
                key = keys_of(steps).get(cron.step_id, cron.step_id)
                sessions = await db.scalars(
                    select(ScenarioSession).where(
                        ScenarioSession.bot_id == cron.bot_id, ScenarioSession.ended_at.is_(None),
                        ScenarioSession.is_test.is_(False), ScenarioSession.chat_id.is_not(None),
                    ).order_by(ScenarioSession.id)
                )
                stamp = int(seen.timestamp())
                for session in sessions:
                    if session.user_key.startswith(TEST_PREFIX) or not session.chat_id:
                        continue
                    pushes.append(Push(
                        push_id=_cron_push_id(cron.id, stamp, session.id), org_id=cron.org_id, bot_id=cron.bot_id,
                        chat_id=session.chat_id, channel=session.channel, user_key=session.user_key,
                        from_step=None, next_step=key,
                    ))
                await db.execute(
                    update(BotCron).where(BotCron.id == cron.id, BotCron.lease_owner == self.owner)
                    .values(lease_owner=None, lease_until=None, updated_at=BotCron.updated_at)
                    .execution_options(synchronize_session=False)
                )
        return pushes

    async def _schedule_new(self, db, now: datetime) -> None:  # type: ignore[no-untyped-def]
        """Give the crons that have no next run yet (new ones) their first."""
        fresh = list(await db.scalars(
            select(BotCron).where(BotCron.enabled.is_(True), BotCron.next_run_at.is_(None)).limit(BATCH)
        ))
        for cron in fresh:
            first = _following(cron, now)
            await db.execute(
                update(BotCron).where(BotCron.id == cron.id, BotCron.next_run_at.is_(None))
                .values(next_run_at=first, enabled=first is not None, updated_at=BotCron.updated_at)
                .execution_options(synchronize_session=False)
            )


def _cron_push_id(cron_id: str, stamp: int, session_id: str) -> str:
    """The same for one cron's run at one due time in one session (message ids are 64 at most)."""
    return "crn_" + hashlib.sha256(f"{cron_id}/{stamp}/{session_id}".encode()).hexdigest()[:32]


def _following(cron: BotCron, now: datetime) -> datetime | None:
    try:
        return recurrence.next_after(cron.cron, recurrence.zone(cron.timezone), now)
    except ValueError as error:  # not a cron that runs, or a zone the system does not know
        log.warning("scenario bot cron has no next run", extra={"cron_id": cron.id, "error": str(error)})
        return None
