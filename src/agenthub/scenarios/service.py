"""Scenario bots: create, read, update, publish, import; their sessions, variables and
analytics. No HTTP here (the routes are :mod:`agenthub.scenarios.api`); the parts of a bot's
draft (steps, groups, connections, requests, templates) are :mod:`agenthub.scenarios.service_parts`.

A bot is an agent of kind ``scenario`` whose handle and internal id are the bot's id; it is
deleted as agents are (soft, :mod:`agenthub.lifecycle.flows`), and a deleted agent's bot is
not found. Every edit of a bot's draft adds one to its ``draft_revision``.
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Select, func, or_, select
from sqlalchemy import delete as delete_rows
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from agenthub.agents.models import Agent
from agenthub.agents.schemas import ScenarioSettings
from agenthub.caller import Caller
from agenthub.db.base import iso_seconds, utcnow
from agenthub.errors import Conflict, Forbidden, InvalidInput, NotFound
from agenthub.files import service as files_service
from agenthub.scenarios import checks, export
from agenthub.scenarios import live as live_events
from agenthub.scenarios.document import MASK, BotDocument, RequestDoc, StepDoc, dump, parse
from agenthub.scenarios.models import Bot, BotVersion, ScenarioSession, Step, StepEvent, UserVariables
from agenthub.scenarios.schemas import (
    Analytics,
    BotCreate,
    BotRead,
    BotUpdate,
    BotVariables,
    StepStats,
    UserVariablesRead,
    VersionRead,
)

KIND = "scenario"
DEFAULT_RETENTION = timedelta(days=30)


def new_bot_id() -> str:
    return f"bot-{secrets.token_hex(6)}"


def live(model: Any) -> Select[Any]:
    """Rows of ``model`` (with a ``bot_id``) whose bot's agent is not deleted."""
    return select(model).join(Agent, Agent.id == model.bot_id).where(Agent.deleted_at.is_(None))


async def bot_of(session: AsyncSession, caller: Caller, bot_id: str) -> Bot:
    """The caller's organisation's bot ``bot_id``; NotFound for another organisation's, a
    deleted one, or one an API key limited to other agents names."""
    bot = await session.scalar(
        select(Bot).join(Agent, Agent.id == Bot.id)
        .where(Bot.id == bot_id, Bot.org_id == caller.org_id, Agent.deleted_at.is_(None))
    )
    if bot is None or not caller.may_reach(bot.id):
        raise NotFound(f"bot {bot_id!r} not found")
    live_events.note_editor(session, _publisher(caller))
    return bot


async def owned(session: AsyncSession, caller: Caller, model: Any, row_id: str, what: str) -> Any:
    """The caller's organisation's row ``row_id`` of ``model`` (a part of a bot); NotFound otherwise."""
    row = await session.scalar(live(model).where(model.id == row_id, model.org_id == caller.org_id))
    if row is None or not caller.may_reach(row.bot_id):
        raise NotFound(f"{what} {row_id!r} not found")
    live_events.note_editor(session, _publisher(caller))
    return row


def touch(bot: Bot) -> None:
    """An edit of the bot's draft."""
    bot.draft_revision = (bot.draft_revision or 0) + 1
    bot.updated_at = utcnow()
    live_events.note_change(bot, {"change": "draft", "draft_revision": bot.draft_revision})


async def _id_free(session: AsyncSession, org_id: str, bot_id: str, retention: timedelta) -> None:
    """Conflict unless ``bot_id`` is free for a new bot's agent: the organisation's agent
    deleted less than ``retention`` ago keeps it (``id_retained``, saying until when)."""
    taken = await session.scalar(
        select(Agent).where(or_(Agent.id == bot_id, (Agent.org_id == org_id) & (Agent.handle == bot_id)))
        .order_by(Agent.deleted_at.is_(None).desc()).limit(1)
    )
    if taken is None:
        return
    if taken.deleted_at is not None and taken.org_id == org_id:
        reusable_at = taken.deleted_at + retention
        raise Conflict(
            f"bot id {bot_id!r} belonged to a bot deleted at {iso_seconds(taken.deleted_at)}; a deleted bot's id "
            f"can be taken again after {iso_seconds(reusable_at)} (DELETED_RETENTION_DAYS after its deletion), "
            "when it is purged",
            code="id_retained",
        )
    raise Conflict(f"an agent with id {bot_id!r} already exists")


