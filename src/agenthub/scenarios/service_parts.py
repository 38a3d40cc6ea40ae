"""The parts of a bot's draft: steps, connection groups, connections, requests; and the
organisation's templates. No HTTP here.

Every part belongs to one bot, and what it names (a connection's next step, a group's
request, an emitter's step) must be of the same bot: InvalidInput (422) otherwise. A step
that something points to can't be deleted (:class:`StepInUse`, 409, naming them). Every
change adds one to the bot's ``draft_revision``.
"""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy import delete as delete_rows
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from agenthub.caller import Caller
from agenthub.errors import Conflict, InvalidInput, NotFound
from agenthub.files import service as files_service
from agenthub.scenarios import checks, template_schemas
from agenthub.scenarios.document import MASK, _References
from agenthub.scenarios.export import new_id, template_body
from agenthub.scenarios.models import (
    Bot,
    BotCron,
    Connection,
    ConnectionGroup,
    Request,
    Step,
    Template,
)
from agenthub.scenarios.schemas import (
    GROUP_NULLABLE,
    STEP_NULLABLE,
    ConnectionCreate,
    ConnectionUpdate,
    GroupCreate,
    GroupUpdate,
    RequestCreate,
    RequestRead,
    RequestUpdate,
    StepCreate,
    StepUpdate,
    TemplateBody,
    TemplateCreate,
    TemplateUpdate,
)
from agenthub.scenarios.service import bot_of, files_named, live, owned, step_in_bot, touch

_PLACEHOLDER = re.compile(r"\{\$[^{}$]+\$\}")


class StepInUse(Conflict):
    """A step that connections, emitters, crons or the bot's ``first_step_id`` point to."""

    code = "step_in_use"

    def __init__(self, message: str, **extra: Any) -> None:
        super().__init__(message)
        self.extra = extra


class TemplateInUse(Conflict):
    code = "template_in_use"

    def __init__(self, message: str, **extra: Any) -> None:
        super().__init__(message)
        self.extra = extra


def _sent(data: Any, nullable: frozenset[str]) -> dict[str, Any]:
    """The fields of a PATCH body that change something: sent, and not null unless null clears them."""
    full = data.model_dump(mode="json")  # a part sent (a message) is stored whole, with its defaults
    return {key: full[key] for key in data.model_fields_set if full[key] is not None or key in nullable}


async def _bot_row(session: AsyncSession, bot_id: str) -> Bot:
    bot = await session.get(Bot, bot_id)
    if bot is None:
        raise NotFound(f"bot {bot_id!r} not found")
    return bot


async def _key_free(session: AsyncSession, model: Any, scope: Any, key: str | None, row_id: str | None = None) -> None:
    if key is None:
        return
    query = select(func.count()).select_from(model).where(scope, model.key == key)
    if row_id is not None:
        query = query.where(model.id != row_id)
    if await session.scalar(query):
        what = {Step: "step", Request: "request", Template: "template"}[model]
        raise Conflict(f"a {what} with key {key!r} already exists there")


# Steps ------------------------------------------------------------------------------------


async def _check_step_links(session: AsyncSession, caller: Caller, bot_id: str, sent: dict[str, Any]) -> None:
    await files_service.require_files(session, org_id=caller.org_id, named=files_service.named_in(sent))
    instance = sent.get("template_instance")
    if instance:
        checks.raise_first(checks.variable_names("template_instance.outputs", (instance.get("outputs") or {}).items()))
    emitter = sent.get("emitter")
    if emitter:
        await step_in_bot(session, bot_id, emitter["next_step_id"], "emitter.next_step_id")
    instance = sent.get("template_instance")
    if instance:
        template = await session.scalar(
            select(Template).where(Template.id == instance["template_id"], Template.org_id == caller.org_id)
        )
        if template is None:
            raise InvalidInput(
                f"template_instance.template_id: no template {instance['template_id']!r}",
                field="template_instance.template_id", problem=f"no template {instance['template_id']!r}",
            )
        checks.raise_first(template_schemas.instance_problems(
            "template_instance", inputs_schema=template.inputs, outputs_schema=template.outputs,
            inputs=instance.get("inputs") or {}, outputs=instance.get("outputs") or {},
        ))


