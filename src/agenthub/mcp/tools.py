"""The MCP tools for building scenario bots: each one a name, a description a model can act
on unaided, an input model (its JSON Schema is the tool's, the same validators as the REST
routes') and a handler calling the scenario services (:mod:`agenthub.scenarios.service`,
:mod:`agenthub.scenarios.service_parts`, :mod:`agenthub.scenarios.export`).

A handler gets the :class:`Backend` (the app's collaborators) and the caller, and returns a
JSON object; an error of the services (InvalidInput saying where, NotFound, Conflict) is
turned into a tool error by :mod:`agenthub.mcp.server`."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field

from agenthub.agents.directory import AgentDirectory
from agenthub.audit.service import Audit
from agenthub.caller import Caller
from agenthub.channels import draft_chats
from agenthub.channels.gateway import Gateway
from agenthub.db.engine import SessionFactory, session_scope
from agenthub.errors import InvalidInput
from agenthub.lifecycle import flows
from agenthub.mcp import presets_tool
from agenthub.runtime.supervisor import Supervisor
from agenthub.scenarios import export, service, service_parts
from agenthub.scenarios.presets import default_presets
from agenthub.scenarios.schemas import (
    BotCreate,
    BotUpdate,
    ConnectionCreate,
    ConnectionRead,
    GroupCreate,
    GroupRead,
    RequestCreate,
    StepCreate,
    StepRead,
    StepUpdate,
    TemplateCreate,
    TemplateRead,
)

RowId = Annotated[str, Field(min_length=1, max_length=64)]


@dataclass(frozen=True)
class Backend:
    """What the tools reach: the app's database sessions and, for ``delete_bot`` and
    ``test_bot``, its gateway, supervisor and agent directory."""

    sessions: SessionFactory
    gateway: Gateway
    supervisor: Supervisor
    directory: AgentDirectory


Handler = Callable[[Backend, Caller, dict[str, Any]], Awaitable[dict[str, Any]]]


@dataclass(frozen=True)
class ToolSpec:
    name: str
    description: str
    model: type[BaseModel]
    handler: Handler
    read_only: bool = False
    destructive: bool = False


class _Args(BaseModel):
    model_config = ConfigDict(extra="forbid")


class BotRef(_Args):
    bot_id: RowId = Field(description="The bot's id (as `list_bots` or `create_bot` gave it)")


class ListBots(_Args):
    limit: int = Field(default=100, ge=1, le=500, description="At most this many bots")
    offset: int = Field(default=0, ge=0, le=2**31 - 1, description="Skip this many first")


class UpdateBot(BotUpdate):
    bot_id: RowId = Field(description="The bot to change")


class StepRef(_Args):
    step_id: RowId = Field(description="The step's id (as `create_step` or `get_bot` gave it)")


class UpdateStep(StepUpdate):
    step_id: RowId = Field(description="The step to change")


class ImportBot(_Args):
    document: dict[str, Any] = Field(
        description="A whole bot document (`format: agenthub.bot/v1`, as `export_bot` gives): name, "
        "first_step (a step key), steps with their connection_groups and connections (naming steps by key), "
        "requests, templates, crons"
    )


class TestBot(_Args):
    bot_id: RowId = Field(description="The bot to talk to")
    text: draft_chats.Content = Field(
        description="The message the test user sends (as `POST /api/v1/bots/{id}/test` takes it: up to 32,000 characters)"
    )
    button: str | None = Field(
        default=None, max_length=200,
        description="The value of a button the test user presses (one of the `widget` buttons the bot sent); "
        "send it as `text` too",
    )
    chat_id: str | None = Field(
        default=None, pattern=r"^[A-Za-z0-9_.:-]{1,64}$",
        description="Continue this test chat (the `chat_id` a previous `test_bot` returned); omit to start one",
    )
    user_data: draft_chats.TestUserData = Field(
        default_factory=dict, examples=[{"first_name": "Ada", "last_name": "Lovelace", "username": "ada"}]
    )


def _dump(model: BaseModel) -> dict[str, Any]:
    return model.model_dump(mode="json")


def _rest(args: dict[str, Any], *drop: str) -> dict[str, Any]:
    return {key: value for key, value in args.items() if key not in drop}


async def _list_bots(backend: Backend, caller: Caller, args: dict[str, Any]) -> dict[str, Any]:
    query = ListBots.model_validate(args)
    async with session_scope(backend.sessions) as session:
        rows, total = await service.list_bots(session, caller=caller, limit=query.limit, offset=query.offset)
        return {"items": [_dump(service.read_bot(bot)) for bot in rows], "total": total}


def _shown(document: dict[str, Any]) -> dict[str, Any]:
    for request in document.get("requests", []):
        if isinstance(request, dict) and request.get("headers"):
            request["headers"] = service_parts.shown_headers(request["headers"])
    return document


async def _draft(session: Any, bot: Any) -> dict[str, Any]:
    return _shown(export.exported(await export.draft_data(session, bot)))


async def _get_bot(backend: Backend, caller: Caller, args: dict[str, Any]) -> dict[str, Any]:
    ref = BotRef.model_validate(args)
    async with session_scope(backend.sessions) as session:
        bot = await service.bot_of(session, caller, ref.bot_id)
        steps = await service_parts.list_steps(session, caller=caller, bot_id=bot.id)
        groups = await service_parts.list_groups(session, caller=caller, bot_id=bot.id, step_id=None)
        connections = await service_parts.list_connections(session, caller=caller, bot_id=bot.id, group_id=None)
        return {
            "bot": _dump(service.read_bot(bot)),
            "document": await _draft(session, bot),
            "ids": {
                "steps": [{"id": s.id, "key": s.key, "name": s.name} for s in steps],
                "connection_groups": [
                    {"id": g.id, "step_id": g.step_id, "search_type": g.search_type} for g in groups
                ],
                "connections": [
                    {"id": c.id, "group_id": c.group_id, "next_step_id": c.next_step_id} for c in connections
                ],
            },
        }


async def _create_bot(backend: Backend, caller: Caller, args: dict[str, Any]) -> dict[str, Any]:
    data = BotCreate.model_validate(args)
    async with session_scope(backend.sessions) as session:
        read = service.read_bot(await service.create_bot(session, caller=caller, data=data))
        _audit(backend, caller).record(
            session, action="bot.create", resource_type="bot", resource_id=read.id, after={"name": read.name}
        )
        return _dump(read)


async def _update_bot(backend: Backend, caller: Caller, args: dict[str, Any]) -> dict[str, Any]:
    ref = UpdateBot.model_validate(args)
    data = BotUpdate.model_validate(_rest(args, "bot_id"))
    async with session_scope(backend.sessions) as session:
        return _dump(service.read_bot(await service.update_bot(session, caller=caller, bot_id=ref.bot_id, data=data)))


def _audit(backend: Backend, caller: Caller) -> Audit:
    return Audit(caller=caller, address=None, sessions=backend.sessions)


async def _delete_bot(backend: Backend, caller: Caller, args: dict[str, Any]) -> dict[str, Any]:
    ref = BotRef.model_validate(args)
    async with backend.sessions() as lookup:
        bot = await service.bot_of(lookup, caller, ref.bot_id)
    async with session_scope(backend.sessions) as session:
        await flows.delete_agent(
            session=session, supervisor=backend.supervisor, audit=_audit(backend, caller),
            directory=backend.directory, agent_id=bot.id, handle=bot.id,
        )
    return {"deleted": bot.id}


async def _create_step(backend: Backend, caller: Caller, args: dict[str, Any]) -> dict[str, Any]:
    data = StepCreate.model_validate(args)
    async with session_scope(backend.sessions) as session:
        return _dump(StepRead.model_validate(await service_parts.create_step(session, caller=caller, data=data)))


async def _update_step(backend: Backend, caller: Caller, args: dict[str, Any]) -> dict[str, Any]:
    ref = UpdateStep.model_validate(args)
    data = StepUpdate.model_validate(_rest(args, "step_id"))
    async with session_scope(backend.sessions) as session:
        step = await service_parts.update_step(session, caller=caller, step_id=ref.step_id, data=data)
        return _dump(StepRead.model_validate(step))


async def _delete_step(backend: Backend, caller: Caller, args: dict[str, Any]) -> dict[str, Any]:
    ref = StepRef.model_validate(args)
    async with session_scope(backend.sessions) as session:
        await service_parts.delete_step(session, caller=caller, step_id=ref.step_id)
    return {"deleted": ref.step_id}


async def _create_group(backend: Backend, caller: Caller, args: dict[str, Any]) -> dict[str, Any]:
    data = GroupCreate.model_validate(args)
    async with session_scope(backend.sessions) as session:
        return _dump(GroupRead.model_validate(await service_parts.create_group(session, caller=caller, data=data)))


async def _create_connection(backend: Backend, caller: Caller, args: dict[str, Any]) -> dict[str, Any]:
    data = ConnectionCreate.model_validate(args)
    async with session_scope(backend.sessions) as session:
        row = await service_parts.create_connection(session, caller=caller, data=data)
        return _dump(ConnectionRead.model_validate(row))


async def _create_request(backend: Backend, caller: Caller, args: dict[str, Any]) -> dict[str, Any]:
    data = RequestCreate.model_validate(args)
    async with session_scope(backend.sessions) as session:
        row = await service_parts.create_request(session, caller=caller, data=data)
        return _dump(service_parts.read_request(row))


async def _create_template(backend: Backend, caller: Caller, args: dict[str, Any]) -> dict[str, Any]:
    data = TemplateCreate.model_validate(args)
    async with session_scope(backend.sessions) as session:
        row = await service_parts.create_template(session, caller=caller, data=data)
        return _dump(TemplateRead.model_validate(row))


async def _import_bot(backend: Backend, caller: Caller, args: dict[str, Any]) -> dict[str, Any]:
    data = ImportBot.model_validate(args)
    async with session_scope(backend.sessions) as session:
        read = service.read_bot(await service.import_bot(session, caller=caller, data=data.document))
        _audit(backend, caller).record(
            session, action="bot.import", resource_type="bot", resource_id=read.id, after={"name": read.name}
        )
        return _dump(read)


async def _export_bot(backend: Backend, caller: Caller, args: dict[str, Any]) -> dict[str, Any]:
    ref = BotRef.model_validate(args)
    async with session_scope(backend.sessions) as session:
        return await _draft(session, await service.bot_of(session, caller, ref.bot_id))


async def _publish_bot(backend: Backend, caller: Caller, args: dict[str, Any]) -> dict[str, Any]:
    ref = BotRef.model_validate(args)
    async with session_scope(backend.sessions) as session:
        row = await service.publish(session, caller=caller, bot_id=ref.bot_id)
        _audit(backend, caller).record(
            session, action="bot.publish", resource_type="bot", resource_id=ref.bot_id, after={"version": row.version}
        )
        return _dump(service.read_version(row))


async def _test_bot(backend: Backend, caller: Caller, args: dict[str, Any]) -> dict[str, Any]:
    data = TestBot.model_validate(args)
    sent = await draft_chats.send_test(
        sessions=backend.sessions, gateway=backend.gateway, caller=caller, bot_id=data.bot_id,
        message=draft_chats.TestMessage(
            text=data.text, button=data.button, chat_id=data.chat_id, user_data=data.user_data
        ),
    )
    answer: dict[str, Any] = {
        "chat_id": sent.chat_id, "ran": sent.ran,
        "note": "a test session runs the bot's draft (unpublished edits included), apart from real users' sessions",
        "messages": sent.messages,
    }
    if sent.error is not None:
        answer["error"] = sent.error
    return answer


def _step_schema_hint() -> str:
    return (
        "`message` is {text, params, attachments, widget}; text may use variables as {$user.first_name$}, "
        "{$message.text$}, {$bot.x$}, {$session.x$}; `widget` shows buttons, e.g. "
        '{"buttons": [{"text": "Yes", "value": "yes"}]} (a pressed button comes as message.button)'
    )


TOOLS: tuple[ToolSpec, ...] = (
    ToolSpec("list_bots", "List the scenario bots of your organisation (id, name, first_step_id, "
             "published_version, draft_changed). Start here to find a bot's id.", ListBots, _list_bots,
             read_only=True),
    ToolSpec("get_bot", "Read one bot: its fields, its draft as one document (`agenthub.bot/v1`: steps by key "
             "with their connection groups and connections, requests, templates) and the ids of its steps, "
             "connection groups and connections, which the create_/update_/delete_ tools take.",
             BotRef, _get_bot, read_only=True),
    ToolSpec("create_bot", "Create an empty scenario bot (no steps yet). A bot answers users by moving "
             "between steps: add steps with create_step (the first one becomes the first step), then on a "
             "step a connection group (create_connection_group: how the next message is examined) with "
             "connections (create_connection: rules and the next step), then publish_bot. A new session starts "
             "at the first step without sending it: the user's first message goes through the first step's "
             "connections (an else connection, rules `{}`, back to the first step makes the bot greet). "
             "Returns the bot with its id.", BotCreate, _create_bot),
    ToolSpec("update_bot", "Change the fields sent of a bot's draft (name, description, variables, "
             "first_step_id); the others stay. Published versions are not changed: publish_bot again.",
             UpdateBot, _update_bot),
    ToolSpec("delete_bot", "Stop and delete a bot with its steps and sessions. It can't be undone.",
             BotRef, _delete_bot, destructive=True),
    ToolSpec("create_step", "Add a step to a bot: what the bot sends when a session enters it. "
             + _step_schema_hint() + ". `is_proxy: true` makes the step pass on at once (no wait for the "
             "user's next message). The bot's first step is the first step created.", StepCreate, _create_step),
    ToolSpec("update_step", "Change the fields sent of a step (message, name, key, is_proxy, emitter, "
             "template_instance); the others stay. " + _step_schema_hint() + ".", UpdateStep, _update_step),
    ToolSpec("delete_step", "Delete a step with its connection groups. Refused (saying which) while "
             "connections, emitters, crons or the bot's first_step_id point to it: change those first.",
             StepRef, _delete_step, destructive=True),
    ToolSpec("create_connection_group", "Add a connection group to a step (`step_id`; or to the bot itself "
             "with `bot_id`: checked at every step). `search_type` says what its connections' rules look at: "
             "`message` (the user's message: message.text, message.button), `response` (the answer of the "
             "HTTP request `request_id`), `code` (the result of `code`: `async def main(message, variables)`), "
             "`llm` (an LLM's answer), `integration`. `variables` saves values as session variables. Groups "
             "are tried by ascending `order`.", GroupCreate, _create_group),
    ToolSpec("create_connection", "Add a connection to a group: when its `rules` hold (jQuery-QueryBuilder "
             'rules, e.g. {"condition": "AND", "rules": [{"field": "message.text", "operator": "equal", '
             '"value": "yes"}]}; `{}` always holds: an else branch, with a lower `priority`), the session moves to '
             "`next_step_id` (a step of the same bot). Higher `priority` is tried first.",
             ConnectionCreate, _create_connection),
    ToolSpec("create_request", "Add an HTTP request to a bot (method, url, headers, params, body, timeout; "
             "values may use variables as {$session.x$}). A connection group of search_type `response` "
             "with this `request_id` sends it and routes on its answer.", RequestCreate, _create_request),
    ToolSpec("create_template", "Add a template to your organisation: reusable steps (`document`: "
             "first_step, steps, requests) with JSON Schemas of its inputs and outputs; a step of any bot "
             "uses it with `template_instance`.", TemplateCreate, _create_template),
    ToolSpec("apply_preset", presets_tool.description(default_presets()), presets_tool.ApplyPreset,
             presets_tool.apply_preset),
    ToolSpec("import_bot", "Create a new bot from a whole document (`agenthub.bot/v1`, as export_bot gives). "
             "It is validated first (an error says where, e.g. steps.1.connection_groups.0...) and "
             "published at once as version 1. The quickest way to build a whole bot in one call.",
             ImportBot, _import_bot),
    ToolSpec("export_bot", "The bot's draft as one document (`agenthub.bot/v1`); import_bot makes a copy "
             "from it. Header values of requests are shown as `***`.", BotRef, _export_bot, read_only=True),
    ToolSpec("publish_bot", "Make the bot's draft its next version: what users' sessions run. Refused, "
             "saying where, while the draft is not a valid bot (no first step, a connection to a missing "
             "step...).", BotRef, _publish_bot),
    ToolSpec("test_bot", "Send a message to a bot as a test user and get back the messages it sent "
             "(text, widget buttons; an empty text: no connection took the message, the session stayed). It runs the bot's draft, unpublished edits included, in a test session "
             "apart from real users'. Pass the returned chat_id to continue the conversation; pass `user_data` "
             "(e.g. {\"first_name\": \"Ada\", \"username\": \"ada\"}) to test how the bot greets a user "
             "({$user.first_name$}), as a client sends it with each message.",
             TestBot, _test_bot),
)
BY_NAME = {tool.name: tool for tool in TOOLS}


def input_schema(tool: ToolSpec) -> dict[str, Any]:
    schema = tool.model.model_json_schema()
    schema.pop("title", None)
    return schema


def check_known(name: str) -> ToolSpec:
    tool = BY_NAME.get(name)
    if tool is None:
        raise InvalidInput(f"no tool {name!r}: the tools are {', '.join(BY_NAME)}", field="name")
    return tool
