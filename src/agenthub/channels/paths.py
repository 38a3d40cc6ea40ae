"""The path a request names inside AgentHub, whatever prefix a reverse proxy serves it under.

Behind a proxy that strips a prefix (``ROOT_PATH=/web``), the server puts the prefix back:
``scope["path"]`` is ``/web/health`` and ``scope["root_path"]`` is ``/web`` (the ASGI
rule). Middleware that looks at paths reads :func:`route_path`, ``/health``, as the router
does.
"""

from __future__ import annotations

from starlette.types import Scope


def route_path(scope: Scope) -> str:
    """``scope["path"]`` without the ``root_path`` in front of it."""
    path: str = scope.get("path", "")
    root = scope.get("root_path", "")
    if root and path.startswith(root) and path[len(root):len(root) + 1] in ("", "/"):
        return path[len(root):] or "/"
    return path
