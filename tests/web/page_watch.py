"""What a page did while a test drove it: console errors, uncaught exceptions, the URLs it
requested. Attach before ``page.goto``."""

from __future__ import annotations

from dataclasses import dataclass, field

from playwright.sync_api import ConsoleMessage, Page, Request


@dataclass
class PageWatch:
    errors: list[str] = field(default_factory=list)
    """Console messages of type error and uncaught exceptions, in order."""
    requests: list[str] = field(default_factory=list)
    """Every URL the page requested: documents, scripts, styles, images, fetches, and the
    WebSockets it opened (``ws://``)."""

    def foreign_requests(self, origin: str) -> list[str]:
        """The requests to anywhere but ``origin`` (``http://127.0.0.1:8000``, whose
        WebSockets are ``ws://127.0.0.1:8000``); ``data:`` and ``blob:`` URLs are the page's own."""
        origins = (origin, "ws" + origin.removeprefix("http"))
        return [
            url for url in self.requests
            if not (url in origins or url.startswith(tuple(f"{o}/" for o in origins)) or url.startswith(("data:", "blob:")))
        ]


def watch(page: Page) -> PageWatch:
    watched = PageWatch()

    def on_console(message: ConsoleMessage) -> None:
        if message.type == "error":
            watched.errors.append(f"console: {message.text} ({message.location.get('url', '')})")

    def on_request(request: Request) -> None:
        watched.requests.append(request.url)

    page.on("console", on_console)
    page.on("pageerror", lambda error: watched.errors.append(f"uncaught: {error}"))
    page.on("request", on_request)
    page.on("websocket", lambda socket: watched.requests.append(socket.url))
    return watched
