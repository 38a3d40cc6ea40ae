"""Sessions of scenario bots: where each end user is in a bot, and their variables.

A session is one (end user, bot, channel): the user is the authenticated caller (the
envelope's ``user_id``; an account as ``user:<id>``), else ``<channel>:<platform user id>``
(an anonymous visitor, a Telegram user, an API key). ``user.*`` variables are the end
user's in the organisation (:class:`UserVariables`), shared by its bots; ``bot.*`` are the
bot's own (``Bot.variables``); ``session.*`` the session's.

:func:`process` handles one incoming message. On PostgreSQL most messages of a known session
take two statements and no transaction (:func:`_process_at_once`): the session read, then
saved with its step events, guarded by when it was last saved. Otherwise one statement reads
the session (locked on PostgreSQL, so two chats of one user with one bot take turns) with
the bot's row and the user's variables. A message that reaches no group with an action (most: ``message`` groups
only) is handled right there and its writes (session, variables, step events, delayed
moves) go in that same transaction. One that reaches an action is handled again from what
was read, with no transaction open while its actions run, and its writes are saved in a
second transaction, together, unless the session was saved in between (then nothing is
written and it is handled again). Either way, all its writes commit together or not at all.
A message handled already (the session's ``last_message_id``: the host died after the
commit, before the reply went out) moves nothing: what was sent for it is returned again.
"""

from __future__ import annotations

import asyncio
import copy
import json
import logging
import uuid
import weakref
from collections.abc import Awaitable, Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from types import SimpleNamespace
from typing import Any, Literal

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession

from agenthub.db.base import utcnow
from agenthub.db.engine import SessionFactory, session_scope
from agenthub.db.upsert import dialect_of, insert_ignoring_duplicates
from agenthub.errors import Conflict, NotFound
from agenthub.grouping import GroupedCalls
from agenthub.scenarios import session_statements as statements
from agenthub.scenarios.document import BotDocument, Emitter, GroupDoc, parse
from agenthub.scenarios.engine import (
    ActionRunner,
    CompiledBot,
    Outcome,
    SessionState,
    compile_bot,
    handle,
    message_scope,
    move,
    user_profile,
)
from agenthub.scenarios.frames import instance_of, qualify
from agenthub.scenarios.models import Bot, BotVersion, DelayedMove, ScenarioSession, UserVariables
from agenthub.scenarios.variables import Scopes

DELAYED_MOVE = "delayed_move"
"""The envelope field of a move the scheduler makes (``{"id", "from_step", "next_step"}``:
a step's emitter, a bot's cron). Only server code puts it there: the gateway writes every
envelope, a client's fields go to ``user_data``."""
TEST_PREFIX = "test:"
"""Before the user key of a test chat's session (it runs the draft, apart from the real one)."""

DraftLoader = Callable[[AsyncSession, str], Awaitable[BotDocument]]
"""``draft(db, bot_id)``: the bot's draft as a document (what test chats run)."""
ActionsFor = Callable[[BotDocument, dict[str, Any]], ActionRunner]
"""The action runner for a session of ``document`` answering ``envelope``."""


def user_key_of(envelope: dict[str, Any]) -> str:
    """The end user a message is from (see the module)."""
    user_id = envelope.get("user_id")
    if user_id:
        user_id = str(user_id)
        return user_id if ":" in user_id else f"user:{user_id}"
    channel = str(envelope.get("channel") or "web")
    return f"{channel}:{envelope.get('platform_user_id') or 'unknown'}"


@dataclass
class Processed:
    messages: list[dict[str, Any]] = field(default_factory=list)
    """What the bot sends, in order: ``{"text", "widget"?, "attachments"?, "params"?}``."""
    error: str | None = None
    replayed: bool = False
    """The message was handled before: nothing moved, ``messages`` are what was sent then."""
    session_id: str = ""
    step: str | None = None
    entered: list[str] = field(default_factory=list)


