"""A bot's rows as one document (``agenthub.bot/v1``) and back.

Export names every step, request and template by its ``key`` when it has one, else by a
readable key derived from its name (``"Ask the size"`` -> ``ask-the-size``, made unique),
else by its id; rows refer to each other by id, the document by key. Import re-issues every
id and keeps the keys on the rows, so that exporting an imported bot gives back an equal
document.

The engine reads :func:`published_document` (what sessions run) and :func:`draft_document`
(what test chats run).
"""

from __future__ import annotations

import itertools
import re
import secrets
import time
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from agenthub.calendar import recurrence
from agenthub.db.base import utcnow
from agenthub.errors import InvalidInput
from agenthub.scenarios.document import FORMAT, BotDocument, GroupDoc, StepDoc, TemplateDoc, dump, parse
from agenthub.scenarios.models import (
    Bot,
    BotCron,
    BotVersion,
    Connection,
    ConnectionGroup,
    Request,
    Step,
    Template,
)

_last_stamp = 0


def new_id(prefix: str) -> str:
    """A new row id that sorts after every id this process made before (the time in
    nanoseconds, then random digits): rows listed by id come in the order they were made,
    which keeps the order of a document's lists through an import."""
    global _last_stamp
    _last_stamp = max(_last_stamp + 1, time.time_ns())
    return f"{prefix}_{_last_stamp:016x}{secrets.token_hex(4)}"


_NOT_IN_KEY = re.compile(r"[^a-z0-9_.:-]+")


def _slug(name: str) -> str:
    return _NOT_IN_KEY.sub("-", name.lower()).strip("-_.:")[:56]


def keys_of(rows: Sequence[Step | Request | Template]) -> dict[str, str]:
    """The document key of each row by id: its own key; else one derived from its name,
    unique among them; else its id."""
    keys = {row.id: row.key for row in rows if row.key}
    used = set(keys.values())
    for row in rows:
        if row.id in keys:
            continue
        base = _slug(row.name or "")
        key = row.id
        if base:
            key = next(c for c in itertools.chain([base], (f"{base}-{n}" for n in itertools.count(2))) if c not in used)
        keys[row.id] = key
        used.add(key)
    return keys


def _group_doc(
    group: ConnectionGroup, connections: list[Connection], steps: dict[str, str], requests: dict[str, str]
) -> dict[str, Any]:
    return {
        "search_type": group.search_type,
        "request": requests.get(group.request_id, group.request_id) if group.request_id else None,
        "code": group.code,
        "llm": group.llm,
        "integration": group.integration,
        "variables": group.variables or {},
        "connections": [
            {
                "rules": c.rules or {}, "filters": c.filters or [], "priority": c.priority,
                "next_step": steps.get(c.next_step_id, c.next_step_id) if c.next_step_id else None,
            }
            for c in connections
        ],
    }


def _step_doc(
    step: Step, groups: list[dict[str, Any]], steps: dict[str, str], templates: dict[str, str]
) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "key": steps[step.id], "name": step.name, "message": step.message or {}, "is_proxy": step.is_proxy,
        "preset_id": step.preset_id, "position": step.position, "connection_groups": groups,
    }
    if step.emitter:
        target = str(step.emitter.get("next_step_id"))
        doc["emitter"] = {"delay_seconds": step.emitter.get("delay_seconds"), "next_step": steps.get(target, target)}
    if step.template_instance:
        instance = step.template_instance
        template_id = str(instance.get("template_id"))
        doc["template"] = {
            "template": templates.get(template_id, template_id),
            "inputs": instance.get("inputs") or {}, "outputs": instance.get("outputs") or {},
        }
    return doc


def template_doc(template: Template, key: str) -> dict[str, Any]:
    """A template row as the ``templates`` entry of a document."""
    body = template.document or {}
    return {
        "key": key, "name": template.name, "description": template.description, "inputs": template.inputs or {},
        "outputs": template.outputs or {}, "variables": template.variables or {},
        "first_step": body.get("first_step"), "steps": body.get("steps", []), "requests": body.get("requests", []),
    }


