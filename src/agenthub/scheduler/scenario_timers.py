"""Delayed and periodic messages of scenario bots: the steps' emitters (a ``DelayedMove``
row, written with the session's save when it enters a step that has one) and the bots'
crons (``BotCron``).

Each look takes what is due under a lease (``lease_owner``, ``lease_until``), as the
calendar's scheduler does (:mod:`agenthub.calendar.leases`): the rows are read ``FOR UPDATE
SKIP LOCKED`` on PostgreSQL and each is taken by a compare-and-set, so with any number of
replicas one takes it. Then its messages are pushed, and only then is the row finished: a
delayed move marked done (``done_at``), a cron's ``next_run_at`` moved on to its following
time. A replica that dies between the take and the finish leaves the row leased; once the
lease is over another replica takes it again and pushes the same messages, with the same
ids (below): those already pushed are not pushed again (:meth:`Gateway.push` is idempotent
by id, and a bot's host does not answer one id twice). So each fires once as the user sees
it, also with a crash. A push that fails (the bus is down) is tried again the same way,
for up to :data:`GIVE_UP` after it was due; then the row is finished without it.

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
"""How long a taken row is this replica's, to push its messages and finish it; after that
(the replica died, or its pushes failed) another look takes it again."""
GIVE_UP = timedelta(hours=1)
"""How long after a row was due its failing pushes are tried again."""
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


@dataclass(frozen=True, slots=True)
class CronRun:
    """One run of a cron, taken: its due time ``seen`` and a push for each open session."""

    cron_id: str
    cron: str
    timezone: str
    seen: datetime
    pushes: list[Push]


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
        """Take the due delayed moves and crons, push their messages and finish them; what
        was pushed (not what an earlier take had pushed already)."""
        now = now or utcnow()
        if self._looks % PURGE_EVERY == 0:
            await self._purge(now)
        self._looks += 1
        pushed: list[Push] = []
        finished = []
        for move_id, push, due in await self.take_moves(now):
            if push is None or await self._push(push, pushed) or now - due > GIVE_UP:
                finished.append(move_id)
        await self._finish_moves(finished, now)
        for run in await self.take_crons(now):
            outcomes = [await self._push(push, pushed) for push in run.pushes]
            if all(outcomes) or now - run.seen > GIVE_UP:
                await self._finish_cron(run, now)
        return pushed

    async def _push(self, push: Push, pushed: list[Push]) -> bool:
        """Push ``push``'s message (once: see the module); False when it failed."""
        try:
            if await self._gateway.push(
                org_id=push.org_id, agent_id=push.bot_id, chat_id=push.chat_id, channel=push.channel,
                user_key=push.user_key, message_id=PUSH_PREFIX + push.push_id,
                fields={DELAYED_MOVE: {"id": push.push_id, "from_step": push.from_step, "next_step": push.next_step}},
            ):
                pushed.append(push)
            return True
        except asyncio.CancelledError:
            raise
        except Exception as error:  # noqa: BLE001 - one failed push stops no other
            log.warning("scenario delayed message not sent (tried again later): %s", type(error).__name__,
                        extra={"bot_id": push.bot_id, "error": str(error)[:500]})
            return False

    async def _purge(self, now: datetime) -> None:
        async with session_scope(self._sessions) as db:
            await db.execute(
                delete(DelayedMove).where(DelayedMove.done_at.is_not(None), DelayedMove.done_at < now - KEEP_DONE)
                .execution_options(synchronize_session=False)
            )

    async def take_moves(self, now: datetime) -> list[tuple[str, Push | None, datetime]]:
        """Lease the due delayed moves: each one's id, its push (None: dropped, the session
        moved on or ended) and when it was due. (Public for tests: a take whose pushes never
        happen is what a replica that died leaves.)"""
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
                    .values(lease_owner=self.owner, lease_until=now + LEASE)
                    .execution_options(synchronize_session=False)
                )
                if result.rowcount == 1:  # type: ignore[attr-defined]
                    taken.append(move)
            if not taken:
                return []
            rows = {s.id: s for s in await db.scalars(
                select(ScenarioSession).where(ScenarioSession.id.in_([m.session_id for m in taken]))
            )}
        return [(move.id, _move_push(move, rows.get(move.session_id)), move.due_at) for move in taken]

    async def _finish_moves(self, move_ids: list[str], now: datetime) -> None:
        if not move_ids:
            return
        async with session_scope(self._sessions) as db:
            await db.execute(
                update(DelayedMove)
                .where(DelayedMove.id.in_(move_ids), DelayedMove.lease_owner == self.owner)
                .values(done_at=now, lease_owner=None, lease_until=None)
                .execution_options(synchronize_session=False)
            )

    async def take_crons(self, now: datetime) -> list[CronRun]:
        """Lease the due crons: each one's run, with a push for every open session of its bot."""
        async with session_scope(self._sessions) as db:
            await self._schedule_new(db, now)
            due = list(await db.scalars(
                select(BotCron)
                .where(BotCron.enabled.is_(True), BotCron.next_run_at <= now, _free(BotCron, now))
                .order_by(BotCron.next_run_at, BotCron.id)
                .limit(BATCH)
                .with_for_update(skip_locked=True)
            ))
            runs: list[CronRun] = []
            for cron in due:
                seen = cron.next_run_at
                assert seen is not None
                result = await db.execute(
                    update(BotCron)
                    .where(BotCron.id == cron.id, BotCron.next_run_at == seen, _free(BotCron, now))
                    .values(lease_owner=self.owner, lease_until=now + LEASE, updated_at=BotCron.updated_at)
                    .execution_options(synchronize_session=False)
                )
                if result.rowcount != 1:  # type: ignore[attr-defined]
                    continue  # another replica took it
                runs.append(CronRun(cron_id=cron.id, cron=cron.cron, timezone=cron.timezone, seen=seen,
                                    pushes=await _cron_pushes(db, cron, seen)))
        return runs

    async def _finish_cron(self, run: CronRun, now: datetime) -> None:
        """Move the cron on to its following time, unless it was changed meanwhile (its new
        schedule stands); release it either way."""
        following = _following(run, now)
        async with session_scope(self._sessions) as db:
            mine = (BotCron.id == run.cron_id) & (BotCron.lease_owner == self.owner)
            await db.execute(
                update(BotCron).where(mine, BotCron.next_run_at == run.seen)
                .values(next_run_at=following, updated_at=BotCron.updated_at)
                .execution_options(synchronize_session=False)
            )
            await db.execute(
                update(BotCron).where(mine).values(lease_owner=None, lease_until=None, updated_at=BotCron.updated_at)
                .execution_options(synchronize_session=False)
            )

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