async def create_step(session: AsyncSession, *, caller: Caller, data: StepCreate) -> Step:
    """A new step of the bot; the bot's first step when it has none yet."""
    bot = await bot_of(session, caller, data.bot_id)
    sent = data.model_dump(mode="json")
    await _key_free(session, Step, Step.bot_id == bot.id, data.key)
    await _check_step_links(session, caller, bot.id, sent)
    step = Step(id=new_id("stp"), org_id=bot.org_id, **sent)
    session.add(step)
    await session.flush()
    if bot.first_step_id is None:
        bot.first_step_id = step.id
    touch(bot)
    await session.flush()
    return step


async def _listed(session: AsyncSession, caller: Caller, model: Any, *where: Any, order: Any = None) -> list[Any]:
    """The organisation's rows of ``model`` (of bots not deleted, and that the caller may reach)."""
    query = live(model).where(model.org_id == caller.org_id, *where)
    if caller.agent_ids is not None:
        query = query.where(model.bot_id.in_(list(caller.agent_ids)))
    return list(await session.scalars(query.order_by(*(order if order is not None else (model.id,)))))


async def list_steps(session: AsyncSession, *, caller: Caller, bot_id: str | None) -> list[Step]:
    """The steps of the bot, or of every bot of the organisation."""
    where = [] if bot_id is None else [Step.bot_id == (await bot_of(session, caller, bot_id)).id]
    return await _listed(session, caller, Step, *where)


async def update_step(session: AsyncSession, *, caller: Caller, step_id: str, data: StepUpdate) -> Step:
    step: Step = await owned(session, caller, Step, step_id, "step")
    sent = _sent(data, STEP_NULLABLE)
    if "key" in sent:
        await _key_free(session, Step, Step.bot_id == step.bot_id, sent["key"], step.id)
    await _check_step_links(session, caller, step.bot_id, sent)
    for name, value in sent.items():
        setattr(step, name, value)
    if sent:
        touch(await _bot_row(session, step.bot_id))
    await session.flush()
    return step


async def delete_step(session: AsyncSession, *, caller: Caller, step_id: str) -> None:
    """Delete the step with its groups and their connections; StepInUse (409) naming what
    points to it otherwise (connections of other groups, emitters, crons, the bot's first step)."""
    step: Step = await owned(session, caller, Step, step_id, "step")
    bot = await _bot_row(session, step.bot_id)
    own_groups = select(ConnectionGroup.id).where(ConnectionGroup.step_id == step.id)
    connections = list(await session.scalars(
        select(Connection.id).where(Connection.next_step_id == step.id, Connection.group_id.not_in(own_groups))
        .order_by(Connection.id)
    ))
    emitters = [
        s.id for s in await session.scalars(select(Step).where(Step.bot_id == bot.id, Step.id != step.id).order_by(Step.id))
        if (s.emitter or {}).get("next_step_id") == step.id
    ]
    crons = list(await session.scalars(select(BotCron.id).where(BotCron.step_id == step.id).order_by(BotCron.id)))
    first = bot.first_step_id == step.id
    if connections or emitters or crons or first:
        said = [f"connections {', '.join(connections)}" if connections else "",
                f"the emitters of steps {', '.join(emitters)}" if emitters else "",
                f"crons {', '.join(crons)}" if crons else "",
                "the bot's first_step_id" if first else ""]
        raise StepInUse(
            f"step {step_id!r} is in use by {'; '.join(s for s in said if s)}: point them elsewhere first",
            connections=connections, emitters=emitters, crons=crons, first_step=first,
        )
    await session.execute(delete_rows(Connection).where(Connection.group_id.in_(own_groups)))
    await session.execute(delete_rows(ConnectionGroup).where(ConnectionGroup.step_id == step.id))
    await session.delete(step)
    touch(bot)
    await session.flush()


# Connection groups ------------------------------------------------------------------------

_NEEDS = {"response": "request_id", "code": "code", "llm": "llm", "integration": "integration"}


def _check_needs(search_type: str, fields: dict[str, Any]) -> None:
    needed = _NEEDS.get(search_type)
    if needed is not None and fields.get(needed) is None:
        raise InvalidInput(f"{needed}: a {search_type!r} group needs {needed}", field=needed,
                           problem=f"a {search_type!r} group needs it")


