"""Every table, imported in one place for Alembic's autogenerate and metadata checks."""

from agenthub.accounts.models import (
    AgentAuthorization,
    ApiKey,
    AuthSession,
    Invitation,
    Organization,
    PlatformSecret,
    User,
)
from agenthub.agents.models import Agent
from agenthub.audit.models import AuditRecord
from agenthub.billing.models import Budget, DailyUsage, TokenUsageLog
from agenthub.chats.models import Chat, ChatMessage
from agenthub.credentials.models import Credential
from agenthub.db.base import Base

__all__ = [
    "Agent", "AgentAuthorization", "ApiKey", "AuditRecord", "AuthSession", "Base", "Budget", "Chat", "ChatMessage",
    "Credential", "DailyUsage", "Invitation", "Organization", "PlatformSecret", "TokenUsageLog", "User",
]