async def create_bot(
    session: AsyncSession, *, caller: Caller, data: BotCreate, retention: timedelta = DEFAULT_RETENTION
) -> Bot:
    """A new bot and its agent (kind ``scenario``), in the caller's transaction; the id of
    a bot deleted less than ``retention`` ago is refused (``id_retained``)."""
    if caller.agent_ids is not None:
        raise Forbidden("an API key limited to some agents can't create bots")
    bot_id = data.id or new_bot_id()
    await _id_free(session, caller.org_id, bot_id, retention)
    session.add(Agent(
        id=bot_id, handle=bot_id, org_id=caller.org_id, name=data.name, kind=KIND,
        settings=ScenarioSettings().stored(), config_version=1,
    ))
    try:
        await session.flush()
    except IntegrityError:
        await session.rollback()  # made at the same moment by another request
        raise Conflict(f"an agent with id {bot_id!r} already exists") from None
    bot = Bot(
        id=bot_id, org_id=caller.org_id, name=data.name, description=data.description, variables=data.variables,
        draft_revision=1,
    )
    session.add(bot)
    await session.flush()
    return bot


async def list_bots(session: AsyncSession, *, caller: Caller, limit: int, offset: int) -> tuple[list[Bot], int]:
    scoped = select(Bot).join(Agent, Agent.id == Bot.id).where(Bot.org_id == caller.org_id, Agent.deleted_at.is_(None))
    if caller.agent_ids is not None:
        scoped = scoped.where(Bot.id.in_(list(caller.agent_ids)))
    total = await session.scalar(select(func.count()).select_from(scoped.subquery()))
    rows = await session.scalars(scoped.order_by(Bot.created_at, Bot.id).limit(limit).offset(offset))
    return list(rows), int(total or 0)


async def update_bot(session: AsyncSession, *, caller: Caller, bot_id: str, data: BotUpdate) -> Bot:
    bot = await bot_of(session, caller, bot_id)
    full = data.model_dump(mode="json")
    sent = {k: full[k] for k in data.model_fields_set if full[k] is not None or k == "first_step_id"}
    if sent.get("first_step_id") is not None:
        await step_in_bot(session, bot.id, sent["first_step_id"], "first_step_id")
    for name, value in sent.items():
        setattr(bot, name, value)
    if "name" in sent:
        agent = await session.get(Agent, bot.id)
        if agent is not None:
            agent.name = sent["name"]
    if sent:
        touch(bot)
    await session.flush()
    return bot


async def step_in_bot(session: AsyncSession, bot_id: str, step_id: str, field: str) -> Step:
    """The step ``step_id`` of the bot; InvalidInput on ``field`` otherwise (a step of another bot too)."""
    step = await session.scalar(select(Step).where(Step.id == step_id, Step.bot_id == bot_id))
    if step is None:
        raise InvalidInput(f"{field}: no step {step_id!r} in bot {bot_id!r}", field=field,
                           problem=f"no step {step_id!r} in this bot")
    return step


def read_bot(bot: Bot) -> BotRead:
    return BotRead(
        id=bot.id, name=bot.name, description=bot.description, first_step_id=bot.first_step_id,
        variables=bot.variables or {}, published_version=bot.published_version, draft_revision=bot.draft_revision,
        draft_changed=bot.published_revision != bot.draft_revision, created_at=bot.created_at,
        updated_at=bot.updated_at,
    )


def _publisher(caller: Caller) -> str | None:
    """Who acts: a user's id, or ``key:<id>`` for an API key (a version's ``published_by``,
    a live change's ``by``)."""
    return f"key:{caller.api_key_id}" if caller.api_key_id else caller.user_id