class BotCache:
    """Compiled documents by (bot, version): what a host keeps of a bot (see ``engines.scenario``)."""

    def __init__(self) -> None:
        self.version: int | None = None
        self.bot: CompiledBot | None = None
        self.at_once: AtOnce | Literal[False] | None = None
        """The grouped statements of :func:`_process_at_once`; False where they can't be used
        (not PostgreSQL); None until first asked."""
        self._locks: weakref.WeakValueDictionary[tuple[str, str, bool], asyncio.Lock] = weakref.WeakValueDictionary()

    def lock(self, user_key: str, channel: str, test: bool) -> asyncio.Lock:
        """The lock of one session of the bot: its messages are handled one after another
        by the host that holds the bot (whatever chat they come from)."""
        key = (user_key, channel, test)
        lock = self._locks.get(key)
        if lock is None:
            lock = self._locks[key] = asyncio.Lock()
        return lock

    def grouped(self, sessions: SessionFactory) -> AtOnce | None:
        """The grouped statements :func:`_process_at_once` runs, or None where they can't be
        used (not PostgreSQL)."""
        if self.at_once is None:
            bind = sessions.kw.get("bind")
            if isinstance(bind, AsyncEngine) and bind.dialect.name == "postgresql":
                self.at_once = AtOnce(bind)
            else:
                self.at_once = False
        return self.at_once or None

    async def get(self, db: AsyncSession | AsyncConnection, bot_id: str, version: int) -> CompiledBot:
        if self.bot is None or self.version != version:
            document = await db.scalar(
                select(BotVersion.document).where(BotVersion.bot_id == bot_id, BotVersion.version == version)
            )
            if document is None:
                raise NotFound(f"version {version} of bot {bot_id!r} not found")
            self.bot, self.version = compile_bot(parse(document)), version
        return self.bot


log = logging.getLogger(__name__)
SAVE_ATTEMPTS = 3
"""Times a message is handled again when another message of its session was saved meanwhile."""


class _NeedsAction(Exception):  # noqa: N818 - a condition, not a failure
    """The message reached a group with an action: it is handled outside the transaction."""


async def _no_action(group: GroupDoc, scopes: Scopes) -> dict[str, Any]:
    raise _NeedsAction


@dataclass
class _Loaded:
    """What handling a message starts from, as read (:meth:`start` makes the state to run)."""

    org_id: str
    bot: CompiledBot
    version: int | None
    session_id: str
    session_saved_at: Any
    user_key: str
    channel: str
    row: Any
    """The session's row joined with the bot's and the user's variables (``session_statements.read_session``)."""
    message: dict[str, Any]
    replay: list[dict[str, Any]] | None = None
    state: SessionState = field(init=False)
    before: tuple[dict[str, Any], dict[str, Any]] = field(init=False)

    def start(self, *, deep: bool) -> None:
        """A fresh state from the row; ``deep``: what the bot's and the user's variables were
        is kept as deep copies (actions will run: what they return may be changed in place)."""
        row = self.row
        scopes = Scopes(
            bot=dict(row.bot_variables or {}), user={**(row.user_variables or {}), **user_profile(self.message)},
            session=dict(row.variables or {}),
            channel={"name": self.channel, "chat_id": self.message.get("chat_id")},
            message=message_scope(self.message),
        )
        self.state = SessionState(row.step_id, scopes, list(row.frames or []))
        copied = copy.deepcopy if deep else dict
        self.before = (copied(scopes.bot), copied(scopes.user))


async def process(
    sessions: SessionFactory,
    *,
    bot_id: str,
    envelope: dict[str, Any],
    cache: BotCache,
    actions: ActionsFor,
    max_steps: int,
    draft: DraftLoader | None = None,
    test: bool = False,
) -> Processed:
    """Handle ``envelope`` for its session of bot ``bot_id`` (see the module). NotFound when
    the bot has no published version (and it is no test).

    Most messages reach no group with an action: they are handled in the transaction that
    read the session (locked on PostgreSQL), which writes what they changed. A message that
    reaches an action is handled with no database connection held while the actions run
    (an HTTP request, code, an LLM agent asked through the bus: that agent's own turn needs
    the database, SQLite's one connection too): from the state read, its writes saved in a
    second transaction, all together. The messages of one session are handled one after
    another by the host holding the bot (:meth:`BotCache.lock`); should another process have
    saved the session in between all the same (a bot moving between hosts), nothing is
    written and the message is handled again from what was saved (its actions run again)."""
    lock = cache.lock(user_key_of(envelope), str(envelope.get("channel") or "web"), test)
    async with lock:
        handover: _Handover | None = None
        if not test and cache.at_once is not False:
            first = await _process_at_once(sessions, bot_id=bot_id, envelope=envelope, cache=cache, max_steps=max_steps)
            if isinstance(first, Processed):
                return first
            handover = first
        return await _process(sessions, bot_id=bot_id, envelope=envelope, cache=cache, actions=actions,
                              max_steps=max_steps, draft=draft, test=test, handover=handover)


