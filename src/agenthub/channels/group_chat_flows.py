"""Posting in a group chat, across domains: store the message and notify the members it
mentions (:mod:`agenthub.groupchats.service`), tell the connected members
(:mod:`agenthub.groupchats.live`), and ask each AI role it mentions through the gateway,
exactly as a chat message from the member who asked (the same access rules and budgets,
the turn stored in the agent's history). A role's answer is stored as a message of the
group, waiting for a member's review (``ai_validated`` false).

Roles. ``@@name`` is:

1. the organisation's agent whose handle is ``name``, if the member may chat with it;
2. else the group's own agent (``agent_id`` of the group), answering in the role ``name``:
   its message starts with a line saying so, and ``user_data.role`` names it. When ``name``
   is a role of the platform's roles (:mod:`agenthub.roles`), that line carries the role's
   prompt: the group's agent answers by it;
3. else nobody: the mention is ``unknown``.

The agents of step 1 come first, so the mentions people wrote before the roles existed keep
their meaning.

Each answer is awaited by a task of this process; a process that stops meanwhile loses the
wait (the question's mention stays ``asked``; the agent's own chat ``group-<id>`` still
holds the answer).
"""

from __future__ import annotations

import asyncio
import logging
import re
from dataclasses import dataclass

from agenthub.access.rules import Reach, web_sender
from agenthub.agents.schemas import AGENT_ID_PATTERN
from agenthub.bus import Bus
from agenthub.caller import Caller
from agenthub.channels.fanout import Listener
from agenthub.channels.gateway import Accepted, Gateway
from agenthub.chats.schemas import MAX_CONTENT_LENGTH, ChatRequest
from agenthub.db.engine import SessionFactory, session_scope
from agenthub.errors import AgentHubError, Forbidden, NotFound, Unauthorized
from agenthub.groupchats import live, service
from agenthub.groupchats.schemas import MentionRead, MessageRead
from agenthub.roles.library import RoleLibrary
from agenthub.runtime.tasks import stop_tasks

log = logging.getLogger(__name__)

SOURCE = "group_chat"
"""``user_data.source`` of a question from a group chat."""


def chat_of(group_chat_id: str) -> str:
    """The agent's chat a group's questions go in: one per group, so a role sees what it
    was asked there before."""
    return f"group-{group_chat_id.removeprefix('grp_')}"


@dataclass(frozen=True)
class _Target:
    reach: Reach
    in_role: bool
    """The group's agent answering as a role it is not (step 2 of the module's rules)."""


