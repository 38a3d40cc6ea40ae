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
from agenthub.calendar.models import CalendarEvent
from agenthub.channels.telegram.models import TelegramLink
from agenthub.chats.models import Chat, ChatMessage
from agenthub.credentials.models import Credential
from agenthub.db.base import Base
from agenthub.files.models import StoredFile
from agenthub.groupchats.models import GroupChat, GroupChatMember, GroupChatMessage
from agenthub.knowledge.models import KnowledgeBase, KnowledgeChunk, KnowledgeDocument, is_keyword_index
from agenthub.memory.models import ArchivalPassage, ConversationSummary, CoreBlock
from agenthub.notifications.models import NotificationChannel, NotificationDelivery
from agenthub.scenarios.models import (
    Bot,
    BotCron,
    BotVersion,
    Connection,
    ConnectionGroup,
    DelayedMove,
    Request,
    ScenarioSession,
    Step,
    StepEvent,
    Template,
    UserVariables,
)


def include_object(obj: object, name: str | None, type_: str, reflected: bool, compare_to: object) -> bool:
    """What schema comparisons (autogenerate) look at: everything but the database objects the
    migrations make by hand (the knowledge keyword index)."""
    return not (reflected and is_keyword_index(name, type_))


__all__ = [
    "Agent", "AgentAuthorization", "ApiKey", "ArchivalPassage", "AuditRecord", "AuthSession", "Base", "Budget",
    "CalendarEvent", "Chat", "ChatMessage", "ConversationSummary", "CoreBlock", "Credential", "DailyUsage", "GroupChat",
    "GroupChatMember", "GroupChatMessage", "Invitation", "KnowledgeBase", "KnowledgeChunk", "KnowledgeDocument",
    "NotificationChannel", "NotificationDelivery", "Organization", "PlatformSecret", "TelegramLink", "TokenUsageLog",
    "User", "include_object",
    "Bot", "BotCron", "BotVersion", "Connection", "ConnectionGroup", "DelayedMove", "Request", "ScenarioSession",
    "Step", "StepEvent", "Template", "UserVariables", "StoredFile",
]
