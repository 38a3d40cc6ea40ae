"""Scenario bots and their parts, read only: the bot services keep a bot's draft, revisions
and published versions consistent (and tell the editors of a bot about each change)."""

from __future__ import annotations

from agenthub.admin_panel.base import ScopedView
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
    Template,
)

CATEGORY = "Scenario bots"


class BotView(ScopedView, model=Bot):
    icon = "fa-solid fa-diagram-project"
    category = CATEGORY
    list_columns = ("id", "name", "published_version", "draft_revision", "created_at", "updated_at")
    column_searchable_list = ("id", "name")


class BotVersionView(ScopedView, model=BotVersion):
    name = "Bot version"
    category = CATEGORY
    list_columns = ("id", "bot_id", "version", "published_by", "published_at")


class StepView(ScopedView, model=Step):
    category = CATEGORY
    list_columns = ("id", "bot_id", "key", "name", "is_proxy", "updated_at")
    column_searchable_list = ("bot_id", "key", "name")


class ConnectionGroupView(ScopedView, model=ConnectionGroup):
    name = "Connection group"
    category = CATEGORY
    list_columns = ("id", "bot_id", "step_id", "order", "search_type", "request_id")


class ConnectionView(ScopedView, model=Connection):
    category = CATEGORY
    list_columns = ("id", "bot_id", "group_id", "priority", "next_step_id")


class RequestView(ScopedView, model=Request):
    """HTTP request nodes: header values are shown as ``***``."""

    name = "Request"
    category = CATEGORY
    list_columns = ("id", "bot_id", "key", "name", "method", "url")


class TemplateView(ScopedView, model=Template):
    category = CATEGORY
    list_columns = ("id", "key", "name", "updated_at")


class BotCronView(ScopedView, model=BotCron):
    name = "Bot cron"
    category = CATEGORY
    list_columns = ("id", "bot_id", "cron", "timezone", "step_id", "enabled", "next_run_at")


class ScenarioSessionView(ScopedView, model=ScenarioSession):
    name = "Bot session"
    category = CATEGORY
    list_columns = ("id", "bot_id", "user_key", "channel", "step_id", "is_test", "updated_at", "ended_at")
    column_searchable_list = ("user_key", "chat_id")


class DelayedMoveView(ScopedView, model=DelayedMove):
    name = "Delayed move"
    category = CATEGORY


VIEWS = (
    BotView, BotVersionView, StepView, ConnectionGroupView, ConnectionView, RequestView, TemplateView,
    BotCronView, ScenarioSessionView, DelayedMoveView,
)
