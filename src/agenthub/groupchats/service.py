"""Group chats: who is in one, its messages, mentions of members, and the review of AI
answers. No HTTP here; asking a role goes through the gateway (see
:mod:`agenthub.channels.group_chat_flows`), which calls back into this module.

Only members see a group chat: for anyone else, of its organisation or not, it does not
exist (NotFound). Members are users (an API key has no place in a conversation of people).
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any, Protocol

from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from agenthub.accounts.models import User
from agenthub.agents import service as agents_service
from agenthub.caller import Caller
from agenthub.db.base import utcnow
from agenthub.errors import Conflict, Forbidden, NotFound
from agenthub.groupchats import mentions as mention_parser
from agenthub.groupchats.models import GroupChat, GroupChatMember, GroupChatMessage
from agenthub.groupchats.schemas import (
    Edit,
    GroupChatCreate,
    GroupChatRead,
    GroupChatUpdate,
    MemberRead,
    MentionRead,
    MessageRead,
    ValidateRequest,
)
from agenthub.notifications import service as notifications_service

MAX_ROLES_PER_MESSAGE = 3
"""Roles one message asks at most (each is a turn of an agent, paid by the one asking)."""
MAX_LIST = 500


class AgentAccess(Protocol):
    """The internal id of the organisation's agent ``agent_id`` (its handle) when ``caller``
    may chat with it; NotFound or Forbidden otherwise. The app passes the chat rules in."""

    async def __call__(self, caller: Caller, agent_id: str) -> str: ...


def new_id(prefix: str) -> str:
    return f"{prefix}_{uuid.uuid4().hex}"


# -- group chats ----------------------------------------------------------------------------


async def create(
    session: AsyncSession, *, caller: Caller, data: GroupChatCreate, agents: AgentAccess
) -> GroupChat:
    """A group chat of the caller and ``member_ids`` (users of the caller's organisation;
    NotFound for any other id)."""
    # The agent first: its check has a session of its own (SQLite's one connection is free).
    agent_id = await agents(caller, data.agent_id) if data.agent_id else None
    wanted = list(dict.fromkeys([str(caller.user_id), *data.member_ids]))
    found = set(await session.scalars(select(User.id).where(User.org_id == caller.org_id, User.id.in_(wanted))))
    for user_id in wanted:
        if user_id not in found:
            raise NotFound(f"user {user_id!r} not found in your organisation")
    chat = GroupChat(
        id=new_id("grp"), org_id=caller.org_id, name=data.name, agent_id=agent_id, created_by=caller.user_id,
        created_at=utcnow(),
    )
    session.add(chat)
    await session.flush()
    session.add_all(GroupChatMember(group_chat_id=chat.id, user_id=u, org_id=caller.org_id) for u in wanted)
    await session.flush()
    return chat


async def list_(session: AsyncSession, *, caller: Caller) -> list[GroupChat]:
    """The caller's group chats, the newest first."""
    rows = await session.scalars(
        select(GroupChat)
        .join(GroupChatMember, GroupChatMember.group_chat_id == GroupChat.id)
        .where(GroupChatMember.user_id == caller.user_id, GroupChat.org_id == caller.org_id)
        .order_by(GroupChat.created_at.desc(), GroupChat.id)
    )
    return list(rows)


async def get(session: AsyncSession, *, caller: Caller, group_chat_id: str) -> GroupChat:
    """The group chat if the caller is in it; NotFound otherwise (whether it exists or not)."""
    chat = await session.scalar(
        select(GroupChat)
        .join(GroupChatMember, GroupChatMember.group_chat_id == GroupChat.id)
        .where(
            GroupChat.id == group_chat_id, GroupChat.org_id == caller.org_id,
            GroupChatMember.user_id == caller.user_id,
        )
    )
    if chat is None:
        raise NotFound(f"group chat {group_chat_id!r} not found")
    return chat


async def members(session: AsyncSession, chat: GroupChat) -> list[User]:
    rows = await session.scalars(
        select(User)
        .join(GroupChatMember, GroupChatMember.user_id == User.id)
        .where(GroupChatMember.group_chat_id == chat.id, User.org_id == chat.org_id)
        .order_by(GroupChatMember.joined_at, User.id)
    )
    return list(rows)


async def read(session: AsyncSession, chats: Sequence[GroupChat]) -> list[GroupChatRead]:
    """The chats as clients read them: members with their usernames, the agent by its handle."""
    handles = await agents_service.handles(session, {c.agent_id for c in chats if c.agent_id})
    out = []
    for chat in chats:
        people = await members(session, chat)
        out.append(GroupChatRead(
            id=chat.id, name=chat.name, agent_id=handles.get(chat.agent_id) if chat.agent_id else None,
            members=[MemberRead(id=u.id, username=u.username) for u in people],
            created_by=chat.created_by, created_at=chat.created_at,
        ))
    return out