async def _new_version(session: AsyncSession, bot: Bot, document: BotDocument, caller: Caller) -> BotVersion:
    last = await session.scalar(select(func.max(BotVersion.version)).where(BotVersion.bot_id == bot.id))
    version = BotVersion(
        id=export.new_id("ver"), org_id=bot.org_id, bot_id=bot.id, version=int(last or 0) + 1,
        document=dump(document), published_by=_publisher(caller), published_at=utcnow(),
    )
    session.add(version)
    bot.published_version = version.version
    bot.published_revision = bot.draft_revision
    live_events.note_change(bot, {"change": "published", "version": version.version})
    await session.flush()
    return version


async def publish(session: AsyncSession, *, caller: Caller, bot_id: str) -> BotVersion:
    """Make the draft the bot's next version (what sessions run); InvalidInput saying where
    when the draft is not a valid document."""
    bot = await bot_of(session, caller, bot_id)
    try:
        document = export.parse_draft(await export.draft_data(session, bot))
    except InvalidInput as error:
        raise InvalidInput(
            f"the draft can't be published: {error.message}", field=error.field, problem=error.problem
        ) from None
    return await _new_version(session, bot, document, caller)


def files_named(where: str, steps: Sequence[StepDoc], requests: Sequence[RequestDoc]) -> list[tuple[str, object]]:
    """The file ids the steps' attachments and the requests' files name, by their path in a
    document (``steps.1.message.attachments.0``) under ``where`` (a prefix ending in a dot, or "")."""
    named: list[tuple[str, object]] = []
    for kind, parts in (("steps", steps), ("requests", requests)):
        for index, part in enumerate(parts):
            for field, file_id in files_service.named_in(part.model_dump(mode="json")):
                named.append((f"{where}{kind}.{index}.{field}", file_id))
    return named


async def require_document_files(session: AsyncSession, org_id: str, document: BotDocument) -> None:
    """Every file the document names (its steps', requests' and templates') is one of the
    organisation's (or made with variables): InvalidInput naming where otherwise."""
    named = files_named("", document.steps, document.requests)
    for index, template in enumerate(document.templates):
        named += files_named(f"templates.{index}.", template.steps, template.requests)
    await files_service.require_files(session, org_id=org_id, named=named)


async def import_bot(session: AsyncSession, *, caller: Caller, data: Any) -> Bot:
    """A new bot made from a document (validated first: nothing is made from an invalid
    one), published at once as its version 1. A request header whose value is the mask of an
    export (``***``) is refused: the secret it stood for is not in the document."""
    document = parse(data)
    checks.raise_first(checks.document(document))
    _no_masked_headers(document)
    await require_document_files(session, caller.org_id, document)
    bot = await create_bot(session, caller=caller, data=BotCreate(
        name=document.name, description=document.description, variables=document.variables,
    ))
    await export.add_rows(session, bot, document)
    await _new_version(session, bot, document, caller)
    return bot


def _no_masked_headers(document: BotDocument) -> None:
    owners = [("requests", document.requests)] + [
        (f"templates.{n}.requests", template.requests) for n, template in enumerate(document.templates)
    ]
    for where, requests in owners:
        for index, request in enumerate(requests):
            for name, value in request.headers.items():
                if value == MASK:
                    field = f"{where}.{index}.headers.{name}"
                    raise InvalidInput(
                        f"{field}: the value is masked (an export hides secrets): set it again, or use a "
                        "{$bot.variable$} placeholder, before importing", field=field,
                        problem="masked by an export: set the value again",
                    )


async def versions(session: AsyncSession, *, caller: Caller, bot_id: str) -> list[BotVersion]:
    bot = await bot_of(session, caller, bot_id)
    rows = await session.scalars(select(BotVersion).where(BotVersion.bot_id == bot.id).order_by(BotVersion.version))
    return list(rows)


