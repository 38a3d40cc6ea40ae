"""Notification channels, deliveries and notifications as clients send and read them."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Annotated, Literal

from email_validator import EmailNotValidError, validate_email
from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, WithJsonSchema

from agenthub.fields import NoNul, Visible

ChannelType = Literal["email", "telegram"]
DeliveryStatus = Literal["pending", "sent", "failed"]
MAX_CHANNELS_PER_USER = 20
MAX_SUBJECT = 300
MAX_BODY = 100_000
DEFAULT_PRIORITY = 100
CHAT_ID_PATTERN = r"^(-?[0-9]{1,16}|@[A-Za-z][A-Za-z0-9_]{4,31})$"
"""A Telegram chat: its numeric id (negative for groups) or a public channel's ``@username``."""


def _email_address(value: str) -> str:
    """The address normalised (its domain in lower case), if it is one. Domains without a
    public suffix (``mail.internal``) are allowed: a self-hosted mail server may serve them;
    names reserved for special use (``.test``, ``localhost``) are not."""
    try:
        checked = validate_email(value, check_deliverability=False, globally_deliverable=False)
    except EmailNotValidError as error:
        raise ValueError(f"not a valid e-mail address: {error}") from None
    return checked.normalized


def _not_a_boolean(value: object) -> object:
    """JSON's ``true`` is not the number 1 here (pydantic's lax integers would take it)."""
    if isinstance(value, bool):
        raise ValueError("must be an integer, not a boolean")
    return value


def _as_text(value: int | str) -> str:
    return str(value)


EmailAddress = Annotated[
    str, Field(min_length=3, max_length=320, json_schema_extra={"format": "email"}), NoNul(),
    AfterValidator(_email_address),
]
CHAT_ID_LIMIT = 10**15
"""Telegram's ids have at most 52 significant bits: a bound every JSON reader holds exactly."""


def _chat_id(value: object) -> str:
    """A chat id as text: a number (or its digits) within :data:`CHAT_ID_LIMIT`, or ``@name``."""
    if isinstance(value, float) and value.is_integer():  # JSON's 42.0 is the integer 42
        value = int(value)
    if isinstance(value, int) and not isinstance(value, bool) and abs(value) <= CHAT_ID_LIMIT:
        return str(value)
    if isinstance(value, str) and re.fullmatch(CHAT_ID_PATTERN, value):
        return value
    raise ValueError("must be a Telegram chat id (a number) or a channel's @username")


ChatId = Annotated[
    str,
    BeforeValidator(_chat_id),
    WithJsonSchema({
        "anyOf": [
            {"type": "integer", "minimum": -CHAT_ID_LIMIT, "maximum": CHAT_ID_LIMIT},
            {"type": "string", "pattern": CHAT_ID_PATTERN},
        ],
        "description": "The Telegram chat's id (the user's own chat with the platform's bot, which they must "
        "have started; a number, or its text) or a channel's `@username`",
    }),
]
Priority = Annotated[
    int, Field(ge=0, le=1_000_000, description="The lowest number is tried first (ties: the oldest channel first)"),
    BeforeValidator(_not_a_boolean),
]


class EmailChannelCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    type: Literal["email"]
    address: EmailAddress
    priority: Priority = DEFAULT_PRIORITY


class TelegramChannelCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    type: Literal["telegram"]
    chat_id: ChatId
    priority: Priority = DEFAULT_PRIORITY


ChannelCreate = Annotated[EmailChannelCreate | TelegramChannelCreate, Field(discriminator="type")]


class ChannelUpdate(BaseModel):
    """What changes; absent (or null) fields stay as they are. ``address`` is an e-mail
    channel's, ``chat_id`` a Telegram channel's."""

    model_config = ConfigDict(extra="forbid")

    priority: Priority | None = None
    address: EmailAddress | None = None
    chat_id: ChatId | None = None


class ChannelRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    type: str
    address: str | None
    chat_id: str | None
    priority: int
    created_at: datetime


class DeliveryRead(BaseModel):
    """One notification to one channel, with every attempt counted."""

    model_config = ConfigDict(from_attributes=True)

    id: str
    notification_id: str = Field(description="Shared by the rows of one notification (its fallbacks, its channels)")
    channel: str = Field(description="The channel's type: `email` or `telegram`")
    channel_id: str | None = Field(description="The channel; null once it is deleted")
    status: DeliveryStatus
    attempts: int
    error: str | None = Field(description="Why the last attempt failed (null once sent)")
    subject: str
    source: str | None = Field(description="What caused it: `calendar:{event_id}`, `mention:{message_id}`, `api`")
    created_at: datetime
    sent_at: datetime | None
    next_attempt_at: datetime | None = Field(description="When a pending delivery is tried (again)")


ChannelName = Annotated[
    str, Field(max_length=64, description="A channel type (`email`, `telegram`) or the id of one of your channels"),
    Visible(),
]


class NotificationCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    subject: Annotated[str, Field(max_length=MAX_SUBJECT), NoNul()] = ""
    body: Annotated[str, Field(max_length=MAX_BODY), Visible()]
    channels: list[ChannelName] | None = Field(
        default=None, max_length=MAX_CHANNELS_PER_USER,
        description="Send to each of these channels (types or ids); unset: to your first channel by priority, "
        "then the next one if it fails for good",
    )
