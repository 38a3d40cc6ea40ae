"""The console's static files: Starlette's ``StaticFiles`` (ETags, ``304``, no path outside
the folder), compressed with gzip for browsers that accept it, revalidated on every load
(``no-cache``: an upgraded server's scripts are never mixed with an old page's), and never
sniffed into another type."""

from __future__ import annotations

from pathlib import Path

from starlette.datastructures import MutableHeaders
from starlette.middleware.gzip import GZipMiddleware
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp, Message, Receive, Scope, Send

MIN_COMPRESSED_BYTES = 512


class ConsoleAssets:
    """An ASGI app serving ``static/`` (mounted at ``/console``)."""

    def __init__(self, folder: Path) -> None:
        self._app: ASGIApp = GZipMiddleware(StaticFiles(directory=folder), minimum_size=MIN_COMPRESSED_BYTES)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                headers["Cache-Control"] = "no-cache"
                headers["X-Content-Type-Options"] = "nosniff"
            await send(message)

        await self._app(scope, receive, send_with_headers)
