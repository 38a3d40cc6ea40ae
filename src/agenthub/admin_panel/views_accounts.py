"""Organisation, members (users and their roles), invitations, login sessions, API keys."""

from __future__ import annotations

from sqlalchemy import ColumnElement, select

from agenthub.accounts.models import ApiKey, AuthSession, Invitation, Organization, User
from agenthub.admin_panel.base import ScopedView


class OrganizationView(ScopedView, model=Organization):
    name = "Organisation"
    name_plural = "Organisation"
    icon = "fa-solid fa-building"
    category = "Accounts"
    editable = ("name",)
    audit_type = "organization"

    def scope(self, org_id: str) -> ColumnElement[bool]:
        return Organization.id == org_id


class UserView(ScopedView, model=User):
    """Members: a user belongs to one organisation with one role (changed through the API,
    which keeps an organisation's last owner)."""

    name = "Member"
    name_plural = "Members"
    icon = "fa-solid fa-users"
    category = "Accounts"
    list_columns = ("id", "email", "username", "role", "created_at")
    column_searchable_list = ("email", "username")
    editable = ("username",)
    audit_type = "member"


class InvitationView(ScopedView, model=Invitation):
    icon = "fa-solid fa-envelope-open-text"
    category = "Accounts"
    list_columns = ("id", "email", "role", "uses", "max_uses", "expires_at", "created_at")


class AuthSessionView(ScopedView, model=AuthSession):
    name = "Login session"
    name_plural = "Login sessions"
    icon = "fa-solid fa-right-to-bracket"
    category = "Accounts"

    def scope(self, org_id: str) -> ColumnElement[bool]:
        return AuthSession.user_id.in_(select(User.id).where(User.org_id == org_id))


class ApiKeyView(ScopedView, model=ApiKey):
    name = "API key"
    name_plural = "API keys"
    icon = "fa-solid fa-key"
    category = "Accounts"
    list_columns = ("id", "name", "prefix", "user_id", "created_at", "last_used_at", "revoked_at")
    column_searchable_list = ("name", "prefix")
    editable = ("name",)
    audit_type = "api_key"


VIEWS = (OrganizationView, UserView, InvitationView, AuthSessionView, ApiKeyView)