@dataclass
class _Handover:
    """A message :func:`_process_at_once` read but could not finish, for :func:`_process`
    to go on with from that read: its ``outcome`` saved in a transaction (it changes more
    than the session), or, None, its actions run first."""

    loaded: _Loaded
    outcome: Outcome | None


async def _process_at_once(
    sessions: SessionFactory, *, bot_id: str, envelope: dict[str, Any], cache: BotCache, max_steps: int,
) -> Processed | _Handover | None:
    """PostgreSQL, the common message: the session read without a lock and, when handling it
    reaches no action and changes nothing but the session (no ``user.*`` or ``bot.*``
    variable, no delayed move), the session saved with its step events in one statement,
    guarded by the session's ``updated_at``; no transaction around them (two round trips,
    not five, shared by the messages the host handles at the same time: :class:`AtOnce`).
    A message handled before is answered with what was sent for it. One that reaches an
    action or changes more is handed over (:class:`_Handover`), having written nothing.
    None, having written nothing, for a new session or a session saved since it was read:
    :func:`_process` handles it from the start."""
    at_once = cache.grouped(sessions)
    if at_once is None:
        return None
    channel = str(envelope.get("channel") or "web")
    user_key = user_key_of(envelope)
    message_id = str(envelope.get("message_id") or "")
    record = await at_once.reads.call((bot_id, user_key, channel))
    if record is None or record["published_version"] is None:
        return None
    row = SimpleNamespace(**dict(record.items()))
    if message_id and row.last_message_id == message_id:
        return Processed(messages=list(row.last_reply or []), replayed=True, session_id=row.id, step=row.step_id)
    bot = await at_once.bot(cache, bot_id, row.published_version)
    loaded = _Loaded(
        org_id=row.org_id, bot=bot, version=row.published_version, session_id=row.id,
        session_saved_at=row.updated_at, user_key=user_key, channel=channel, row=row, message=envelope,
    )
    loaded.start(deep=False)
    try:
        outcome = await _run(loaded, envelope, _no_action, max_steps=max_steps, bot_id=bot_id)
    except _NeedsAction:
        return _Handover(loaded, None)
    scopes = loaded.state.scopes
    if (scopes.bot, scopes.user) != loaded.before or _has_emitter(loaded.bot, outcome.entered):
        return _Handover(loaded, outcome)
    messages = _sent(outcome)
    chat_id = envelope.get("chat_id")
    saved = await at_once.saves.call(_Save(
        session_id=loaded.session_id, saved_at=loaded.session_saved_at, step=loaded.state.step,
        variables=scopes.session, frames=loaded.state.frames, version=loaded.version,
        message=message_id or None, reply=messages, chat=str(chat_id) if chat_id else None,
        events=outcome.events,
    ))
    if not saved:
        return None
    return Processed(messages=messages, error=outcome.error, session_id=loaded.session_id, step=loaded.state.step,
                     entered=outcome.entered)


@dataclass(frozen=True, slots=True)
class _Save:
    """One session's save (see :func:`statements.save_sessions`)."""

    session_id: str
    saved_at: Any
    step: str | None
    variables: dict[str, Any]
    frames: list[dict[str, Any]]
    version: int | None
    message: str | None
    reply: list[dict[str, Any]]
    chat: str | None
    events: list[tuple[str, str]]


