"""Sessions of scenario bots: where each end user is in a bot, and their variables.

A session is one (end user, bot, channel): the user is the authenticated caller (the
envelope's ``user_id``; an account as ``user:<id>``), else ``<channel>:<platform user id>``
(an anonymous visitor, a Telegram user, an API key). ``user.*`` variables are the end
user's in the organisation (:class:`UserVariables`), shared by its bots; ``bot.*`` are the
bot's own (``Bot.variables``); ``session.*`` the session's.

:func:`process` handles one incoming message in ONE transaction: the bot's row, the
session (locked on PostgreSQL, so two chats of one user with one bot take turns), the
user's variables, the step machine (its actions run meanwhile), and every write (session,
variables, step events) commit together or not at all. A message handled already (the
session's ``last_message_id``: the host died after the commit, before the reply went out)
moves nothing: what was sent for it is returned again.
"""

from __future__ import annotations

import asyncio
import copy
import logging
import uuid
import weakref
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from agenthub.db.base import utcnow
from agenthub.db.engine import SessionFactory, session_scope
from agenthub.db.upsert import dialect_of, insert_ignoring_duplicates
from agenthub.errors import Conflict, NotFound
from agenthub.scenarios.document import BotDocument, parse
from agenthub.scenarios.engine import (
    ActionRunner,
    CompiledBot,
    SessionState,
    compile_bot,
    handle,
    message_scope,
    move,
)
from agenthub.scenarios.frames import instance_of, qualify
from agenthub.scenarios.models import Bot, BotVersion, DelayedMove, ScenarioSession, StepEvent, UserVariables
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
        self._locks: weakref.WeakValueDictionary[tuple[str, str, bool], asyncio.Lock] = weakref.WeakValueDictionary()

    def lock(self, user_key: str, channel: str, test: bool) -> asyncio.Lock:
        """The lock of one session of the bot: its messages are handled one after another
        by the host that holds the bot (whatever chat they come from)."""
        key = (user_key, channel, test)
        lock = self._locks.get(key)
        if lock is None:
            lock = self._locks[key] = asyncio.Lock()
        return lock

    async def get(self, db: AsyncSession, bot_id: str, version: int) -> CompiledBot:
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