def _move_push(move: DelayedMove, session: ScenarioSession | None) -> Push | None:
    """The push of a taken move; None when it is dropped (the session ended or moved on)."""
    if session is None or session.ended_at is not None or not session.chat_id:
        return None
    if session.step_id != move.from_step_id:  # moved on: dropped (the host checks again)
        log.info("scenario delayed move dropped: the session moved on",
                 extra={"bot_id": move.bot_id, "session_id": session.id})
        return None
    return Push(
        push_id=move.id, org_id=move.org_id, bot_id=move.bot_id, chat_id=session.chat_id, channel=session.channel,
        user_key=session.user_key, from_step=move.from_step_id, next_step=move.next_step_id,
    )


async def _cron_pushes(db, cron: BotCron, seen: datetime) -> list[Push]:  # type: ignore[no-untyped-def]
    """A push for every open session (not a test one) of the cron's bot, with ids made from
    the cron, ``seen`` (its due time) and the session: the same when the run is taken again."""
    steps = list(await db.scalars(select(Step).where(Step.bot_id == cron.bot_id)))
    key = keys_of(steps).get(cron.step_id, cron.step_id)
    sessions = await db.scalars(
        select(ScenarioSession).where(
            ScenarioSession.bot_id == cron.bot_id, ScenarioSession.ended_at.is_(None),
            ScenarioSession.is_test.is_(False), ScenarioSession.chat_id.is_not(None),
        ).order_by(ScenarioSession.id)
    )
    stamp = int(seen.timestamp())
    return [
        Push(
            push_id=_cron_push_id(cron.id, stamp, session.id), org_id=cron.org_id, bot_id=cron.bot_id,
            chat_id=session.chat_id, channel=session.channel, user_key=session.user_key, from_step=None,
            next_step=key,
        )
        for session in sessions
        if session.chat_id and not session.user_key.startswith(TEST_PREFIX)
    ]


def _cron_push_id(cron_id: str, stamp: int, session_id: str) -> str:
    """The same for one cron's run at one due time in one session (message ids are 64 at most)."""
    return "crn_" + hashlib.sha256(f"{cron_id}/{stamp}/{session_id}".encode()).hexdigest()[:32]


def _following(cron: BotCron | CronRun, now: datetime) -> datetime | None:
    try:
        return recurrence.next_after(cron.cron, recurrence.zone(cron.timezone), now)
    except ValueError as error:  # not a cron that runs, or a zone the system does not know
        cron_id = cron.cron_id if isinstance(cron, CronRun) else cron.id
        log.warning("scenario bot cron has no next run", extra={"cron_id": cron_id, "error": str(error)})
        return None