async def draft_data(session: AsyncSession, bot: Bot) -> dict[str, Any]:
    """The bot's draft as a document, not validated (a draft being built may name nothing
    as its first step yet, or a step that is gone)."""
    async def rows(model: Any, *order: Any) -> list[Any]:
        return list(await session.scalars(select(model).where(model.bot_id == bot.id).order_by(*order)))

    steps: list[Step] = await rows(Step, Step.id)
    groups: list[ConnectionGroup] = await rows(ConnectionGroup, ConnectionGroup.order, ConnectionGroup.id)
    connections: list[Connection] = await rows(Connection, Connection.id)
    requests: list[Request] = await rows(Request, Request.id)
    crons: list[BotCron] = await rows(BotCron, BotCron.id)
    template_ids = sorted({s.template_instance["template_id"] for s in steps if s.template_instance})
    templates = list(await session.scalars(
        select(Template).where(Template.org_id == bot.org_id, Template.id.in_(template_ids)).order_by(Template.id)
    )) if template_ids else []

    step_keys, request_keys, template_keys = keys_of(steps), keys_of(requests), keys_of(templates)
    by_group: dict[str, list[Connection]] = {}
    for connection in connections:
        by_group.setdefault(connection.group_id, []).append(connection)
    by_step: dict[str | None, list[dict[str, Any]]] = {}
    for group in groups:
        by_step.setdefault(group.step_id, []).append(
            _group_doc(group, by_group.get(group.id, []), step_keys, request_keys)
        )
    return {
        "format": FORMAT,
        "name": bot.name,
        "description": bot.description,
        "first_step": step_keys.get(bot.first_step_id, bot.first_step_id) if bot.first_step_id else None,
        "variables": bot.variables or {},
        "connection_groups": by_step.get(None, []),
        "steps": [_step_doc(s, by_step.get(s.id, []), step_keys, template_keys) for s in steps],
        "requests": [
            {
                "key": request_keys[r.id], "name": r.name, "method": r.method, "url": r.url, "headers": r.headers or {},
                "params": r.params or {}, "body": r.body, "body_type": r.body_type, "files": r.files or [],
                "timeout": r.timeout,
            }
            for r in requests
        ],
        "templates": [template_doc(t, template_keys[t.id]) for t in templates],
        "crons": [
            {"cron": c.cron, "timezone": c.timezone, "step": step_keys.get(c.step_id, c.step_id), "enabled": c.enabled}
            for c in crons
        ],
    }


def exported(data: dict[str, Any]) -> dict[str, Any]:
    """What export answers: the document in its short form (:func:`document.dump`) when the
    draft is valid; as it is otherwise (publishing says what is wrong)."""
    try:
        return dump(parse(data))
    except InvalidInput:
        return {key: value for key, value in data.items() if value is not None}


async def draft_document(session: AsyncSession, bot_id: str) -> BotDocument:
    """The bot's draft, validated (what test chats run); InvalidInput saying where the draft
    is wrong (``steps[2].connection_groups[0].connections[0].next_step: no step ...``)."""
    bot = await session.get(Bot, bot_id)
    if bot is None:
        raise InvalidInput(f"no bot {bot_id!r}", field="bot_id")
    return parse_draft(await draft_data(session, bot))


def parse_draft(data: dict[str, Any]) -> BotDocument:
    """:func:`parse` of a draft's data (:func:`draft_data`), saying first what a new bot
    lacks most often: a first step."""
    if data["first_step"] is None:
        raise InvalidInput(
            "first_step: the bot has no first step (create a step, or set first_step_id)",
            field="first_step", problem="the bot has no first step",
        )
    return parse(data)


async def published_document(session: AsyncSession, bot_id: str) -> tuple[int, BotDocument] | None:
    """The version sessions of the bot run and its document; None before the first publish."""
    bot = await session.get(Bot, bot_id)
    if bot is None or bot.published_version is None:
        return None
    row = await session.scalar(
        select(BotVersion).where(BotVersion.bot_id == bot_id, BotVersion.version == bot.published_version)
    )
    if row is None:
        return None
    return row.version, BotDocument.model_validate(row.document)


def _message(step: StepDoc) -> dict[str, Any]:
    return step.message.model_dump(mode="json")


