"""``conversation_search {query, limit?}``: what the user and the agent said before, in any
of their chats (older turns summarised out of the context included)."""

from __future__ import annotations

from typing import Any

from agenthub.db.engine import session_scope
from agenthub.memory import service as memory_service
from agenthub.tools.base import Tool, ToolContext, ToolDeps
from agenthub.tools.builtin._memory import count_argument, text_argument, user_of

DEFAULT_LIMIT = 5
MOST = 20
SHOWN_CHARS = 1000


class ConversationSearch(Tool):
    name = "conversation_search"
    description = (
        "Search your past conversations with this user (all chats, including turns no longer in your context) "
        "for messages containing the query's words."
    )
    parameters = {
        "type": "object",
        "properties": {
            "query": {"type": "string", "description": "Words to look for"},
            "limit": {"type": "integer", "minimum": 1, "maximum": MOST, "description": "Messages to return (5)"},
        },
        "required": ["query"],
    }

    def __init__(self, deps: ToolDeps) -> None:
        self._deps = deps

    async def run(self, arguments: dict[str, Any], context: ToolContext) -> str:
        user = user_of(context)
        query = text_argument(arguments, "query", limit=2000)
        limit = count_argument(arguments, "limit", default=DEFAULT_LIMIT, most=MOST)
        async with session_scope(self._deps.sessions) as session:
            found = await memory_service.search_conversation(
                session, agent_id=context.agent_id, user_key=user, query=query, limit=limit,
                exclude_message_id=context.message.get("message_id"),
            )
        if not found:
            return "nothing found in past conversations"
        lines = []
        for row in found:
            text = row.content if len(row.content) <= SHOWN_CHARS else row.content[:SHOWN_CHARS] + "..."
            who = "user" if row.role == "user" else "you"
            lines.append(f"[{row.created_at:%Y-%m-%d %H:%M}, chat {row.chat_id}] {who}: {text}")
        return "\n".join(lines)


def build(deps: ToolDeps) -> Tool:
    return ConversationSearch(deps)
