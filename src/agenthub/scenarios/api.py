"""Scenario bot routes: thin; the logic is in :mod:`agenthub.scenarios.service` (bots,
versions, sessions, analytics) and :mod:`agenthub.scenarios.service_parts` (steps, groups,
connections, requests, templates). Deleting a bot stops it: that route reaches the
supervisor, so it is a gateway route (:mod:`agenthub.lifecycle.bots`).

Every route is of the caller's organisation: another organisation's bot, step, group,
connection, request, template or session is 404, as one that does not exist."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, status

from agenthub.audit.deps import AuditDep
from agenthub.deps import CallerDep, SessionDep, SettingsDep
from agenthub.json_input import StrictJSONRoute
from agenthub.ops.openapi import error_responses
from agenthub.scenarios import export, service, service_parts, template_instances
from agenthub.scenarios.document import BotDocument
from agenthub.scenarios.models import Connection, ConnectionGroup, Request, Step
from agenthub.scenarios.schemas import (
    Analytics,
    BotCreate,
    BotList,
    BotRead,
    BotUpdate,
    BotVariables,
    ConnectionCreate,
    ConnectionList,
    ConnectionRead,
    ConnectionUpdate,
    GroupCreate,
    GroupList,
    GroupRead,
    GroupUpdate,
    RequestCreate,
    RequestList,
    RequestRead,
    RequestUpdate,
    SessionList,
    SessionRead,
    StepCreate,
    StepList,
    StepRead,
    StepUpdate,
    TemplateCreate,
    TemplateInstanceCreate,
    TemplateList,
    TemplateRead,
    TemplateUpdate,
    VersionDocument,
    VersionList,
)

bots = APIRouter(prefix="/api/v1/bots", tags=["bots"], route_class=StrictJSONRoute)
parts = APIRouter(prefix="/api/v1", tags=["bots"], route_class=StrictJSONRoute)

Id = Annotated[str, Path(min_length=1, max_length=64)]
BotId = Annotated[str, Path(min_length=1, max_length=64, description="The bot's id")]
Filter = Annotated[str | None, Query(min_length=1, max_length=64)]
STEP_IN_USE = {409: "`step_in_use`: connections, emitters, crons or the bot's `first_step_id` point to it "
                    "(named in `connections`, `emitters`, `crons`, `first_step`)"}
TAKEN = {409: "The id (or key) is taken"}
TAKEN_OR_RETAINED = {409: "The id is taken (`id_retained`: a deleted bot's, until the retention period ends)"}


# Bots -------------------------------------------------------------------------------------


@bots.post("", status_code=status.HTTP_201_CREATED, response_model=BotRead,
           responses=error_responses(403, 409, meanings=TAKEN_OR_RETAINED))
async def create_bot(
    data: BotCreate, caller: CallerDep, session: SessionDep, settings: SettingsDep, audit: AuditDep
) -> BotRead:
    """A new scenario bot (an agent of kind `scenario`, listed in `/api/v1/agents`), with no
    steps yet: its first step is the first one created (or `first_step_id`)."""
    retention = timedelta(days=settings.deleted_retention_days)
    read = service.read_bot(await service.create_bot(session, caller=caller, data=data, retention=retention))
    audit.record(session, action="bot.create", resource_type="bot", resource_id=read.id, after={"name": read.name})
    return read


@bots.get("", response_model=BotList)
async def list_bots(
    caller: CallerDep, session: SessionDep,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    offset: Annotated[int, Query(ge=0, le=2**31 - 1)] = 0,
) -> BotList:
    rows, total = await service.list_bots(session, caller=caller, limit=limit, offset=offset)
    return BotList(items=[service.read_bot(bot) for bot in rows], total=total)


@bots.post("/import", status_code=status.HTTP_201_CREATED, response_model=BotRead,
           responses=error_responses(403, 409, meanings=TAKEN))
async def import_bot(data: BotDocument, caller: CallerDep, session: SessionDep, audit: AuditDep) -> BotRead:
    """A new bot made from a document (`agenthub.bot/v1`, as export gives): new ids, keys kept;
    published at once as version 1. A document that names a missing key or fails validation
    is a 422 saying where, and nothing is made."""
    read = service.read_bot(await service.import_bot(session, caller=caller, data=data))
    audit.record(session, action="bot.import", resource_type="bot", resource_id=read.id, after={"name": read.name})
    return read


@bots.get("/{bot_id}", response_model=BotRead, responses=error_responses(404))
async def get_bot(bot_id: BotId, caller: CallerDep, session: SessionDep) -> BotRead:
    return service.read_bot(await service.bot_of(session, caller, bot_id))


@bots.patch("/{bot_id}", response_model=BotRead, responses=error_responses(404))
async def update_bot(bot_id: BotId, data: BotUpdate, caller: CallerDep, session: SessionDep) -> BotRead:
    """Change the fields sent (the draft: sessions run the published version)."""
    return service.read_bot(await service.update_bot(session, caller=caller, bot_id=bot_id, data=data))


@bots.get("/{bot_id}/export", response_model=dict[str, Any], responses=error_responses(404))
async def export_bot(bot_id: BotId, caller: CallerDep, session: SessionDep) -> dict[str, Any]:
    """The bot's draft as one document (`agenthub.bot/v1`): steps, requests and templates
    named by key. A draft that is not a valid document yet (no first step, a step named that
    is gone) comes as it is; publishing says what is wrong. Header values of requests are
    shown as `***` unless made with variables."""
    bot = await service.bot_of(session, caller, bot_id)
    document = export.exported(await export.draft_data(session, bot))
    for request in document.get("requests", []):
        if isinstance(request, dict) and request.get("headers"):
            request["headers"] = service_parts.shown_headers(request["headers"])
    return document


@bots.post("/{bot_id}/publish", response_model=VersionDocument, responses=error_responses(404))
async def publish_bot(bot_id: BotId, caller: CallerDep, session: SessionDep, audit: AuditDep) -> VersionDocument:
    """Make the draft the bot's next version, the one its sessions run; 422 saying where
    when the draft is not a valid document."""
    row = await service.publish(session, caller=caller, bot_id=bot_id)
    audit.record(session, action="bot.publish", resource_type="bot", resource_id=bot_id, after={"version": row.version})
    return _version_document(row)


@bots.get("/{bot_id}/versions", response_model=VersionList, responses=error_responses(404))
async def list_versions(bot_id: BotId, caller: CallerDep, session: SessionDep) -> VersionList:
    rows = await service.versions(session, caller=caller, bot_id=bot_id)
    return VersionList(items=[service.read_version(row) for row in rows], total=len(rows))


@bots.get("/{bot_id}/versions/{version}", response_model=VersionDocument, responses=error_responses(404))
async def get_version(
    bot_id: BotId, version: Annotated[str, Path(min_length=1, max_length=20, description="The version number")],
    caller: CallerDep, session: SessionDep,
) -> VersionDocument:
    return _version_document(await service.version(session, caller=caller, bot_id=bot_id, number=version))


def _version_document(row: Any) -> VersionDocument:
    document = dict(row.document)
    if document.get("requests"):
        document["requests"] = [
            {**r, "headers": service_parts.shown_headers(r["headers"])} if r.get("headers") else r
            for r in document["requests"]
        ]
    return VersionDocument(**service.read_version(row).model_dump(), document=document)


@bots.get("/{bot_id}/sessions", response_model=SessionList, responses=error_responses(404))
async def list_sessions(
    bot_id: BotId, caller: CallerDep, session: SessionDep,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    offset: Annotated[int, Query(ge=0, le=2**31 - 1)] = 0,
) -> SessionList:
    """The bot's sessions, the last active first: who, on which channel, where, with which variables."""
    rows, total = await service.sessions_of(session, caller=caller, bot_id=bot_id, limit=limit, offset=offset)
    return SessionList(items=[SessionRead.model_validate(row) for row in rows], total=total)