async def _request_in_bot(session: AsyncSession, bot_id: str, request_id: str | None) -> None:
    if request_id is None:
        return
    found = await session.scalar(select(Request.id).where(Request.id == request_id, Request.bot_id == bot_id))
    if found is None:
        raise InvalidInput(f"request_id: no request {request_id!r} in bot {bot_id!r}", field="request_id",
                           problem=f"no request {request_id!r} in this bot")


async def create_group(session: AsyncSession, *, caller: Caller, data: GroupCreate) -> ConnectionGroup:
    """A group of a step (``step_id``), or of the bot (``bot_id`` alone: a bot-level handler)."""
    if data.step_id is not None:
        step: Step = await owned(session, caller, Step, data.step_id, "step")
        if data.bot_id is not None and data.bot_id != step.bot_id:
            raise InvalidInput(f"bot_id: step {step.id!r} is not of bot {data.bot_id!r}", field="bot_id",
                               problem="not the bot of the step")
        bot = await _bot_row(session, step.bot_id)
    elif data.bot_id is not None:
        bot = await bot_of(session, caller, data.bot_id)
    else:
        raise InvalidInput("step_id: a group needs step_id (a step's group) or bot_id (a bot-level handler)",
                           field="step_id", problem="step_id or bot_id is needed")
    fields = data.model_dump(mode="json", exclude={"bot_id"})
    _check_needs(data.search_type, fields)
    checks.raise_first(checks.group("", fields))
    await _request_in_bot(session, bot.id, data.request_id)
    group = ConnectionGroup(id=new_id("grp"), org_id=bot.org_id, bot_id=bot.id, **fields)
    session.add(group)
    touch(bot)
    await session.flush()
    return group


async def list_groups(
    session: AsyncSession, *, caller: Caller, bot_id: str | None, step_id: str | None
) -> list[ConnectionGroup]:
    """The groups of a step, of a bot (its steps' and its own: those without ``step_id``), or of
    every bot of the organisation."""
    where = []
    if step_id is not None:
        where.append(ConnectionGroup.step_id == (await owned(session, caller, Step, step_id, "step")).id)
    if bot_id is not None:
        where.append(ConnectionGroup.bot_id == (await bot_of(session, caller, bot_id)).id)
    return await _listed(session, caller, ConnectionGroup, *where, order=(ConnectionGroup.order, ConnectionGroup.id))


async def update_group(session: AsyncSession, *, caller: Caller, group_id: str, data: GroupUpdate) -> ConnectionGroup:
    group: ConnectionGroup = await owned(session, caller, ConnectionGroup, group_id, "connection group")
    sent = _sent(data, GROUP_NULLABLE)
    merged = {name: getattr(group, name) for name in ("search_type", *_NEEDS.values())} | sent
    _check_needs(merged["search_type"], merged)
    checks.raise_first(checks.group("", sent))
    await _request_in_bot(session, group.bot_id, sent.get("request_id"))
    for name, value in sent.items():
        setattr(group, name, value)
    if sent:
        touch(await _bot_row(session, group.bot_id))
    await session.flush()
    return group


async def delete_group(session: AsyncSession, *, caller: Caller, group_id: str) -> None:
    """Delete the group with its connections."""
    group: ConnectionGroup = await owned(session, caller, ConnectionGroup, group_id, "connection group")
    await session.execute(delete_rows(Connection).where(Connection.group_id == group.id))
    await session.delete(group)
    touch(await _bot_row(session, group.bot_id))
    await session.flush()


# Connections ------------------------------------------------------------------------------


async def create_connection(session: AsyncSession, *, caller: Caller, data: ConnectionCreate) -> Connection:
    group: ConnectionGroup = await owned(session, caller, ConnectionGroup, data.group_id, "connection group")
    if data.next_step_id is not None:
        await step_in_bot(session, group.bot_id, data.next_step_id, "next_step_id")
    connection = Connection(
        id=new_id("con"), org_id=group.org_id, bot_id=group.bot_id, **data.model_dump(mode="json"),
    )
    session.add(connection)
    touch(await _bot_row(session, group.bot_id))
    await session.flush()
    return connection


async def list_connections(
    session: AsyncSession, *, caller: Caller, bot_id: str | None, group_id: str | None
) -> list[Connection]:
    where = []
    if group_id is not None:
        group = await owned(session, caller, ConnectionGroup, group_id, "connection group")
        where.append(Connection.group_id == group.id)
    if bot_id is not None:
        where.append(Connection.bot_id == (await bot_of(session, caller, bot_id)).id)
    return await _listed(session, caller, Connection, *where)