async def change(
    session: AsyncSession, *, chat: GroupChat, data: GroupChatUpdate, agent_id: str | None
) -> GroupChat:
    """Rename the chat or change its agent (any member may: the chat is theirs together).
    ``agent_id``: the internal id of the agent ``data.agent_id`` names, checked by the caller
    first (the check has a session of its own, which SQLite's one connection must be free for)."""
    if "agent_id" in data.model_fields_set:
        chat.agent_id = agent_id
    if data.name is not None:
        chat.name = data.name
    await session.flush()
    return chat


async def add_members(session: AsyncSession, *, caller: Caller, chat: GroupChat, user_ids: Sequence[str]) -> list[str]:
    """Add users of the chat's organisation (NotFound naming the first that is not one);
    any member may. The ids that were not members before, in the order given."""
    wanted = list(dict.fromkeys(user_ids))
    found = set(await session.scalars(select(User.id).where(User.org_id == chat.org_id, User.id.in_(wanted))))
    for user_id in wanted:
        if user_id not in found:
            raise NotFound(f"user {user_id!r} not found in your organisation")
    present = set(await session.scalars(
        select(GroupChatMember.user_id).where(GroupChatMember.group_chat_id == chat.id)
    ))
    added = [u for u in wanted if u not in present]
    session.add_all(GroupChatMember(group_chat_id=chat.id, user_id=u, org_id=chat.org_id) for u in added)
    await session.flush()
    return added


def _may_manage(caller: Caller, chat: GroupChat) -> bool:
    """Who may remove others and delete the chat: its creator, and the organisation's owners and admins."""
    return caller.user_id == chat.created_by or caller.at_least("admin")


async def remove_member(session: AsyncSession, *, caller: Caller, chat: GroupChat, user_id: str) -> bool:
    """Remove ``user_id`` from the chat: any member may leave; removing another member is for
    the chat's creator and the organisation's owners and admins (Forbidden otherwise).
    NotFound when they are no member. True when the chat was left empty, and deleted."""
    if user_id != caller.user_id and not _may_manage(caller, chat):
        raise Forbidden("only the group chat's creator, or an owner or admin, may remove other members")
    removed = await session.execute(
        delete(GroupChatMember).where(GroupChatMember.group_chat_id == chat.id, GroupChatMember.user_id == user_id)
    )
    if not getattr(removed, "rowcount", 0):
        raise NotFound(f"user {user_id!r} is not a member of this group chat")
    left = await session.scalar(select(GroupChatMember.user_id).where(GroupChatMember.group_chat_id == chat.id))
    if left is None:
        await session.delete(chat)
    await session.flush()
    return left is None


async def delete_chat(session: AsyncSession, *, caller: Caller, chat: GroupChat) -> None:
    """Delete the chat with its messages: for its creator and the organisation's owners and admins."""
    if not _may_manage(caller, chat):
        raise Forbidden("only the group chat's creator, or an owner or admin, may delete it")
    await session.delete(chat)
    await session.flush()


# -- messages -------------------------------------------------------------------------------


def read_message(message: GroupChatMessage) -> MessageRead:
    return MessageRead(
        id=message.id, group_chat_id=message.group_chat_id, author_type=message.author_type,  # type: ignore[arg-type]
        author=message.author, content=message.content,
        mentions=[MentionRead.model_validate(m) for m in message.mentions or []],
        reply_to=message.reply_to, ai_validated=message.ai_validated, validated_by=message.validated_by,
        validated_at=message.validated_at, created_at=message.created_at,
    )


async def messages(
    session: AsyncSession, *, chat: GroupChat, limit: int = 100, after: str | None = None
) -> list[GroupChatMessage]:
    """The latest ``limit`` messages, or the first ``limit`` after message ``after``; oldest first."""
    query = select(GroupChatMessage).where(GroupChatMessage.group_chat_id == chat.id)
    if after is None:
        newest = query.order_by(GroupChatMessage.created_at.desc(), GroupChatMessage.id.desc()).limit(limit)
        return list(reversed(list(await session.scalars(newest))))
    mark = await _message(session, chat=chat, message_id=after)
    query = query.where(
        (GroupChatMessage.created_at > mark.created_at)
        | ((GroupChatMessage.created_at == mark.created_at) & (GroupChatMessage.id > mark.id))
    )
    return list(await session.scalars(query.order_by(GroupChatMessage.created_at, GroupChatMessage.id).limit(limit)))


async def _message(session: AsyncSession, *, chat: GroupChat, message_id: str) -> GroupChatMessage:
    message = await session.scalar(
        select(GroupChatMessage).where(GroupChatMessage.id == message_id, GroupChatMessage.group_chat_id == chat.id)
    )
    if message is None:
        raise NotFound(f"message {message_id!r} not found in this group chat")
    return message