@bots.delete("/{bot_id}/sessions/{session_id}", status_code=status.HTTP_204_NO_CONTENT,
             responses=error_responses(404))
async def reset_session(bot_id: BotId, session_id: Id, caller: CallerDep, session: SessionDep) -> None:
    """Reset the session: the user's next message starts a new one at the bot's first step."""
    await service.reset_session(session, caller=caller, bot_id=bot_id, session_id=session_id)


@bots.get("/{bot_id}/variables", response_model=BotVariables, responses=error_responses(404))
async def bot_variables(bot_id: BotId, caller: CallerDep, session: SessionDep) -> BotVariables:
    return await service.variables(session, caller=caller, bot_id=bot_id)


@bots.get("/{bot_id}/analytics", response_model=Analytics, responses=error_responses(404, 422))
async def bot_analytics(
    bot_id: BotId, caller: CallerDep, session: SessionDep,
    since: Annotated[datetime | None, Query(alias="from", description="From this time on (inclusive)")] = None,
    until: Annotated[datetime | None, Query(alias="to", description="Before this time")] = None,
) -> Analytics:
    """The funnel: per step, how many times sessions entered it and moved on from it
    (starting a session does not count as entering the first step, nor leaving it from there
    as moving on; a message no connection takes counts nothing)."""
    return await service.analytics(session, caller=caller, bot_id=bot_id, since=since, until=until)