async def update_connection(
    session: AsyncSession, *, caller: Caller, connection_id: str, data: ConnectionUpdate
) -> Connection:
    connection: Connection = await owned(session, caller, Connection, connection_id, "connection")
    sent = _sent(data, frozenset({"next_step_id"}))
    if sent.get("next_step_id") is not None:
        await step_in_bot(session, connection.bot_id, sent["next_step_id"], "next_step_id")
    for name, value in sent.items():
        setattr(connection, name, value)
    if sent:
        touch(await _bot_row(session, connection.bot_id))
    await session.flush()
    return connection


async def delete_connection(session: AsyncSession, *, caller: Caller, connection_id: str) -> None:
    connection: Connection = await owned(session, caller, Connection, connection_id, "connection")
    await session.delete(connection)
    touch(await _bot_row(session, connection.bot_id))
    await session.flush()


# Requests ---------------------------------------------------------------------------------


def shown_headers(headers: dict[str, Any]) -> dict[str, Any]:
    """Header values as responses show them: a literal value as ``***`` (it may be a key);
    one made with variables (``Bearer {$bot.token$}``) as it is, the secret being elsewhere."""
    return {name: value if isinstance(value, str) and _PLACEHOLDER.search(value) else MASK
            for name, value in headers.items()}


def read_request(request: Request) -> RequestRead:
    read = RequestRead.model_validate(request)
    read.headers = shown_headers(request.headers or {})
    return read


async def create_request(session: AsyncSession, *, caller: Caller, data: RequestCreate) -> Request:
    bot = await bot_of(session, caller, data.bot_id)
    await _key_free(session, Request, Request.bot_id == bot.id, data.key)
    await files_service.require_files(session, org_id=caller.org_id, named=files_service.named_in(data.model_dump()))
    request = Request(id=new_id("req"), org_id=bot.org_id, **data.model_dump(mode="json"))
    session.add(request)
    touch(bot)
    await session.flush()
    return request


async def list_requests(session: AsyncSession, *, caller: Caller, bot_id: str | None) -> list[Request]:
    where = [] if bot_id is None else [Request.bot_id == (await bot_of(session, caller, bot_id)).id]
    return await _listed(session, caller, Request, *where)


async def update_request(session: AsyncSession, *, caller: Caller, request_id: str, data: RequestUpdate) -> Request:
    """Change the fields sent; a header sent back as ``***`` (as reads show it) keeps its value."""
    request: Request = await owned(session, caller, Request, request_id, "request")
    sent = _sent(data, frozenset({"key", "body"}))
    await files_service.require_files(session, org_id=caller.org_id, named=files_service.named_in(sent))
    if "key" in sent:
        await _key_free(session, Request, Request.bot_id == request.bot_id, sent["key"], request.id)
    if "headers" in sent:
        stored = request.headers or {}
        sent["headers"] = {
            name: stored[name] if value == MASK and name in stored else value for name, value in sent["headers"].items()
        }
    for name, value in sent.items():
        setattr(request, name, value)
    if sent:
        touch(await _bot_row(session, request.bot_id))
    await session.flush()
    return request


async def delete_request(session: AsyncSession, *, caller: Caller, request_id: str) -> None:
    """Delete the request; 409 naming the groups that make it."""
    request: Request = await owned(session, caller, Request, request_id, "request")
    groups = list(await session.scalars(
        select(ConnectionGroup.id).where(ConnectionGroup.request_id == request.id).order_by(ConnectionGroup.id)
    ))
    if groups:
        raise Conflict(f"request {request_id!r} is made by connection groups {', '.join(groups)}: change them first",
                       code="request_in_use")
    await session.delete(request)
    touch(await _bot_row(session, request.bot_id))
    await session.flush()


# Templates --------------------------------------------------------------------------------