class AtOnce:
    """The statements of the messages a host handles at once (PostgreSQL), grouped while one
    is under way (:class:`~agenthub.grouping.GroupedCalls`): the sessions of the messages
    handled together are read in one statement, and saved in one, each save still guarded
    by its own session's ``updated_at``. A host answering many chats pays two round trips
    for a group of messages, not two for each."""

    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine
        self._sql = statements.driver_statements(engine.dialect)
        self.reads: GroupedCalls[tuple[str, str, str], Any] = GroupedCalls(self._read, name="scenario-session-reads")
        self.saves: GroupedCalls[_Save, bool] = GroupedCalls(self._save, name="scenario-session-saves")

    async def bot(self, cache: BotCache, bot_id: str, version: int) -> CompiledBot:
        """The bot's version, compiled (read once per version)."""
        if cache.bot is not None and cache.version == version:
            return cache.bot
        async with self._engine.connect() as db:
            return await cache.get(db, bot_id, version)

    async def _read(self, asked: Sequence[tuple[str, str, str]]) -> list[Any]:
        """The row of each (bot, user, channel) asked, or None where there is no session yet."""
        async with self._engine.connect() as db:  # no transaction: the statement commits on its own
            rows = await self._sql.read.fetch(db, {
                "bot_ids": [bot_id for bot_id, _, _ in asked], "session_keys": [user for _, user, _ in asked],
                "channels": [channel for _, _, channel in asked], "user_keys": [user for _, user, _ in asked],
            })
        found = {row["n"]: row for row in rows}
        return [found.get(n) for n in range(1, len(asked) + 1)]

    async def _save(self, saves: Sequence[_Save]) -> list[bool]:
        """Whether each session was saved (False: another host saved it since it was read)."""
        events = [(save.session_id, step, kind) for save in saves for step, kind in save.events]
        async with self._engine.connect() as db:
            rows = await self._sql.save.fetch(db, {
                "now": utcnow(), "session_ids": [save.session_id for save in saves],
                "saved_ats": [save.saved_at for save in saves], "steps": [save.step for save in saves],
                "variables": [json.dumps(save.variables) for save in saves],
                "frames": [json.dumps(save.frames) for save in saves],
                "versions": [save.version for save in saves], "messages": [save.message for save in saves],
                "replies": [json.dumps(save.reply) for save in saves], "chats": [save.chat for save in saves],
                "event_sessions": [session for session, _, _ in events],
                "event_steps": [step for _, step, _ in events], "event_kinds": [kind for _, _, kind in events],
            })
        saved = {row["id"] for row in rows}
        return [save.session_id in saved for save in saves]


def _has_emitter(bot: CompiledBot, entered: list[str]) -> bool:
    """Whether a step entered has a delayed move to schedule."""
    return any(_emitters(bot, entered))


def _emitters(bot: CompiledBot, entered: list[str]) -> Iterator[tuple[str, Emitter]]:
    """The steps entered that have a delayed move, each with its emitter."""
    for key in entered:
        found = bot.find(key)
        if found is not None and found[0].emitter is not None:
            yield key, found[0].emitter


async def _process(
    sessions: SessionFactory, *, bot_id: str, envelope: dict[str, Any], cache: BotCache, actions: ActionsFor,
    max_steps: int, draft: DraftLoader | None, test: bool, handover: _Handover | None = None,
) -> Processed:
    for attempt in range(SAVE_ATTEMPTS):
        if handover is not None:  # read already (without a lock): saved in a transaction
            loaded, outcome, handover = handover.loaded, handover.outcome, None
            runner = actions(loaded.bot.document, envelope)
            if outcome is not None:
                async with session_scope(sessions) as db:
                    saved = await _save_outcome(db, bot_id=bot_id, envelope=envelope, loaded=loaded,
                                                outcome=outcome, test=test)
        else:
            async with session_scope(sessions) as db:
                loaded = await _load(db, bot_id=bot_id, envelope=envelope, cache=cache, draft=draft, test=test)
                if loaded.replay is not None:
                    return Processed(messages=loaded.replay, replayed=True, session_id=loaded.session_id,
                                     step=loaded.row.step_id)
                runner = actions(loaded.bot.document, envelope)
                loaded.start(deep=False)
                try:  # in this transaction, unless an action is reached
                    outcome = await _run(loaded, envelope, _no_action, max_steps=max_steps, bot_id=bot_id)
                except _NeedsAction:
                    outcome = None
                if outcome is not None:
                    saved = await _save_outcome(db, bot_id=bot_id, envelope=envelope, loaded=loaded,
                                                outcome=outcome, test=test)
        if outcome is None:  # the session is not held while the actions run
            loaded.start(deep=True)
            outcome = await _run(loaded, envelope, runner, max_steps=max_steps, bot_id=bot_id)
            async with session_scope(sessions) as db:
                saved = await _save_outcome(db, bot_id=bot_id, envelope=envelope, loaded=loaded, outcome=outcome,
                                            test=test)
        if saved[0] == "saved":
            return Processed(messages=saved[1], error=outcome.error, session_id=loaded.session_id,
                             step=loaded.state.step, entered=outcome.entered)
        if saved[0] == "replayed":  # the same message, handled meanwhile by another host
            return Processed(messages=saved[1], replayed=True, session_id=loaded.session_id, step=loaded.state.step)
        log.info("scenario session saved meanwhile: the message is handled again",
                 extra={"bot_id": bot_id, "attempt": attempt + 1})
    raise Conflict("the session kept changing while this message was handled; send it again")


