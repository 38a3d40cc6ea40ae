"""Calendar routes: thin; the logic is in :mod:`agenthub.calendar.service`. Events are a
user's own (an API key gets 403: an event runs as, and notifies, a person); another user's
event, or another organisation's, is 404."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, status
from starlette.requests import HTTPConnection

from agenthub.calendar import service
from agenthub.calendar.schemas import EventCreate, EventList, EventRead, EventUpdate
from agenthub.deps import SessionDep, SettingsDep, UserDep
from agenthub.json_input import StrictJSONRoute
from agenthub.notifications.senders import types_set_up
from agenthub.ops.openapi import error_responses

router = APIRouter(prefix="/api/v1/calendar/events", tags=["calendar"], route_class=StrictJSONRoute)
EventId = Annotated[str, Path(max_length=64, description="The event's id")]
USERS_ONLY = {403: "Sent with an API key: events belong to users (or the agent needs an authorisation)"}
NAMED = {
    **USERS_ONLY,
    404: "No such event of yours, or `agent_id` or a `channels` entry names no agent or notification channel of yours",
}


async def _agent_access(connection: HTTPConnection) -> service.AgentAccess:
    """Who may name which agent: the chat rules, which the app passes in (see
    :class:`~agenthub.calendar.service.AgentAccess`)."""
    access: service.AgentAccess = connection.app.state.calendar_agent_access
    return access


AgentAccessDep = Annotated[service.AgentAccess, Depends(_agent_access)]


@router.post(
    "", status_code=status.HTTP_201_CREATED, response_model=EventRead,
    responses=error_responses(403, 404, meanings=NAMED),
)
async def create_event(
    data: EventCreate, caller: UserDep, session: SessionDep, agents: AgentAccessDep, settings: SettingsDep
) -> EventRead:
    """Have an agent run `prompt` at `start_at` (once), or on the `cron` schedule from
    `start_at` on, in `timezone`; its answer is sent to your notification channels. The
    agent is one you may chat with. Naming in `channels` a channel this server cannot send
    on (e-mail without `SMTP_HOST`, Telegram without `TELEGRAM_BOT_TOKEN`) is a 422 at
    `channels.<i>`."""
    event = await service.create(session, caller=caller, data=data, agents=agents, set_up=types_set_up(settings))
    return (await service.read(session, [event]))[0]


@router.get("", response_model=EventList, responses=error_responses(403, meanings=USERS_ONLY))
async def list_events(caller: UserDep, session: SessionDep) -> EventList:
    """Your events, the next to run first."""
    events = await service.list_(session, caller=caller)
    return EventList(items=await service.read(session, events), total=len(events))


@router.get("/{event_id}", response_model=EventRead, responses=error_responses(403, 404, meanings=USERS_ONLY))
async def get_event(event_id: EventId, caller: UserDep, session: SessionDep) -> EventRead:
    event = await service.get(session, caller=caller, event_id=event_id)
    return (await service.read(session, [event]))[0]


@router.patch("/{event_id}", response_model=EventRead, responses=error_responses(403, 404, meanings=NAMED))
async def update_event(
    event_id: EventId, data: EventUpdate, caller: UserDep, session: SessionDep, agents: AgentAccessDep,
    settings: SettingsDep,
) -> EventRead:
    """Change the fields sent; a new start, zone, cron or `enabled` reschedules it."""
    event = await service.update(session, caller=caller, event_id=event_id, data=data, agents=agents,
                                 set_up=types_set_up(settings))
    return (await service.read(session, [event]))[0]


@router.delete(
    "/{event_id}", status_code=status.HTTP_204_NO_CONTENT, responses=error_responses(403, 404, meanings=USERS_ONLY)
)
async def delete_event(event_id: EventId, caller: UserDep, session: SessionDep) -> None:
    await service.delete(session, caller=caller, event_id=event_id)