def check_template_body(body: TemplateBody, field: str = "document") -> None:
    """Every key the template's steps name is one of its steps or requests: InvalidInput
    saying where otherwise (templates name no templates)."""
    check = _References()
    requests = check.unique(f"{field}.requests", [r.key for r in body.requests], "request")
    keys = check.steps(f"{field}.steps", body.steps, requests, set())
    check.named(f"{field}.first_step", body.first_step, keys, "step")
    for s, step in enumerate(body.steps):
        if step.template is not None:
            check.problems.append((f"{field}.steps[{s}].template", "a template's step can't be a template instance"))
    check.problems += checks.steps(f"{field}.steps", body.steps)
    if check.problems:
        where, said = check.problems[0]
        raise InvalidInput(f"{where}: {said}", field=where, problem=said)


async def _template(session: AsyncSession, caller: Caller, template_id: str) -> Template:
    template = await session.scalar(
        select(Template).where(Template.id == template_id, Template.org_id == caller.org_id)
    )
    if template is None:
        raise NotFound(f"template {template_id!r} not found")
    return template


async def _check_template_files(session: AsyncSession, caller: Caller, body: TemplateBody) -> None:
    named = files_named("document.", body.steps, body.requests)
    await files_service.require_files(session, org_id=caller.org_id, named=named)


async def create_template(session: AsyncSession, *, caller: Caller, data: TemplateCreate) -> Template:
    check_template_body(data.document)
    checks.raise_first(template_schemas.schema_problems("inputs", data.inputs)
                       + template_schemas.schema_problems("outputs", data.outputs))
    await _check_template_files(session, caller, data.document)
    await _key_free(session, Template, Template.org_id == caller.org_id, data.key)
    template = Template(
        id=new_id("tpl"), org_id=caller.org_id, key=data.key, name=data.name, description=data.description,
        inputs=data.inputs, outputs=data.outputs, variables=data.variables,
        document=template_body(data.document.first_step, data.document.steps, data.document.requests),
    )
    session.add(template)
    await session.flush()
    return template


async def list_templates(session: AsyncSession, *, caller: Caller) -> list[Template]:
    return list(await session.scalars(select(Template).where(Template.org_id == caller.org_id).order_by(Template.id)))


async def get_template(session: AsyncSession, *, caller: Caller, template_id: str) -> Template:
    return await _template(session, caller, template_id)


async def update_template(
    session: AsyncSession, *, caller: Caller, template_id: str, data: TemplateUpdate
) -> Template:
    template = await _template(session, caller, template_id)
    sent = _sent(data, frozenset({"key"}))
    checks.raise_first(template_schemas.schema_problems("inputs", sent.get("inputs") or {})
                       + template_schemas.schema_problems("outputs", sent.get("outputs") or {}))
    if data.document is not None:
        check_template_body(data.document)
        await _check_template_files(session, caller, data.document)
        sent["document"] = template_body(data.document.first_step, data.document.steps, data.document.requests)
    if "key" in sent:
        await _key_free(session, Template, Template.org_id == caller.org_id, sent["key"], template.id)
    for name, value in sent.items():
        setattr(template, name, value)
    if sent:
        for bot in await _bots_using(session, caller, template.id):
            touch(bot)  # their drafts hold the template
    await session.flush()
    return template


def _of_template(template_id: str) -> Any:
    return Step.template_instance["template_id"].as_string() == template_id


async def _instances(session: AsyncSession, caller: Caller, template_id: str) -> list[Step]:
    """Every step of the organisation that is an instance of the template."""
    query = select(Step).where(Step.org_id == caller.org_id, _of_template(template_id)).order_by(Step.id)
    return list(await session.scalars(query))


async def listed_instances(session: AsyncSession, caller: Caller, template_id: str) -> list[Step]:
    """The instances of the template in the bots the caller may list."""
    return await _listed(session, caller, Step, _of_template(template_id))


async def _bots_using(session: AsyncSession, caller: Caller, template_id: str) -> list[Bot]:
    bot_ids = sorted({step.bot_id for step in await _instances(session, caller, template_id)})
    return list(await session.scalars(select(Bot).where(Bot.id.in_(bot_ids)))) if bot_ids else []


async def delete_template(session: AsyncSession, *, caller: Caller, template_id: str) -> None:
    """Delete the template; 409 naming the steps that are instances of it."""
    template = await _template(session, caller, template_id)
    steps = [step.id for step in await _instances(session, caller, template.id)]
    if steps:
        raise TemplateInUse(f"template {template_id!r} has instances: steps {', '.join(steps)}", steps=steps)
    await session.delete(template)
    await session.flush()