async def _run(loaded: _Loaded, envelope: dict[str, Any], runner: ActionRunner, *, max_steps: int,
               bot_id: str) -> Outcome:
    scheduled = envelope.get(DELAYED_MOVE)
    if isinstance(scheduled, dict):
        return await move(
            loaded.bot, loaded.state, runner, from_step=scheduled.get("from_step"),
            target=str(scheduled.get("next_step")), max_steps=max_steps, bot_id=bot_id,
        )
    return await handle(loaded.bot, loaded.state, runner, max_steps=max_steps, bot_id=bot_id)


async def _save_outcome(
    db: AsyncSession, *, bot_id: str, envelope: dict[str, Any], loaded: _Loaded, outcome: Outcome, test: bool,
) -> tuple[str, list[dict[str, Any]]]:
    messages = _sent(outcome)
    saved = await _save(db, bot_id=bot_id, envelope=envelope, loaded=loaded, messages=messages,
                        events=outcome.events if not test else [], entered=outcome.entered if not test else [])
    return saved, messages


def _sent(outcome: Outcome) -> list[dict[str, Any]]:
    """What the bot sends for the message: its steps' messages, then its error if any."""
    messages = [message.as_dict() for message in outcome.messages]
    if outcome.error:
        messages.append({"text": outcome.error})
    return messages


async def _load(
    db: AsyncSession, *, bot_id: str, envelope: dict[str, Any], cache: BotCache, draft: DraftLoader | None,
    test: bool,
) -> _Loaded:
    """The session (made when there is none) with the bot's and the user's variables, in
    one statement that locks the session's row on PostgreSQL."""
    channel = str(envelope.get("channel") or "web")
    user_key = user_key_of(envelope)
    keys = {"bot_id": bot_id, "session_user": (TEST_PREFIX if test else "") + user_key, "channel": channel,
            "user_key": user_key}
    query = statements.read_session(dialect_of(db))
    row = (await db.execute(query, keys)).first()
    if row is None:
        await _new_session(db, bot_id=bot_id, user_key=keys["session_user"], channel=channel, test=test)
        row = (await db.execute(query, keys)).first()
        assert row is not None
    if test and draft is not None:
        bot, version = compile_bot(await draft(db, bot_id)), None
    else:
        if row.published_version is None:
            raise NotFound("the bot has no published version yet: publish it first")
        version = row.published_version
        bot = await cache.get(db, bot_id, version)
    message_id = str(envelope.get("message_id") or "")
    replay = list(row.last_reply or []) if message_id and row.last_message_id == message_id else None
    return _Loaded(
        org_id=row.org_id, bot=bot, version=version, session_id=row.id, session_saved_at=row.updated_at,
        user_key=user_key, channel=channel, row=row, message=envelope, replay=replay,
    )


