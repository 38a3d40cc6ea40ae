"""``GET /api/v1/user/export``: a user's own data as one JSON document: their account (no
password hash, no tokens) and the chats they took part in over the web (their messages, by
``platform_user_id``, and the answers to them), in the caller's organisation only."""

from __future__ import annotations

from datetime import datetime
from itertools import groupby

from fastapi import APIRouter, Response
from pydantic import BaseModel, Field
from sqlalchemy.ext.asyncio import AsyncSession

from agenthub.accounts import service as accounts_service
from agenthub.agents import service as agents_service
from agenthub.caller import Caller
from agenthub.chats import service as chats_service
from agenthub.chats.schemas import ChatMessageRead
from agenthub.db.base import utcnow
from agenthub.deps import SessionDep, UserDep
from agenthub.ops.openapi import error_responses

router = APIRouter(prefix="/api/v1/user", tags=["accounts"])


class AccountExport(BaseModel):
    id: str
    email: str
    username: str
    org_id: str
    role: str
    created_at: datetime


class ChatExport(BaseModel):
    agent_id: str
    chat_id: str
    messages: list[ChatMessageRead] = Field(description="The user's messages and the answers to them, in order")


class UserExport(BaseModel):
    exported_at: datetime
    account: AccountExport
    chats: list[ChatExport]


async def export_user(session: AsyncSession, *, caller: Caller) -> UserExport:
    user = await accounts_service.get_user(session, user_id=caller.user_id or "")
    messages = await chats_service.messages_of_user(session, org_id=caller.org_id, platform_user_id=user.id)
    handles = await agents_service.handles(session, {m.agent_id for m in messages})
    chats = [
        ChatExport(
            agent_id=handles.get(agent_id, agent_id), chat_id=chat_id,
            messages=[ChatMessageRead.model_validate(m) for m in chat],
        )
        for (agent_id, chat_id), chat in groupby(messages, key=lambda m: (m.agent_id, m.chat_id))
    ]
    account = AccountExport(
        id=user.id, email=user.email, username=user.username, org_id=user.org_id, role=user.role,
        created_at=user.created_at,
    )
    return UserExport(exported_at=utcnow(), account=account, chats=chats)


@router.get(
    "/export", response_model=UserExport,
    responses=error_responses(403, meanings={403: "An API key: only a user has data to export"}),
)
async def export(caller: UserDep, session: SessionDep, response: Response) -> UserExport:
    """Everything of the caller's own: their account and their chats, as one JSON document."""
    response.headers["Content-Disposition"] = 'attachment; filename="agenthub-export.json"'
    return await export_user(session, caller=caller)
