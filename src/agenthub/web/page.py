"""The console's one HTML page, rendered per request: its ``<base>`` is the prefix the
browser knows (``ROOT_PATH`` behind a proxy), so every relative address in the scripts
(``api/v1/...``, ``ws/agents/...``, ``console/...``) resolves under it.

The page carries no inline script but its import map, which the Content-Security-Policy
admits by its SHA-256; everything else must come from this server (``'self'``): no page of
another site, no CDN, no ``eval``.
"""

from __future__ import annotations

import base64
import hashlib
import html
import re
from pathlib import Path

from starlette.responses import HTMLResponse
from starlette.types import Receive, Scope, Send

from agenthub import __version__
from agenthub.config import Settings

IMPORT_MAP = re.compile(r'<script type="importmap">(.*?)</script>', re.S)


def _csp(import_map: str) -> str:
    digest = base64.b64encode(hashlib.sha256(import_map.encode()).digest()).decode()
    return "; ".join((
        "default-src 'self'",
        f"script-src 'self' 'sha256-{digest}'",
        "style-src 'self'",
        "img-src 'self' data: blob:",
        "connect-src 'self'",
        "font-src 'self'",
        "object-src 'none'",
        "base-uri 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ))


class ConsolePage:
    """An ASGI endpoint answering the page. ``first-owner`` tells a new user of the embedded
    quick start how to log in (the e-mail only: the password was printed on the console)."""

    def __init__(self, template: Path, settings: Settings) -> None:
        self._template = template.read_text(encoding="utf-8")
        found = IMPORT_MAP.search(self._template)
        if found is None:
            raise RuntimeError(f"{template} has no import map")
        self._csp = _csp(found.group(1))
        self._first_owner = (settings.admin_email or "admin@localhost") if settings.embedded else ""

    def render(self, root_path: str) -> str:
        base = root_path.rstrip("/") + "/"
        return (
            self._template.replace("{{base}}", html.escape(base, quote=True))
            .replace("{{version}}", html.escape(__version__, quote=True))
            .replace("{{first_owner}}", html.escape(self._first_owner, quote=True))
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        response = HTMLResponse(
            self.render(scope.get("root_path", "")),
            headers={
                "Content-Security-Policy": self._csp,
                "X-Content-Type-Options": "nosniff",
                "Referrer-Policy": "same-origin",
                "Cache-Control": "no-cache",
            },
        )
        await response(scope, receive, send)