async def _save(
    db: AsyncSession, *, bot_id: str, envelope: dict[str, Any], loaded: _Loaded, messages: list[dict[str, Any]],
    events: list[tuple[str, str]], entered: list[str] | None = None,
) -> str:
    """Save what handling the message changed, in this one transaction: ``saved``;
    ``replayed`` when the session holds this message's answer already (``messages`` is then
    made what was sent for it); ``changed`` when another message of the session was saved
    since it was read (nothing is written)."""
    state, scopes = loaded.state, loaded.state.scopes
    now = utcnow()
    message_id = str(envelope.get("message_id") or "")
    chat_id = envelope.get("chat_id")
    written = await db.execute(statements.save_session(with_chat=bool(chat_id)), {
        "session_id": loaded.session_id, "saved_at": loaded.session_saved_at, "new_step": state.step,
        "new_variables": scopes.session, "new_frames": state.frames, "new_version": loaded.version,
        "new_message": message_id or None, "new_reply": messages, "now": now, "new_chat": chat_id,
    })
    if written.rowcount != 1:  # type: ignore[attr-defined]
        session = statements.table(ScenarioSession)
        last = (await db.execute(select(session.c.last_message_id, session.c.last_reply)
                                 .where(session.c.id == loaded.session_id))).first()
        if message_id and last is not None and last.last_message_id == message_id:
            messages[:] = list(last.last_reply or [])  # what was sent for it, not what this run made
            return "replayed"
        return "changed"
    if scopes.user != loaded.before[1]:
        await insert_ignoring_duplicates(db, UserVariables, [
            {"org_id": loaded.org_id, "user_key": loaded.user_key, "variables": {}, "updated_at": now}])
        await db.execute(update(UserVariables).where(
            UserVariables.org_id == loaded.org_id, UserVariables.user_key == loaded.user_key,
        ).values(variables=scopes.user, updated_at=now))
    if scopes.bot != loaded.before[0]:
        await db.execute(update(Bot).where(Bot.id == bot_id).values(variables=scopes.bot))
    if events:
        await db.execute(statements.insert_step_events(), [
            {"org_id": loaded.org_id, "bot_id": bot_id, "step_id": step, "session_id": loaded.session_id,
             "kind": kind, "at": now} for step, kind in events
        ])
    _schedule(db, bot_id=bot_id, loaded=loaded, session_id=loaded.session_id, entered=entered or [], now=now)
    return "saved"


def _schedule(
    db: AsyncSession, *, bot_id: str, loaded: _Loaded, session_id: str, entered: list[str], now: Any
) -> None:
    """A delayed move for each step entered that has an emitter (the scheduler fires it when
    due, if the session is still there): in the transaction of the session's save."""
    for key, emitter in _emitters(loaded.bot, entered):
        instance = instance_of(key)  # a template's step: its emitter moves within the template
        db.add(DelayedMove(
            id=f"dmv_{uuid.uuid4().hex}", org_id=loaded.org_id, bot_id=bot_id, session_id=session_id,
            from_step_id=key, next_step_id=emitter.next_step if instance is None else qualify(instance, emitter.next_step),
            due_at=now + timedelta(seconds=emitter.delay_seconds),
        ))


async def _new_session(db: AsyncSession, *, bot_id: str, user_key: str, channel: str, test: bool) -> None:
    """Make the session (a new user of the bot); NotFound when there is no such bot."""
    org_id = await db.scalar(select(Bot.org_id).where(Bot.id == bot_id))
    if org_id is None:
        raise NotFound(f"bot {bot_id!r} not found")
    now = utcnow()
    await insert_ignoring_duplicates(db, ScenarioSession, [{
        "id": uuid.uuid4().hex, "org_id": org_id, "bot_id": bot_id, "user_key": user_key, "channel": channel,
        "variables": {}, "frames": [], "is_test": test, "started_at": now, "updated_at": now,
    }])


async def reset(db: AsyncSession, *, bot_id: str, session_id: str) -> None:
    """Put a session back at the start, its variables forgotten (the API's reset)."""
    await db.execute(
        update(ScenarioSession).where(ScenarioSession.bot_id == bot_id, ScenarioSession.id == session_id).values(
            step_id=None, variables={}, frames=[], last_message_id=None, last_reply=None, updated_at=utcnow(),
        )
    )