async def post(
    session: AsyncSession, *, caller: Caller, chat: GroupChat, content: str, roles: dict[str, MentionRead]
) -> GroupChatMessage:
    """Store a member's message with its mentions resolved; notify the members it mentions
    (in this transaction: see :func:`~agenthub.notifications.service.notify`). ``roles``:
    how each ``@@role`` it names was resolved (by the caller, who asks them), by name; a
    role not in it is ``unknown``, any beyond :data:`MAX_ROLES_PER_MESSAGE` ``too_many``."""
    message_id = new_id("gmsg")
    people = await members(session, chat)
    author = next((u for u in people if u.id == caller.user_id), None)
    resolved: list[MentionRead] = []
    notify: list[str] = []
    role_count = 0
    for mention in mention_parser.parse(content):
        if mention.kind == "role":
            role_count += 1
            if role_count > MAX_ROLES_PER_MESSAGE:
                resolved.append(MentionRead(type="role", name=mention.name, status="too_many"))
            else:
                resolved.append(roles.get(mention.name) or MentionRead(type="role", name=mention.name, status="unknown"))
            continue
        named = [u for u in people if u.username.casefold() == mention.name.casefold()]
        if not named:
            resolved.append(MentionRead(type="user", name=mention.name, status="unknown"))
        for user in named:
            status = "self" if user.id == caller.user_id else "notified"
            resolved.append(MentionRead(type="user", name=mention.name, status=status, user_id=user.id))
            if status == "notified":
                notify.append(user.id)
    message = GroupChatMessage(
        id=message_id, group_chat_id=chat.id, org_id=chat.org_id, author_type="user", author=str(caller.user_id),
        content=content, mentions=[], ai_validated=None, created_at=utcnow(),
    )
    session.add(message)
    await session.flush()
    by = author.username if author is not None else "A member"
    for found in resolved:
        if found.user_id is not None and found.user_id in notify:
            rows = await notifications_service.notify(
                session, org_id=chat.org_id, user_id=found.user_id, subject=f"{by} mentioned you in {chat.name}",
                body=f"{by} mentioned you in the group chat “{chat.name}”:\n\n{content}", source=f"mention:{message_id}",
            )
            if not rows:
                found.status = "no_channel"
    message.mentions = [m.model_dump(exclude_none=True) for m in resolved]
    await session.flush()
    return message


def roles_to_ask(content: str) -> list[str]:
    """The role names ``content`` mentions that may be asked (the first
    :data:`MAX_ROLES_PER_MESSAGE`): what the caller resolves before :func:`post`."""
    return [m.name for m in mention_parser.parse(content) if m.kind == "role"][:MAX_ROLES_PER_MESSAGE]


async def find_message(session: AsyncSession, *, message_id: str) -> GroupChatMessage | None:
    """A message by its id, for the work that follows a post (its chat was checked then)."""
    return await session.get(GroupChatMessage, message_id)


async def set_mention(
    session: AsyncSession, *, message_id: str, name: str, change: dict[str, Any]
) -> GroupChatMessage | None:
    """Change the role mention ``name`` of a person's message (its answer came, it failed);
    the message, or None when it is gone."""
    message = await find_message(session, message_id=message_id)
    if message is None:
        return None
    message.mentions = [
        {**m, **change} if m.get("type") == "role" and m.get("name") == name else m for m in message.mentions or []
    ]
    await session.flush()
    return message


async def add_answer(
    session: AsyncSession, *, question: GroupChatMessage, role: str, agent_id: str, content: str
) -> GroupChatMessage:
    """A role's answer to ``question``, waiting for review (``ai_validated`` false)."""
    answer = GroupChatMessage(
        id=new_id("gmsg"), group_chat_id=question.group_chat_id, org_id=question.org_id, author_type="role",
        author=role, content=content, mentions=[], reply_to=question.id, agent_id=agent_id, ai_validated=False,
        created_at=utcnow(),
    )
    session.add(answer)
    await session.flush()
    return answer


async def validate(
    session: AsyncSession, *, caller: Caller, chat: GroupChat, message_id: str, data: ValidateRequest
) -> GroupChatMessage | None:
    """A member's review of a role's answer: approved or edited (then ``ai_validated`` true),
    or rejected (then deleted: None). Conflict for a person's message, or an answer reviewed
    already (by whoever came first, when two review it at once)."""
    message = await _message(session, chat=chat, message_id=message_id)
    if message.author_type != "role":
        raise Conflict("only an AI role's answer is reviewed; this is a person's message", code="not_an_ai_answer")
    pending = (GroupChatMessage.id == message.id) & (GroupChatMessage.ai_validated.is_(False))
    if data.action == "reject":
        result = await session.execute(delete(GroupChatMessage).where(pending))
    else:
        values: dict[str, Any] = {"ai_validated": True, "validated_by": caller.user_id, "validated_at": utcnow()}
        if isinstance(data, Edit):
            values["content"] = data.content
        result = await session.execute(
            update(GroupChatMessage).where(pending).values(**values).execution_options(synchronize_session=False)
        )
    if result.rowcount != 1:  # type: ignore[attr-defined]
        raise Conflict("this answer was reviewed already", code="already_validated")
    if data.action == "reject":
        session.expunge(message)
        return None
    await session.refresh(message)
    return message
