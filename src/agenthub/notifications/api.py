"""Notification routes: thin; the logic is in :mod:`agenthub.notifications.service`. Every
route is a logged-in user's, about their own channels and deliveries (an API key has no user
to notify: 403); nobody else's, an admin's neither, is found."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, status

from agenthub.deps import SessionDep, SettingsDep, UserDep
from agenthub.json_input import StrictJSONRoute
from agenthub.notifications import service
from agenthub.notifications.schemas import (
    ChannelCreate,
    ChannelRead,
    ChannelUpdate,
    DeliveryRead,
    DeliveryStatus,
    NotificationCreate,
)
from agenthub.notifications.senders import types_set_up
from agenthub.ops.openapi import error_responses

router = APIRouter(tags=["notifications"], route_class=StrictJSONRoute)
CHANNELS = "/api/v1/notification-channels"
ChannelId = Annotated[str, Path(max_length=64, description="The channel's id")]
NOT_A_USER = {403: "An API key: notification channels are a user's"}


@router.post(
    CHANNELS, status_code=status.HTTP_201_CREATED, response_model=ChannelRead,
    responses=error_responses(403, 409, meanings={
        **NOT_A_USER, 409: "You have this channel already, or as many channels as one user may",
    }),
)
async def create_channel(
    data: ChannelCreate, caller: UserDep, session: SessionDep, settings: SettingsDep
) -> ChannelRead:
    """Add a channel you are notified on: `{"type": "email", "address"}` or `{"type":
    "telegram", "chat_id"}` (your chat with the platform's bot, which you must have started).
    Notifications try your channels by `priority`, the lowest number first. A channel needs a
    server that sends on it: an e-mail one without `SMTP_HOST`, or a Telegram one without
    `TELEGRAM_BOT_TOKEN`, is a 422 at `type`."""
    channel = await service.create_channel(
        session, org_id=caller.org_id, user_id=str(caller.user_id), data=data, set_up=types_set_up(settings)
    )
    return ChannelRead.model_validate(channel)


@router.get(CHANNELS, response_model=list[ChannelRead], responses=error_responses(403, meanings=NOT_A_USER))
async def list_channels(caller: UserDep, session: SessionDep) -> list[ChannelRead]:
    """Your channels, in the order notifications try them."""
    channels = await service.channels_of(session, org_id=caller.org_id, user_id=str(caller.user_id))
    return [ChannelRead.model_validate(c) for c in channels]


@router.patch(
    CHANNELS + "/{channel_id}", response_model=ChannelRead,
    responses=error_responses(403, 409, meanings={**NOT_A_USER, 409: "You have a channel to that place already"}),
)
async def update_channel(
    channel_id: ChannelId, data: ChannelUpdate, caller: UserDep, session: SessionDep, settings: SettingsDep
) -> ChannelRead:
    """Change a channel's priority or where it points (deliveries not sent yet go there).
    Without `SMTP_HOST` an e-mail channel takes no new `address`, without `TELEGRAM_BOT_TOKEN`
    a Telegram channel no new `chat_id` (422)."""
    channel = await service.update_channel(
        session, org_id=caller.org_id, user_id=str(caller.user_id), channel_id=channel_id, data=data,
        set_up=types_set_up(settings),
    )
    return ChannelRead.model_validate(channel)


@router.delete(
    CHANNELS + "/{channel_id}", status_code=status.HTTP_204_NO_CONTENT,
    responses=error_responses(403, meanings=NOT_A_USER),
)
async def delete_channel(channel_id: ChannelId, caller: UserDep, session: SessionDep) -> None:
    """Delete a channel; its deliveries stay in the log."""
    await service.delete_channel(session, org_id=caller.org_id, user_id=str(caller.user_id), channel_id=channel_id)


@router.get(
    "/api/v1/notifications/deliveries", response_model=list[DeliveryRead],
    responses=error_responses(403, meanings=NOT_A_USER),
)
async def list_deliveries(
    caller: UserDep,
    session: SessionDep,
    status: Annotated[DeliveryStatus | None, Query(description="Only deliveries with this status")] = None,
    notification_id: Annotated[str | None, Query(max_length=64, description="Only this notification's")] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> list[DeliveryRead]:
    """The delivery log of your notifications, the newest first: each notification to each
    channel, with its attempts and the last error."""
    deliveries = await service.deliveries_of(
        session, org_id=caller.org_id, user_id=str(caller.user_id), status=status,
        notification_id=notification_id, limit=limit,
    )
    return [DeliveryRead.model_validate(d) for d in deliveries]


@router.post(
    "/api/v1/notifications", status_code=status.HTTP_201_CREATED, response_model=list[DeliveryRead],
    responses=error_responses(403, 404, 409, meanings={
        **NOT_A_USER, 404: "A name in `channels` is neither a type of your channels nor one's id",
        409: "`no_channel`: you have no notification channel",
    }),
)
async def notify_me(
    data: NotificationCreate, caller: UserDep, session: SessionDep, settings: SettingsDep
) -> list[DeliveryRead]:
    """Notify yourself, to try your channels: to each channel `channels` names (types or
    ids), or else to your first channel by priority, falling back to the next when it fails
    for good. The deliveries are sent right after this answer; follow them in the log.
    Naming a channel this server cannot send on (e-mail without `SMTP_HOST`, Telegram without
    `TELEGRAM_BOT_TOKEN`) is a 422 at `channels.<i>`; such a channel reached by default fails
    saying so, and the next channel gets the notification."""
    rows = await service.notify_self(
        session, org_id=caller.org_id, user_id=str(caller.user_id), data=data, set_up=types_set_up(settings)
    )
    return [DeliveryRead.model_validate(row) for row in rows]
