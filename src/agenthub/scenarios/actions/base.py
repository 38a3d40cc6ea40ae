"""What the engine gives an action, and what it gets back.

An action gets the group (from the bot's document), the session's :class:`Scopes` (already
holding ``message.*``) and :class:`ActionDeps` (what the process has: settings, the database,
the outbound guard, the sandbox, a way to ask an LLM agent); it returns its result, a dict
(``{"status", "headers", "json", "text"}`` for a request, the dict ``main`` returned for
code, ``{"text"}`` for an LLM answer...), or ``{"error": "<what went wrong>"}``. The engine
then maps the group's ``variables`` (JSONPath over the result) and evaluates its connections.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Protocol

from agenthub.config import Settings
from agenthub.credentials.secret_box import CredentialBox
from agenthub.db.engine import SessionFactory
from agenthub.outbound.guard import OutboundGuard
from agenthub.scenarios.document import BotDocument, GroupDoc
from agenthub.scenarios.variables import Scopes

AskAgent = Callable[[str, str, str, dict[str, Any]], Awaitable[str]]
"""``ask_agent(org_id, agent_handle, prompt, message) -> answer text``: asks an LLM agent of the
organisation as the message's sender (their access and budget rules apply); raises on a
refusal or a failure."""

ReadFile = Callable[[str, str], Awaitable[tuple[str, str, bytes]]]
"""``read_file(org_id, file_id) -> (name, content_type, content)``: a stored file of the
organisation, for a request's multipart ``files``; raises (NotFound...) when there is none."""


@dataclass(frozen=True)
class ActionDeps:
    """What actions use, the same for every message of a process."""

    settings: Settings
    sessions: SessionFactory
    guard: OutboundGuard
    box: CredentialBox | None = None
    sandbox: Any = None
    """A :class:`agenthub.sandbox.service.SandboxService` (None: code steps fail saying so)."""
    ask_agent: AskAgent | None = None
    read_file: ReadFile | None = None
    """Where a request's multipart files are read from (None: requests with files fail saying so)."""
    http_client: Any = None
    """An ``httpx.AsyncClient`` from :func:`agenthub.outbound.http.guarded_client` (not trusted)
    shared by the process's requests (None: one per request)."""
    integrations: Any = None
    """An :class:`agenthub.scenarios.actions.integrations.IntegrationRegistry` (None: the
    built-in ones, :func:`~agenthub.scenarios.actions.integrations.default_integrations`)."""


@dataclass(frozen=True)
class ActionCall:
    """One group's action for one session."""

    org_id: str
    bot_id: str
    document: BotDocument
    """The version the session runs (its requests, by key)."""
    group: GroupDoc
    scopes: Scopes
    message: dict[str, Any]
    """The inbound envelope."""


class Action(Protocol):
    async def __call__(self, call: ActionCall, deps: ActionDeps) -> dict[str, Any]:
        """The action's result; ``{"error": ...}`` on a failure (never raises)."""
