"""Agents, their chats and messages, usage and budgets."""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, select

from agenthub.admin_panel.base import ScopedView, preview
from agenthub.admin_panel.masking import format_json
from agenthub.agents.models import Agent
from agenthub.agents.schemas import mask_settings
from agenthub.billing.models import Budget, DailyUsage, TokenUsageLog
from agenthub.chats.models import Chat, ChatMessage


def _settings(model: Any, name: str) -> Any:
    """An agent's settings as the API shows them (integration secrets, tool headers and URL
    passwords masked), then masked again as every JSON value is."""
    return format_json(mask_settings(dict(getattr(model, name) or {})))


class AgentView(ScopedView, model=Agent):
    icon = "fa-solid fa-robot"
    category = "Agents"
    list_columns = ("id", "handle", "name", "kind", "owner_user_id", "created_at", "deleted_at")
    column_searchable_list = ("id", "handle", "name")
    column_formatters_detail = {"settings": _settings}  # type: ignore[dict-item]


class ChatView(ScopedView, model=Chat):
    icon = "fa-solid fa-comments"
    category = "Agents"
    list_columns = ("id", "agent_id", "turns", "created_at", "last_message_at")
    column_searchable_list = ("id", "agent_id")


class ChatMessageView(ScopedView, model=ChatMessage):
    """Messages carry no organisation: theirs is their agent's."""

    name = "Message"
    name_plural = "Messages"
    icon = "fa-solid fa-message"
    category = "Agents"
    list_columns = ("seq", "agent_id", "chat_id", "role", "content", "channel", "created_at")
    column_searchable_list = ("chat_id", "content")
    column_formatters = {"content": preview(120)}  # type: ignore[dict-item]
    column_default_sort = ("seq", True)

    def scope(self, org_id: str) -> ColumnElement[bool]:
        return ChatMessage.agent_id.in_(select(Agent.id).where(Agent.org_id == org_id))


class TokenUsageView(ScopedView, model=TokenUsageLog):
    name = "Usage record"
    name_plural = "Usage records"
    icon = "fa-solid fa-coins"
    category = "Usage"
    list_columns = ("id", "agent_id", "user_id", "model", "input_tokens", "output_tokens", "cost", "created_at")
    column_default_sort = ("id", True)


class DailyUsageView(ScopedView, model=DailyUsage):
    name = "Daily usage"
    name_plural = "Daily usage"
    icon = "fa-solid fa-chart-column"
    category = "Usage"
    list_columns = ("day", "agent_id", "user_id", "model", "turns", "input_tokens", "output_tokens", "cost")
    column_default_sort = ("day", True)


class BudgetView(ScopedView, model=Budget):
    icon = "fa-solid fa-wallet"
    category = "Usage"


VIEWS = (AgentView, ChatView, ChatMessageView, TokenUsageView, DailyUsageView, BudgetView)
