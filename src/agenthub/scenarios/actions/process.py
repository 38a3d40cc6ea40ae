"""What one process lends the actions of the scenario bots it hosts, built by its entry point.

The app builds one with its own sandbox (started with the app) and, once its gateway is up,
binds the gateway's asker (:class:`agenthub.channels.scenario_ask.GatewayAsker`) for LLM
steps; a runner or a worker builds one whose sandbox starts on the first code step
(:class:`~agenthub.scenarios.actions.code.LazySandbox`). Either closes it at shutdown: the
requests' shared HTTP client, and the lazy sandbox if it was started. ``deps`` is what the
scenario engine passes to :func:`~agenthub.scenarios.actions.registry.run_action`.
"""

from __future__ import annotations

from http.cookiejar import CookieJar, DefaultCookiePolicy
from typing import Any

from agenthub.config import Settings
from agenthub.credentials.secret_box import CredentialBox
from agenthub.db.engine import SessionFactory
from agenthub.outbound.guard import OutboundGuard
from agenthub.outbound.http import guarded_client
from agenthub.scenarios.actions.base import ActionDeps, AskAgent, ReadFile
from agenthub.scenarios.actions.code import LazySandbox
from agenthub.scenarios.actions.integrations import IntegrationRegistry, default_integrations
from agenthub.scenarios.actions.llm import LateAsker


def no_cookies() -> CookieJar:
    """A cookie jar that keeps nothing: the requests of every bot and organisation share one
    client, and a cookie one API set must never go with another's request."""
    return CookieJar(policy=DefaultCookiePolicy(allowed_domains=[]))


class ProcessActions:
    def __init__(
        self,
        settings: Settings,
        sessions: SessionFactory,
        *,
        guard: OutboundGuard | None = None,
        box: CredentialBox | None = None,
        sandbox: Any = None,
        ask_agent: AskAgent | None = None,
        read_file: ReadFile | None = None,
        integrations: IntegrationRegistry | None = None,
    ) -> None:
        """``sandbox``: the process's :class:`~agenthub.sandbox.service.SandboxService` (None:
        a lazy one of its own); ``ask_agent``: bound now or later (:meth:`bind_asker`)."""
        guard = guard or OutboundGuard.from_settings(settings)
        self._lazy = LazySandbox(settings) if sandbox is None else None
        self.asker = LateAsker(ask_agent)
        self._http = guarded_client(guard, trusted=False, cookies=no_cookies())
        self.deps = ActionDeps(
            settings=settings, sessions=sessions, guard=guard, box=box,
            sandbox=self._lazy if self._lazy is not None else sandbox, ask_agent=self.asker,
            read_file=read_file, http_client=self._http, integrations=integrations or default_integrations(),
        )

    def bind_asker(self, ask_agent: AskAgent | None) -> None:
        self.asker.bind(ask_agent)

    async def close(self) -> None:
        await self._http.aclose()
        if self._lazy is not None:
            await self._lazy.close()