# Steps ------------------------------------------------------------------------------------


@parts.post("/steps", status_code=status.HTTP_201_CREATED, response_model=StepRead,
            responses=error_responses(404, 409, meanings=TAKEN))
async def create_step(data: StepCreate, caller: CallerDep, session: SessionDep) -> StepRead:
    """A new step of the bot (its first step when it has none yet)."""
    return StepRead.model_validate(await service_parts.create_step(session, caller=caller, data=data))


@parts.get("/steps", response_model=StepList, responses=error_responses(404))
async def list_steps(caller: CallerDep, session: SessionDep, bot_id: Filter = None) -> StepList:
    """The steps of the bot `bot_id` (of every bot without it)."""
    rows = await service_parts.list_steps(session, caller=caller, bot_id=bot_id)
    return StepList(items=[StepRead.model_validate(row) for row in rows], total=len(rows))


@parts.get("/steps/{step_id}", response_model=StepRead, responses=error_responses(404))
async def get_step(step_id: Id, caller: CallerDep, session: SessionDep) -> StepRead:
    return StepRead.model_validate(await service.owned(session, caller, Step, step_id, "step"))


@parts.patch("/steps/{step_id}", response_model=StepRead, responses=error_responses(404, 409, meanings=TAKEN))
async def update_step(step_id: Id, data: StepUpdate, caller: CallerDep, session: SessionDep) -> StepRead:
    return StepRead.model_validate(await service_parts.update_step(session, caller=caller, step_id=step_id, data=data))


@parts.delete("/steps/{step_id}", status_code=status.HTTP_204_NO_CONTENT,
              responses=error_responses(404, 409, meanings=STEP_IN_USE))
async def delete_step(step_id: Id, caller: CallerDep, session: SessionDep) -> None:
    """Delete the step with its connection groups; 409 `step_in_use` naming what points to it."""
    await service_parts.delete_step(session, caller=caller, step_id=step_id)


# Connection groups ------------------------------------------------------------------------


@parts.post("/connection_groups", status_code=status.HTTP_201_CREATED, response_model=GroupRead,
            responses=error_responses(404))
async def create_group(data: GroupCreate, caller: CallerDep, session: SessionDep) -> GroupRead:
    return GroupRead.model_validate(await service_parts.create_group(session, caller=caller, data=data))