class GroupChatRoles:
    """Posts members' messages and asks the roles they mention; one per gateway process,
    made by the app. ``cleanup()`` stops the waits under way."""

    name = "group-chat-roles"

    def __init__(
        self, *, gateway: Gateway, sessions: SessionFactory, bus: Bus, roles: RoleLibrary | None = None
    ) -> None:
        self._gateway = gateway
        self._roles = roles
        self._sessions = sessions
        self._bus = bus
        self._waiting: set[asyncio.Task[None]] = set()

    async def cleanup(self) -> None:
        await stop_tasks(list(self._waiting))

    async def post(self, *, caller: Caller, group_chat_id: str, content: str) -> MessageRead:
        """Post ``content`` as the caller (a member: NotFound otherwise); the message with its
        mentions resolved. The roles it asks answer later, as messages of their own."""
        targets: dict[str, _Target] = {}
        roles: dict[str, MentionRead] = {}
        names = service.roles_to_ask(content)
        if names:  # who answers, looked up outside the session below (SQLite has one connection)
            async with self._sessions() as session:
                agent_id = (await service.get(session, caller=caller, group_chat_id=group_chat_id)).agent_id
            for name in names:
                roles[name], target = await self._resolve(caller, agent_id, name)
                if target is not None:
                    targets[name] = target
        async with session_scope(self._sessions) as session:
            chat = await service.get(session, caller=caller, group_chat_id=group_chat_id)
            message = await service.post(session, caller=caller, chat=chat, content=content, roles=roles)
            read = service.read_message(message)
            chat_id, chat_name = chat.id, chat.name
        await live.publish(self._bus, live.message_event("message", read))
        refused: dict[str, dict[str, str]] = {}
        for mention in read.mentions:
            if mention.type == "role" and mention.status == "asked":
                problem = await self._ask(caller, chat_id, read, mention.name, targets[mention.name], chat_name)
                if problem is not None:
                    refused[mention.name] = problem
        if refused:
            read = await self._change_mentions(read.id, refused) or read
        return read

    async def _resolve(
        self, caller: Caller, group_agent_id: str | None, name: str
    ) -> tuple[MentionRead, _Target | None]:
        """Who answers ``@@name`` for the caller (see the module's rules), as a mention;
        ``group_agent_id``: the group's agent (its internal id), if it has one."""
        sender = web_sender(caller, None)
        candidates: list[tuple[str, bool]] = []
        if re.fullmatch(AGENT_ID_PATTERN, name):
            candidates.append((name, False))
        if group_agent_id is not None:
            candidates.append((group_agent_id, True))
        for agent_id, in_role in candidates:
            try:
                reach = await self._gateway.reach(caller=caller, agent_id=agent_id, sender=sender, fresh=True)
            except NotFound:
                continue
            except (Forbidden, Unauthorized) as refused:
                return MentionRead(type="role", name=name, status="refused", error=refused.message), None
            if not reach.member:  # another organisation's public agent is no role of this one
                continue
            in_role = in_role and reach.handle != name
            mention = MentionRead(type="role", name=name, status="asked", agent_id=reach.handle)
            return mention, _Target(reach, in_role)
        return MentionRead(type="role", name=name, status="unknown"), None

    async def _ask(
        self, caller: Caller, chat_id: str, question: MessageRead, role: str, target: _Target, chat_name: str
    ) -> dict[str, str] | None:
        """Send the question to the role's agent and wait for the answer in a task; what to
        change in the mention when the agent does not take it (a budget spent...)."""
        prompt = question.content
        user_data = {"source": SOURCE, "group_chat_id": chat_id, "message_id": question.id, "role": role}
        if target.in_role:
            header = self._in_role(chat_name, role)
            prompt = header + prompt[: MAX_CONTENT_LENGTH - len(header)]
        try:
            listener, accepted = await self._gateway.send(
                reach=target.reach, request=ChatRequest(content=prompt, chat_id=chat_of(chat_id), user_data=user_data),
            )
        except Exception as error:  # noqa: BLE001 - the message stands; the mention says why no answer
            if isinstance(error, AgentHubError):
                return {"status": "refused", "error": error.message}
            log.warning("group chat role not asked: %s", type(error).__name__, extra={"group_chat_id": chat_id})
            return {"status": "failed", "error": "the service is temporarily unavailable; ask again"}
        task = asyncio.create_task(
            self._answer(listener, accepted, question, role, target.reach.agent_id), name=f"group-chat:{chat_id}"
        )
        self._waiting.add(task)
        task.add_done_callback(self._waiting.discard)
        return None

    def _in_role(self, chat_name: str, role: str) -> str:
        """The line the group's agent is told which role it answers as by; with the role's
        prompt when the platform has that role (one that would leave less than half a message
        for the question is left out, with a warning)."""
        said = f"(In the group chat “{chat_name}” you answer as the role “{role}”.)\n\n"
        known = self._roles.get(role) if self._roles is not None else None
        if known is None:
            return said
        header = (
            f"(In the group chat “{chat_name}” you answer as the role “{role}”. Answer by the role's "
            f"instructions:\n\n{known.prompt}\n\nThe question follows.)\n\n"
        )
        if len(header) > MAX_CONTENT_LENGTH // 2:
            log.warning("the role %s's prompt is too long to send with a group chat question", role)
            return said
        return header

    async def _answer(
        self, listener: Listener, accepted: Accepted, question: MessageRead, role: str, agent_id: str
    ) -> None:
        """Wait for the role's answer; store it (or why it failed) and tell the members."""
        outcome: dict[str, str] | None = None
        said: list[str] = []
        try:
            async for event in self._gateway.follow(listener, accepted):
                if event is None:
                    continue
                if event.get("type") == "message":  # several (a scenario bot's steps): joined
                    said.extend([str(event["response"])] if event.get("response") else [])
                    outcome = {"answer": "\n\n".join(said)}
                elif event.get("type") == "error":
                    outcome = {"error": str(event.get("response") or event.get("message") or "the agent failed")}
        finally:
            await listener.close()
        outcome = outcome or {"error": "the answer never came"}
        try:
            await self._store(question, role, agent_id, outcome)
        except Exception as error:  # noqa: BLE001 - logged; the answer stays in the agent's chat
            log.warning("group chat answer not stored: %s", type(error).__name__,
                        extra={"group_chat_id": question.group_chat_id})

    async def _store(self, question: MessageRead, role: str, agent_id: str, outcome: dict[str, str]) -> None:
        async with session_scope(self._sessions) as session:
            asked = await service.find_message(session, message_id=question.id)
            if asked is None:
                return  # the group chat was deleted meanwhile
            answer = None
            if "answer" in outcome:
                answer = await service.add_answer(
                    session, question=asked, role=role, agent_id=agent_id, content=outcome["answer"]
                )
                change = {"status": "answered", "message_id": answer.id}
            else:
                change = {"status": "failed", "error": outcome["error"][:500]}
            asked = await service.set_mention(session, message_id=question.id, name=role, change=change)
            reads = [service.read_message(m) for m in (answer, asked) if m is not None]
        if answer is not None:
            await live.publish(self._bus, live.message_event("message", reads[0]))
        await live.publish(self._bus, live.message_event("message_updated", reads[-1]))

    async def _change_mentions(self, message_id: str, changes: dict[str, dict[str, str]]) -> MessageRead | None:
        async with session_scope(self._sessions) as session:
            message = None
            for name, change in changes.items():
                message = await service.set_mention(session, message_id=message_id, name=name, change=change)
            read = service.read_message(message) if message is not None else None
        if read is not None:
            await live.publish(self._bus, live.message_event("message_updated", read))
        return read
