"""Every table, imported in one place for Alembic's autogenerate and metadata checks."""

from agenthub.agents.models import Agent
from agenthub.billing.models import TokenUsageLog
from agenthub.chats.models import Chat, ChatMessage
from agenthub.db.base import Base

__all__ = ["Agent", "Base", "Chat", "ChatMessage", "TokenUsageLog"]
