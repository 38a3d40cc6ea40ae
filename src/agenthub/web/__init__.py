"""The web console: a page at ``/`` and its static assets at ``/console/``, served by
``agenthub serve`` itself, offline (no CDN) and with no build step: ES modules and vendored
libraries (``static/vendor/VENDOR.md`` lists them with their versions and licences).

:func:`mount_console` is the one entry; ``app.py`` calls it. The page is rendered per request
(:mod:`agenthub.web.page`) so that it knows the prefix a reverse proxy serves AgentHub under
(``ROOT_PATH``) and carries a strict Content-Security-Policy; the assets are sent compressed
and cached (:mod:`agenthub.web.assets`).
"""

from __future__ import annotations

from pathlib import Path

from starlette.applications import Starlette
from starlette.routing import Mount, Route

from agenthub.config import Settings
from agenthub.web.assets import ConsoleAssets
from agenthub.web.page import ConsolePage

STATIC = Path(__file__).parent / "static"
ASSETS_PATH = "/console"


def mount_console(app: Starlette, settings: Settings) -> None:
    """``/`` (the page) and ``/console/...`` (its scripts, styles and vendored libraries)."""
    page = ConsolePage(STATIC / "index.html", settings)
    app.router.routes.append(Route("/", page, methods=["GET", "HEAD"], include_in_schema=False))
    app.router.routes.append(Mount(ASSETS_PATH, app=ConsoleAssets(STATIC), name="console"))