@parts.get("/connection_groups", response_model=GroupList, responses=error_responses(404))
async def list_groups(
    caller: CallerDep, session: SessionDep, bot_id: Filter = None, step_id: Filter = None
) -> GroupList:
    """The groups of a step (`step_id`), of a bot (`bot_id`: its steps' and its own), or of every bot."""
    rows = await service_parts.list_groups(session, caller=caller, bot_id=bot_id, step_id=step_id)
    return GroupList(items=[GroupRead.model_validate(row) for row in rows], total=len(rows))


@parts.get("/connection_groups/{group_id}", response_model=GroupRead, responses=error_responses(404))
async def get_group(group_id: Id, caller: CallerDep, session: SessionDep) -> GroupRead:
    return GroupRead.model_validate(await service.owned(session, caller, ConnectionGroup, group_id, "connection group"))


@parts.patch("/connection_groups/{group_id}", response_model=GroupRead, responses=error_responses(404))
async def update_group(group_id: Id, data: GroupUpdate, caller: CallerDep, session: SessionDep) -> GroupRead:
    return GroupRead.model_validate(
        await service_parts.update_group(session, caller=caller, group_id=group_id, data=data)
    )


@parts.delete("/connection_groups/{group_id}", status_code=status.HTTP_204_NO_CONTENT,
              responses=error_responses(404))
async def delete_group(group_id: Id, caller: CallerDep, session: SessionDep) -> None:
    """Delete the group with its connections."""
    await service_parts.delete_group(session, caller=caller, group_id=group_id)


# Connections ------------------------------------------------------------------------------


@parts.post("/connections", status_code=status.HTTP_201_CREATED, response_model=ConnectionRead,
            responses=error_responses(404))
async def create_connection(data: ConnectionCreate, caller: CallerDep, session: SessionDep) -> ConnectionRead:
    return ConnectionRead.model_validate(await service_parts.create_connection(session, caller=caller, data=data))


@parts.get("/connections", response_model=ConnectionList, responses=error_responses(404))
async def list_connections(
    caller: CallerDep, session: SessionDep, bot_id: Filter = None, group_id: Filter = None
) -> ConnectionList:
    rows = await service_parts.list_connections(session, caller=caller, bot_id=bot_id, group_id=group_id)
    return ConnectionList(items=[ConnectionRead.model_validate(row) for row in rows], total=len(rows))


@parts.get("/connections/{connection_id}", response_model=ConnectionRead, responses=error_responses(404))
async def get_connection(connection_id: Id, caller: CallerDep, session: SessionDep) -> ConnectionRead:
    return ConnectionRead.model_validate(await service.owned(session, caller, Connection, connection_id, "connection"))


@parts.patch("/connections/{connection_id}", response_model=ConnectionRead, responses=error_responses(404))
async def update_connection(
    connection_id: Id, data: ConnectionUpdate, caller: CallerDep, session: SessionDep
) -> ConnectionRead:
    return ConnectionRead.model_validate(
        await service_parts.update_connection(session, caller=caller, connection_id=connection_id, data=data)
    )


@parts.delete("/connections/{connection_id}", status_code=status.HTTP_204_NO_CONTENT, responses=error_responses(404))
async def delete_connection(connection_id: Id, caller: CallerDep, session: SessionDep) -> None:
    await service_parts.delete_connection(session, caller=caller, connection_id=connection_id)


# Requests ---------------------------------------------------------------------------------


@parts.post("/requests", status_code=status.HTTP_201_CREATED, response_model=RequestRead,
            responses=error_responses(404, 409, meanings=TAKEN))
async def create_request(data: RequestCreate, caller: CallerDep, session: SessionDep) -> RequestRead:
    return service_parts.read_request(await service_parts.create_request(session, caller=caller, data=data))


@parts.get("/requests", response_model=RequestList, responses=error_responses(404))
async def list_requests(caller: CallerDep, session: SessionDep, bot_id: Filter = None) -> RequestList:
    rows = await service_parts.list_requests(session, caller=caller, bot_id=bot_id)
    return RequestList(items=[service_parts.read_request(row) for row in rows], total=len(rows))