@dataclass
class _Loaded:
    """What handling a message starts from, read in one short transaction."""

    org_id: str
    bot: CompiledBot
    version: int | None
    session_id: str
    session_saved_at: Any
    user_key: str
    channel: str
    state: SessionState
    before: tuple[dict[str, Any], dict[str, Any]]
    replay: list[dict[str, Any]] | None = None


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

    No database connection is held while the bot's actions run (an HTTP request, code, an
    LLM agent asked through the bus: that agent's own turn needs the database, SQLite's one
    connection too): the session is read in one transaction, handled, and saved in a second
    one, all its writes together. The messages of one session are handled one after another
    by the host holding the bot (:meth:`BotCache.lock`); should another process have saved the
    session in between all the same (a bot moving between hosts), nothing is written and the
    message is handled again from what was saved (its actions run again)."""
    lock = cache.lock(user_key_of(envelope), str(envelope.get("channel") or "web"), test)
    async with lock:
        return await _process(sessions, bot_id=bot_id, envelope=envelope, cache=cache, actions=actions,
                              max_steps=max_steps, draft=draft, test=test)


async def _process(
    sessions: SessionFactory, *, bot_id: str, envelope: dict[str, Any], cache: BotCache, actions: ActionsFor,
    max_steps: int, draft: DraftLoader | None, test: bool,
) -> Processed:
    for attempt in range(SAVE_ATTEMPTS):
        async with session_scope(sessions) as db:
            loaded = await _load(db, bot_id=bot_id, envelope=envelope, cache=cache, draft=draft, test=test)
        if loaded.replay is not None:
            return Processed(messages=loaded.replay, replayed=True, session_id=loaded.session_id,
                             step=loaded.state.step)
        runner = actions(loaded.bot.document, envelope)
        scheduled = envelope.get(DELAYED_MOVE)
        if isinstance(scheduled, dict):
            outcome = await move(
                loaded.bot, loaded.state, runner, from_step=scheduled.get("from_step"),
                target=str(scheduled.get("next_step")), max_steps=max_steps, bot_id=bot_id,
            )
        else:
            outcome = await handle(loaded.bot, loaded.state, runner, max_steps=max_steps, bot_id=bot_id)
        messages = [message.as_dict() for message in outcome.messages]
        if outcome.error:
            messages.append({"text": outcome.error})
        async with session_scope(sessions) as db:
            saved = await _save(db, bot_id=bot_id, envelope=envelope, loaded=loaded, messages=messages,
                                events=outcome.events if not test else [],
                                entered=outcome.entered if not test else [])
        if saved == "saved":
            return Processed(messages=messages, error=outcome.error, session_id=loaded.session_id,
                             step=loaded.state.step, entered=outcome.entered)
        if saved == "replayed":  # the same message, handled meanwhile by another host
            return Processed(messages=messages, replayed=True, session_id=loaded.session_id, step=loaded.state.step)
        log.info("scenario session saved meanwhile: the message is handled again",
                 extra={"bot_id": bot_id, "attempt": attempt + 1})
    raise Conflict("the session kept changing while this message was handled; send it again")


async def _load(
    db: AsyncSession, *, bot_id: str, envelope: dict[str, Any], cache: BotCache, draft: DraftLoader | None,
    test: bool,
) -> _Loaded:
    row = await db.get(Bot, bot_id)
    if row is None:
        raise NotFound(f"bot {bot_id!r} not found")
    if test and draft is not None:
        bot, version = compile_bot(await draft(db, bot_id)), None
    else:
        if row.published_version is None:
            raise NotFound("the bot has no published version yet: publish it first")
        version = row.published_version
        bot = await cache.get(db, bot_id, version)
    channel = str(envelope.get("channel") or "web")
    user_key = user_key_of(envelope)
    session = await _session(db, org_id=row.org_id, bot_id=bot_id, user_key=(TEST_PREFIX if test else "") + user_key,
                             channel=channel, test=test)
    people = await db.scalar(
        select(UserVariables.variables).where(UserVariables.org_id == row.org_id, UserVariables.user_key == user_key)
    )
    scopes = Scopes(
        bot=dict(row.variables or {}),
        user=dict(people or {}),
        session=dict(session.variables or {}),
        channel={"name": channel, "chat_id": envelope.get("chat_id")},
        message=message_scope(envelope),
    )
    message_id = str(envelope.get("message_id") or "")
    replay = list(session.last_reply or []) if message_id and session.last_message_id == message_id else None
    return _Loaded(
        org_id=row.org_id, bot=bot, version=version, session_id=session.id, session_saved_at=session.updated_at,
        user_key=user_key, channel=channel, state=SessionState(session.step_id, scopes, list(session.frames or [])),
        before=(copy.deepcopy(scopes.bot), copy.deepcopy(scopes.user)), replay=replay,
    )


async def _save(
    db: AsyncSession, *, bot_id: str, envelope: dict[str, Any], loaded: _Loaded, messages: list[dict[str, Any]],
    events: list[tuple[str, str]], entered: list[str] | None = None,
) -> str:
    """Save what handling the message changed, in this one transaction: ``saved``;
    ``replayed`` when the session holds this message's answer already; ``changed`` when
    another message of the session was saved since it was read (nothing is written)."""
    query = select(ScenarioSession).where(ScenarioSession.id == loaded.session_id)
    if dialect_of(db) == "postgresql":
        query = query.with_for_update()
    session = await db.scalar(query.execution_options(populate_existing=True))
    if session is None:  # reset (deleted) meanwhile: the message starts a new session
        return "changed"
    message_id = str(envelope.get("message_id") or "")
    if message_id and session.last_message_id == message_id:
        return "replayed"
    if session.updated_at != loaded.session_saved_at:
        return "changed"
    state, scopes = loaded.state, loaded.state.scopes
    now = utcnow()
    session.step_id = state.step
    session.variables = scopes.session
    session.frames = state.frames
    session.version = loaded.version
    session.chat_id = envelope.get("chat_id") or session.chat_id
    session.last_message_id = message_id or None
    session.last_reply = messages
    session.updated_at = now
    if scopes.user != loaded.before[1]:
        await insert_ignoring_duplicates(db, UserVariables, [
            {"org_id": loaded.org_id, "user_key": loaded.user_key, "variables": {}, "updated_at": now}])
        await db.execute(update(UserVariables).where(
            UserVariables.org_id == loaded.org_id, UserVariables.user_key == loaded.user_key,
        ).values(variables=scopes.user, updated_at=now))
    if scopes.bot != loaded.before[0]:
        await db.execute(update(Bot).where(Bot.id == bot_id).values(variables=scopes.bot))
    if events:
        db.add_all([
            StepEvent(org_id=loaded.org_id, bot_id=bot_id, step_id=step, session_id=session.id, kind=kind, at=now)
            for step, kind in events
        ])
    _schedule(db, bot_id=bot_id, loaded=loaded, session_id=session.id, entered=entered or [], now=now)
    return "saved"


def _schedule(
    db: AsyncSession, *, bot_id: str, loaded: _Loaded, session_id: str, entered: list[str], now: Any
) -> None:
    """A delayed move for each step entered that has an emitter (the scheduler fires it when
    due, if the session is still there): in the transaction of the session's save."""
    for key in entered:
        found = loaded.bot.find(key)
        emitter = found[0].emitter if found is not None else None
        if emitter is None:
            continue
        instance = instance_of(key)  # a template's step: its emitter moves within the template
        db.add(DelayedMove(
            id=f"dmv_{uuid.uuid4().hex}", org_id=loaded.org_id, bot_id=bot_id, session_id=session_id,
            from_step_id=key, next_step_id=emitter.next_step if instance is None else qualify(instance, emitter.next_step),
            due_at=now + timedelta(seconds=emitter.delay_seconds),
        ))


async def _session(
    db: AsyncSession, *, org_id: str, bot_id: str, user_key: str, channel: str, test: bool
) -> ScenarioSession:
    """The session row, locked for this transaction (PostgreSQL); made when there is none."""
    query = select(ScenarioSession).where(
        ScenarioSession.bot_id == bot_id, ScenarioSession.user_key == user_key, ScenarioSession.channel == channel,
    )
    if dialect_of(db) == "postgresql":
        query = query.with_for_update()
    found = await db.scalar(query)
    if found is not None:
        return found
    now = utcnow()
    await insert_ignoring_duplicates(db, ScenarioSession, [{
        "id": uuid.uuid4().hex, "org_id": org_id, "bot_id": bot_id, "user_key": user_key, "channel": channel,
        "variables": {}, "frames": [], "is_test": test, "started_at": now, "updated_at": now,
    }])
    made = await db.scalar(query.execution_options(populate_existing=True))
    assert made is not None
    return made


async def reset(db: AsyncSession, *, bot_id: str, session_id: str) -> None:
    """Put a session back at the start, its variables forgotten (the API's reset)."""
    await db.execute(
        update(ScenarioSession).where(ScenarioSession.bot_id == bot_id, ScenarioSession.id == session_id).values(
            step_id=None, variables={}, frames=[], last_message_id=None, last_reply=None, updated_at=utcnow(),
        )
    )
