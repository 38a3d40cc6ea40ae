"""The operators' admin panel (SQLAdmin) at ``/admin``: the main tables of the signed-in
operator's organisation, for its owners and admins, secrets masked (see README, "Admin
panel"). :func:`mount_admin_panel` is the one entry: ``app.py`` calls it."""

from __future__ import annotations

from typing import Any

from sqladmin import Admin, ModelView
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.applications import Starlette

from agenthub.admin_panel import views_accounts, views_agents, views_org, views_scenarios
from agenthub.admin_panel.auth import PanelAuthentication
from agenthub.config import Settings

BASE_URL = "/admin"
VIEWS: tuple[type[ModelView], ...] = (
    *views_accounts.VIEWS, *views_agents.VIEWS, *views_scenarios.VIEWS, *views_org.VIEWS,
)


class _AppSessions:
    """The app's session factory, made at start-up (after the panel is mounted), in the shape
    SQLAdmin asks of a session maker."""

    class_ = AsyncSession

    def __init__(self, app: Starlette) -> None:
        self._app = app

    def configure(self, **_options: Any) -> None:
        """SQLAdmin's options (no autoflush) are not applied: the app's sessions are used as they are."""

    def __call__(self, **options: Any) -> AsyncSession:
        return self._app.state.session_factory(**options)  # type: ignore[no-any-return]


def mount_admin_panel(app: Starlette, settings: Settings) -> Admin:
    """Mount the panel on ``app`` at ``/admin``. Each view is subclassed for this app, since
    SQLAdmin keeps the session maker on the view's class."""
    authentication = PanelAuthentication(host=app, settings=settings)
    admin = Admin(
        app, session_maker=_AppSessions(app), base_url=BASE_URL,  # type: ignore[arg-type]
        title="AgentHub admin", authentication_backend=authentication,
    )
    authentication.templates = admin.templates
    for view in VIEWS:
        admin.add_view(type(view.__name__, (view,), {}))
    return admin
