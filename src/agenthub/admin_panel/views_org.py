"""Credentials, notifications, calendar, files, knowledge bases and the audit log."""

from __future__ import annotations

from agenthub.admin_panel.base import ScopedView
from agenthub.audit.models import AuditRecord
from agenthub.calendar.models import CalendarEvent
from agenthub.credentials.models import Credential
from agenthub.files.models import StoredFile
from agenthub.knowledge.models import KnowledgeBase, KnowledgeDocument
from agenthub.notifications.models import NotificationChannel, NotificationDelivery


class CredentialView(ScopedView, model=Credential):
    """Name and type only: the sealed value is never shown nor changed here."""

    icon = "fa-solid fa-lock"
    category = "Settings"
    column_searchable_list = ("name", "type")
    editable = ("name",)
    audit_type = "credential"


class NotificationChannelView(ScopedView, model=NotificationChannel):
    name = "Notification channel"
    icon = "fa-solid fa-bell"
    category = "Notifications"
    list_columns = ("id", "user_id", "type", "address", "chat_id", "priority", "created_at")


class NotificationDeliveryView(ScopedView, model=NotificationDelivery):
    name = "Notification delivery"
    name_plural = "Notification deliveries"
    icon = "fa-solid fa-paper-plane"
    category = "Notifications"
    list_columns = ("id", "user_id", "channel", "subject", "status", "attempts", "sent_at", "created_at")
    column_default_sort = ("created_at", True)


class CalendarEventView(ScopedView, model=CalendarEvent):
    name = "Calendar event"
    icon = "fa-solid fa-calendar-days"
    category = "Settings"
    list_columns = ("id", "title", "agent_id", "user_id", "cron", "enabled", "next_run_at")
    column_searchable_list = ("title",)
    editable = ("title",)
    audit_type = "calendar_event"


class FileView(ScopedView, model=StoredFile):
    name = "File"
    icon = "fa-solid fa-file"
    category = "Settings"
    list_columns = ("id", "name", "content_type", "size", "created_by", "created_at")
    column_searchable_list = ("name",)


class KnowledgeBaseView(ScopedView, model=KnowledgeBase):
    name = "Knowledge base"
    icon = "fa-solid fa-book"
    category = "Knowledge"
    editable = ("name",)
    audit_type = "knowledge_base"


class KnowledgeDocumentView(ScopedView, model=KnowledgeDocument):
    name = "Knowledge document"
    icon = "fa-solid fa-file-lines"
    category = "Knowledge"
    list_columns = ("id", "knowledge_base_id", "file_name", "status", "chunks_done", "chunks_total", "created_at")


class AuditRecordView(ScopedView, model=AuditRecord):
    name = "Audit record"
    icon = "fa-solid fa-clipboard-list"
    category = "Audit"
    list_columns = ("id", "created_at", "actor_user_id", "actor_api_key_id", "action", "resource_type", "resource_id")
    column_default_sort = ("id", True)


VIEWS = (
    CredentialView, NotificationChannelView, NotificationDeliveryView, CalendarEventView, FileView,
    KnowledgeBaseView, KnowledgeDocumentView, AuditRecordView,
)
