"""Signing in to the panel: the platform's e-mail and password, for owners and admins only.

The session cookie is signed with ``ADMIN_PANEL_SECRET``, or else with a key derived from the
install's signing key (``JWT_SECRET`` or the one the install made for itself), so every
replica accepts the cookies of the others. Each request checks the user again: a user who
is gone, was demoted to member, moved organisation or changed password is signed out."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
from typing import Any

from sqladmin.authentication import AuthenticationBackend
from starlette.middleware import Middleware
from starlette.middleware.sessions import SessionMiddleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Receive, Scope, Send

from agenthub.accounts import service as accounts_service
from agenthub.accounts.models import User
from agenthub.accounts.passwords import verify_password
from agenthub.accounts.tokens import signing_key
from agenthub.admin_panel.scope import Operator, OperatorScope, set_operator
from agenthub.config import Settings
from agenthub.db.engine import session_scope

OPERATOR_ROLES = frozenset({"owner", "admin"})
COOKIE = "agenthub_admin"
SESSION_SECONDS = 8 * 3600
"""How long a panel sign-in lasts."""
KEY_PURPOSE = b"agenthub admin panel session"
REFUSED_MEMBER = "Only owners and admins of an organisation may use the admin panel."


def _fingerprint(password_hash: str) -> str:
    """Changes with the password: a session made before a password change stops working."""
    return hashlib.sha256(password_hash.encode()).hexdigest()[:32]


class PanelSessions:
    """ASGI middleware: Starlette's signed-cookie sessions, with the key made on the first
    request (the install's signing key is in the database, open only once the app started)."""

    def __init__(self, app: ASGIApp, *, host: Any, settings: Settings) -> None:
        self.app = app
        self.host = host
        self.settings = settings
        self._inner: SessionMiddleware | None = None
        self._lock = asyncio.Lock()

    async def _key(self) -> str:
        if self.settings.admin_panel_secret is not None:
            return self.settings.admin_panel_secret.get_secret_value()
        configured = self.settings.jwt_secret.get_secret_value() if self.settings.jwt_secret else None
        async with session_scope(self.host.state.session_factory) as session:
            base = await signing_key(session, configured)
        return hmac.new(base.encode(), KEY_PURPOSE, hashlib.sha256).hexdigest()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        if self._inner is None:
            async with self._lock:
                if self._inner is None:
                    self._inner = SessionMiddleware(
                        self.app, secret_key=await self._key(), session_cookie=COOKIE,
                        max_age=SESSION_SECONDS, same_site="strict",
                    )
        await self._inner(scope, receive, send)


class PanelAuthentication(AuthenticationBackend):
    """SQLAdmin's sign-in: the login form, the session, and the operator of each request."""

    def __init__(self, *, host: Any, settings: Settings) -> None:
        # Not the parent's __init__: its session middleware needs the key up front.
        self.host = host
        self.templates: Any = None  # the panel's templates, set once the panel is made
        self.middlewares = [
            Middleware(OperatorScope),
            Middleware(PanelSessions, host=host, settings=settings),
        ]

    async def login(self, request: Request) -> Response | bool:
        form = await request.form()
        email, password = form.get("username"), form.get("password")
        if not isinstance(email, str) or not isinstance(password, str) or not email or not password:
            return False
        async with session_scope(self.host.state.session_factory) as session:
            user = await accounts_service.find_user(session, email)
        valid = await verify_password(user.password_hash if user else None, password)
        if user is None or not valid:
            return False
        if user.role not in OPERATOR_ROLES:
            return await self.templates.TemplateResponse(  # type: ignore[no-any-return]
                request, "sqladmin/login.html", {"error": REFUSED_MEMBER}, status_code=403
            )
        request.session.clear()
        request.session.update({"user_id": user.id, "org_id": user.org_id, "pw": _fingerprint(user.password_hash)})
        return True

    async def logout(self, request: Request) -> Response | bool:
        request.session.clear()
        return True

    async def authenticate(self, request: Request) -> Response | bool:
        user_id = request.session.get("user_id")
        if not isinstance(user_id, str):
            return False
        async with session_scope(self.host.state.session_factory) as session:
            user = await session.get(User, user_id)
        if (
            user is None or user.role not in OPERATOR_ROLES or user.org_id != request.session.get("org_id")
            or not hmac.compare_digest(_fingerprint(user.password_hash), str(request.session.get("pw", "")))
        ):
            request.session.clear()
            return False
        set_operator(Operator(user_id=user.id, org_id=user.org_id, role=user.role))
        return True