async def version(session: AsyncSession, *, caller: Caller, bot_id: str, number: str) -> BotVersion:
    bot = await bot_of(session, caller, bot_id)
    row = None
    if number.isdigit() and len(number) < 10:
        row = await session.scalar(
            select(BotVersion).where(BotVersion.bot_id == bot.id, BotVersion.version == int(number))
        )
    if row is None:
        raise NotFound(f"bot {bot_id!r} has no version {number!r}")
    return row


def read_version(row: BotVersion) -> VersionRead:
    return VersionRead(version=row.version, published_at=row.published_at, published_by=row.published_by)


async def sessions_of(
    session: AsyncSession, *, caller: Caller, bot_id: str, limit: int, offset: int
) -> tuple[list[ScenarioSession], int]:
    bot = await bot_of(session, caller, bot_id)
    scoped = select(ScenarioSession).where(ScenarioSession.bot_id == bot.id)
    total = await session.scalar(select(func.count()).select_from(scoped.subquery()))
    rows = await session.scalars(
        scoped.order_by(ScenarioSession.updated_at.desc(), ScenarioSession.id).limit(limit).offset(offset)
    )
    return list(rows), int(total or 0)


async def reset_session(session: AsyncSession, *, caller: Caller, bot_id: str, session_id: str) -> None:
    """Forget the session: the user's next message starts a new one at the first step."""
    bot = await bot_of(session, caller, bot_id)
    row = await session.scalar(
        select(ScenarioSession).where(ScenarioSession.id == session_id, ScenarioSession.bot_id == bot.id)
    )
    if row is None:
        raise NotFound(f"session {session_id!r} not found")
    await session.execute(delete_rows(ScenarioSession).where(ScenarioSession.id == row.id))


async def variables(session: AsyncSession, *, caller: Caller, bot_id: str) -> BotVariables:
    bot = await bot_of(session, caller, bot_id)
    users = select(ScenarioSession.user_key).where(ScenarioSession.bot_id == bot.id)
    rows = await session.scalars(
        select(UserVariables).where(UserVariables.org_id == bot.org_id, UserVariables.user_key.in_(users))
        .order_by(UserVariables.user_key)
    )
    return BotVariables(
        bot=bot.variables or {},
        users=[UserVariablesRead(user_key=row.user_key, variables=row.variables or {}) for row in rows],
    )


def _aware(moment: datetime) -> datetime:
    """A time without a zone read as UTC (to compare it with one that has a zone)."""
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


async def analytics(
    session: AsyncSession, *, caller: Caller, bot_id: str, since: datetime | None, until: datetime | None
) -> Analytics:
    """Per step, how many times sessions entered it and moved on from it, in ``[since, until)``."""
    bot = await bot_of(session, caller, bot_id)
    if since is not None and until is not None and _aware(since) > _aware(until):
        raise InvalidInput("from: must not be after to", field="from", problem="must not be after to")
    query = (
        select(StepEvent.step_id, StepEvent.kind, func.count())
        .where(StepEvent.bot_id == bot.id, StepEvent.org_id == bot.org_id)
        .group_by(StepEvent.step_id, StepEvent.kind)
    )
    if since is not None:
        query = query.where(StepEvent.at >= since)
    if until is not None:
        query = query.where(StepEvent.at < until)
    counts: dict[str, dict[str, int]] = {}
    for step_id, kind, count in await session.execute(query):
        counts.setdefault(step_id, {"entered": 0, "moved_on": 0})[kind] = int(count)
    order = {step_id: n for n, step_id in enumerate(
        await session.scalars(select(Step.id).where(Step.bot_id == bot.id).order_by(Step.id))
    )}
    steps = sorted(counts, key=lambda step_id: (order.get(step_id, len(order)), step_id))
    return Analytics(steps=[
        StepStats(step_id=step_id, entered=counts[step_id].get("entered", 0), moved_on=counts[step_id].get("moved_on", 0))
        for step_id in steps
    ])
