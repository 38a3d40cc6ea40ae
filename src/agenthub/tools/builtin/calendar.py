"""``calendar``: the agent lists, creates and deletes the calendar events of the user it is
talking to (the authenticated account of the message; an anonymous message, or one sent with
an API key, has no calendar). An event it creates runs this agent, as any calendar event does
(:mod:`agenthub.calendar`): at ``start_at``, or on the ``cron`` schedule, and the answer goes
to the user's notification channels."""

from __future__ import annotations

import json
from typing import Any

from pydantic import ValidationError

from agenthub.agents import service as agents_service
from agenthub.calendar import service as calendar_service
from agenthub.calendar.schemas import EventCreate, EventRead
from agenthub.caller import Caller
from agenthub.db.engine import session_scope
from agenthub.errors import AgentHubError
from agenthub.notifications.senders import types_set_up
from agenthub.tools.base import Tool, ToolContext, ToolDeps, ToolError

ACTIONS = ("list", "create", "delete")


class CalendarTool(Tool):
    name = "calendar"
    description = (
        "Manage the user's calendar. `list`: their events. `create`: an event that runs you (this agent) "
        "with `prompt` at `start_at` (ISO 8601; without an offset it is in `timezone`), or on a `cron` "
        "schedule from then on; your answer is sent to the user. `delete`: an event by its `event_id`."
    )
    parameters = {
        "type": "object",
        "properties": {
            "action": {"type": "string", "enum": list(ACTIONS)},
            "title": {"type": "string", "description": "create: the event's title"},
            "prompt": {"type": "string", "description": "create: the message you get when the event runs"},
            "start_at": {"type": "string", "description": "create: when, e.g. 2030-03-01T09:00:00"},
            "timezone": {"type": "string", "description": "create: an IANA time zone (default UTC)"},
            "cron": {"type": "string", "description": "create: minute hour day month weekday, to repeat"},
            "event_id": {"type": "string", "description": "delete: the event's id (from list)"},
        },
        "required": ["action"],
    }

    def __init__(self, deps: ToolDeps) -> None:
        self._sessions = deps.sessions
        self._set_up = types_set_up(deps.settings)

    async def run(self, arguments: dict[str, Any], context: ToolContext) -> str:
        if context.user_id is None:
            raise ToolError("the calendar is for signed-in users: this conversation has none")
        caller = Caller(org_id=context.org_id, user_id=context.user_id)
        action = arguments.get("action")
        try:
            if action == "list":
                return await self._list(caller)
            if action == "create":
                return await self._create(caller, arguments, context)
            if action == "delete":
                return await self._delete(caller, arguments)
        except AgentHubError as error:
            raise ToolError(error.message) from None
        raise ToolError(f"`action` must be one of {', '.join(ACTIONS)}")

    async def _list(self, caller: Caller) -> str:
        async with session_scope(self._sessions) as session:
            events = await calendar_service.read(session, await calendar_service.list_(session, caller=caller))
        if not events:
            return "The calendar has no events."
        return json.dumps([_shown(event) for event in events], ensure_ascii=False)

    async def _create(self, caller: Caller, arguments: dict[str, Any], context: ToolContext) -> str:
        fields = {name: arguments[name] for name in ("title", "prompt", "start_at", "timezone", "cron") if name in arguments}
        async with session_scope(self._sessions) as session:
            handle = (await agents_service.handles(session, {context.agent_id})).get(context.agent_id, context.agent_id)
        try:
            data = EventCreate(agent_id=handle, **fields)
        except ValidationError as error:
            raise ToolError(_problems(error)) from None

        async def this_agent(caller: Caller, agent_id: str) -> str:  # noqa: ARG001 - AgentAccess
            return context.agent_id  # the user is talking to it: they may have it run

        async with session_scope(self._sessions) as session:
            event = await calendar_service.create(session, caller=caller, data=data, agents=this_agent,
                                                 set_up=self._set_up)
            created = (await calendar_service.read(session, [event]))[0]
        return "Created: " + json.dumps(_shown(created), ensure_ascii=False)

    async def _delete(self, caller: Caller, arguments: dict[str, Any]) -> str:
        event_id = arguments.get("event_id")
        if not isinstance(event_id, str) or not event_id:
            raise ToolError("`event_id` is needed to delete an event")
        async with session_scope(self._sessions) as session:
            await calendar_service.delete(session, caller=caller, event_id=event_id)
        return f"Deleted event {event_id}."


def _shown(event: EventRead) -> dict[str, Any]:
    """An event as the model reads it."""
    return {
        "event_id": event.id, "title": event.title, "agent_id": event.agent_id, "prompt": event.prompt,
        "start_at": event.start_at.isoformat(), "timezone": event.timezone, "cron": event.cron,
        "next_run_at": event.next_run_at.isoformat() if event.next_run_at else None,
    }


def _problems(error: ValidationError) -> str:
    return "; ".join(
        f"{'.'.join(str(part) for part in problem['loc']) or 'arguments'}: {problem['msg']}"
        for problem in error.errors()
    )


def build(deps: ToolDeps) -> Tool:
    return CalendarTool(deps)