async def add_rows(session: AsyncSession, bot: Bot, document: BotDocument) -> None:
    """Make the rows of ``document`` (validated) the draft of ``bot``, which has none yet:
    new ids, keys kept; its templates become new templates of the organisation."""
    org_id = bot.org_id
    template_ids = {t.key: await _template_for(session, org_id, t) for t in document.templates}
    request_ids: dict[str, str] = {}
    for r in document.requests:
        request = Request(
            id=new_id("req"), org_id=org_id, bot_id=bot.id, key=r.key, name=r.name, method=r.method, url=r.url,
            headers=r.headers, params=r.params, body=r.body, body_type=r.body_type, files=r.files, timeout=r.timeout,
        )
        session.add(request)
        request_ids[r.key] = request.id
    step_ids = {s.key: new_id("stp") for s in document.steps}
    for s in document.steps:
        session.add(Step(
            id=step_ids[s.key], org_id=org_id, bot_id=bot.id, key=s.key, name=s.name, message=_message(s),
            is_proxy=s.is_proxy, preset_id=s.preset_id, position=s.position,
            emitter={"delay_seconds": s.emitter.delay_seconds, "next_step_id": step_ids[s.emitter.next_step]}
            if s.emitter else None,
            template_instance={
                "template_id": template_ids[s.template.template], "inputs": s.template.inputs,
                "outputs": s.template.outputs,
            } if s.template else None,
        ))
    await session.flush()

    connections: list[Connection] = []

    def add_groups(groups: list[GroupDoc], step_id: str | None) -> None:
        for order, g in enumerate(groups):
            group = ConnectionGroup(
                id=new_id("grp"), org_id=org_id, bot_id=bot.id, step_id=step_id, order=order,
                search_type=g.search_type, request_id=request_ids[g.request] if g.request else None, code=g.code,
                llm=g.llm.model_dump(mode="json") if g.llm else None,
                integration=g.integration.model_dump(mode="json") if g.integration else None,
                variables=g.variables,
            )
            session.add(group)
            for c in g.connections:
                connections.append(Connection(
                    id=new_id("con"), org_id=org_id, bot_id=bot.id, group_id=group.id, rules=c.rules,
                    filters=list(c.filters), priority=c.priority,
                    next_step_id=step_ids[c.next_step] if c.next_step else None,
                ))

    add_groups(document.connection_groups, None)
    for s in document.steps:
        add_groups(s.connection_groups, step_ids[s.key])
    await session.flush()  # the groups before their connections: the tables have no relationship to order them
    session.add_all(connections)
    for c in document.crons:
        first = _first_run(c.cron, c.timezone) if c.enabled else None
        session.add(BotCron(
            id=new_id("crn"), org_id=org_id, bot_id=bot.id, cron=c.cron, timezone=c.timezone, step_id=step_ids[c.step],
            enabled=first is not None, next_run_at=first,
        ))
    bot.first_step_id = step_ids[document.first_step]
    await session.flush()


async def _template_for(session: AsyncSession, org_id: str, t: TemplateDoc) -> str:
    """The id of the organisation's template for the document's template ``t``: the one
    with its key when its content is the same; else a new one, under ``t``'s key or, when
    that is taken, the first free ``key-2``, ``key-3``..."""
    content = {
        "name": t.name, "description": t.description, "inputs": t.inputs, "outputs": t.outputs,
        "variables": t.variables, "document": template_body(t.first_step, t.steps, t.requests),
    }
    rows = list(await session.scalars(
        select(Template).where(Template.org_id == org_id, Template.key.is_not(None)).order_by(Template.id)
    ))
    taken = {row.key for row in rows}
    for row in rows:
        if row.key == t.key and {name: getattr(row, name) for name in content} == content:
            return row.id
    key = t.key
    if key in taken:
        base = t.key[:56]
        key = next(c for c in (f"{base}-{n}" for n in itertools.count(2)) if c not in taken)
    template = Template(id=new_id("tpl"), org_id=org_id, key=key, **content)
    session.add(template)
    await session.flush()
    return template.id


def _first_run(cron: str, timezone: str) -> datetime | None:
    """When an imported cron runs first; None for one that names no time to come (it is
    imported disabled, as the scheduler would leave it)."""
    try:
        return recurrence.next_after(cron, recurrence.zone(timezone), utcnow())
    except ValueError:
        return None


def template_body(first_step: str, steps: Sequence[StepDoc], requests: Sequence[Any]) -> dict[str, Any]:
    """A template's ``document`` as stored: its steps and requests in the short form of documents."""
    return {
        "first_step": first_step,
        "steps": [s.model_dump(mode="json", exclude_defaults=True) for s in steps],
        "requests": [r.model_dump(mode="json", exclude_defaults=True) for r in requests],
    }