@parts.get("/requests/{request_id}", response_model=RequestRead, responses=error_responses(404))
async def get_request(request_id: Id, caller: CallerDep, session: SessionDep) -> RequestRead:
    return service_parts.read_request(await service.owned(session, caller, Request, request_id, "request"))


@parts.patch("/requests/{request_id}", response_model=RequestRead, responses=error_responses(404, 409, meanings=TAKEN))
async def update_request(request_id: Id, data: RequestUpdate, caller: CallerDep, session: SessionDep) -> RequestRead:
    """Change the fields sent; a header value sent back as `***` (as reads show it) is kept."""
    return service_parts.read_request(
        await service_parts.update_request(session, caller=caller, request_id=request_id, data=data)
    )


@parts.delete("/requests/{request_id}", status_code=status.HTTP_204_NO_CONTENT,
              responses=error_responses(404, 409, meanings={409: "`request_in_use`: connection groups make it"}))
async def delete_request(request_id: Id, caller: CallerDep, session: SessionDep) -> None:
    await service_parts.delete_request(session, caller=caller, request_id=request_id)


# Templates --------------------------------------------------------------------------------


@parts.post("/templates", status_code=status.HTTP_201_CREATED, response_model=TemplateRead,
            responses=error_responses(409, meanings=TAKEN))
async def create_template(data: TemplateCreate, caller: CallerDep, session: SessionDep) -> TemplateRead:
    """A template of the organisation: steps with inputs and outputs, used by steps of any
    bot (`template_instance`)."""
    return TemplateRead.model_validate(await service_parts.create_template(session, caller=caller, data=data))


@parts.get("/templates", response_model=TemplateList)
async def list_templates(caller: CallerDep, session: SessionDep) -> TemplateList:
    rows = await service_parts.list_templates(session, caller=caller)
    return TemplateList(items=[TemplateRead.model_validate(row) for row in rows], total=len(rows))


@parts.get("/templates/{template_id}", response_model=TemplateRead, responses=error_responses(404))
async def get_template(template_id: Id, caller: CallerDep, session: SessionDep) -> TemplateRead:
    return TemplateRead.model_validate(
        await service_parts.get_template(session, caller=caller, template_id=template_id)
    )


@parts.patch("/templates/{template_id}", response_model=TemplateRead,
             responses=error_responses(404, 409, meanings=TAKEN))
async def update_template(
    template_id: Id, data: TemplateUpdate, caller: CallerDep, session: SessionDep
) -> TemplateRead:
    return TemplateRead.model_validate(
        await service_parts.update_template(session, caller=caller, template_id=template_id, data=data)
    )


@parts.delete("/templates/{template_id}", status_code=status.HTTP_204_NO_CONTENT,
              responses=error_responses(404, 409, meanings={409: "`template_in_use`: steps are instances of it"}))
async def delete_template(template_id: Id, caller: CallerDep, session: SessionDep) -> None:
    await service_parts.delete_template(session, caller=caller, template_id=template_id)


@parts.get("/templates/{template_id}/instances", response_model=StepList, responses=error_responses(404))
async def list_template_instances(template_id: Id, caller: CallerDep, session: SessionDep) -> StepList:
    """The steps of bots that are instances of the template."""
    rows = await template_instances.list_instances(session, caller=caller, template_id=template_id)
    return StepList(items=[StepRead.model_validate(row) for row in rows], total=len(rows))


@parts.post("/templates/{template_id}/instances", status_code=status.HTTP_201_CREATED, response_model=StepRead,
            responses=error_responses(404, 409, meanings=TAKEN))
async def create_template_instance(
    template_id: Id, data: TemplateInstanceCreate, caller: CallerDep, session: SessionDep
) -> StepRead:
    """A new instance of the template in the bot `bot_id`: a proxy step that runs the
    template's steps with `inputs` bound and maps its `outputs` back (the step's
    `template_instance`)."""
    step = await template_instances.create_instance(session, caller=caller, template_id=template_id, data=data)
    return StepRead.model_validate(step)
