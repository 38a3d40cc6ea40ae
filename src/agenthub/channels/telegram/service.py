"""Telegram integrations of the agents, supervised: started, stopped and watched by this
AgentHub process. Embedded (in-process bus) each bot is an asyncio task here; on Redis
(given a launcher) each bot runs in a process of its own (:mod:`.process`), a child of this
one, ended on a stop with SIGTERM, then SIGKILL after ``STOP_GRACE_PERIOD``.

- **One bot token, one running integration.** Whoever runs a bot holds the bus key
  :func:`~agenthub.bus.keys.telegram_bot_lease` (by the token's fingerprint, with a TTL it
  renews): a start for another agent with the same token is refused (409 ``token_in_use``);
  with several AgentHub processes on one Redis, only one of them runs a given bot.
- **Status** is the bus key ``integration_status:{agent_id}:telegram`` (``starting``,
  ``running``, ``stopped``, ``error`` with what went wrong); a ``starting`` or ``running``
  whose holder's lease is gone (its process died) reads as ``stopped``.
- **Supervision**: a bot that fails (Telegram or the network away, or its process died) is
  set up again after a backoff that doubles up to ``backoff_max``; one whose token Telegram
  refuses, or that can't work as configured, stays in ``error`` until it is started again.
- A stop asked of a process that does not run the bot is written to the status; the
  process that runs it stops it when it next renews its lease.
- At start-up every agent with a Telegram integration is started (see :meth:`setup`); a
  change of an agent's integrations is applied at once (:meth:`apply`).
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import logging
import os
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from telegram.error import Forbidden as TelegramForbidden
from telegram.error import InvalidToken

from agenthub.agents import service as agents_service
from agenthub.agents.models import Agent
from agenthub.agents.schemas import TelegramIntegrationSettings
from agenthub.bus import Bus, keys
from agenthub.channels.gateway import Gateway
from agenthub.channels.telegram import lookup
from agenthub.channels.telegram import process as bot_process
from agenthub.channels.telegram.config import (
    TYPE,
    integration_settings,
    secret_digest,
    status_value,
    token_fingerprint,
)
from agenthub.channels.telegram.runner import TelegramIntegration, make_bot
from agenthub.config import ConfigurationError, Settings
from agenthub.credentials.secret_box import CredentialBox
from agenthub.db.engine import SessionFactory
from agenthub.errors import AgentHubError, Conflict
from agenthub.ops.logging import remember_secrets
from agenthub.runtime.launcher import ProcessLauncher
from agenthub.runtime.tasks import stop_tasks

log = logging.getLogger(__name__)

LEASE_TTL = 30.0
"""Seconds a bot's lease outlives the process holding it (renewed every third of that)."""
ACTIVE = ("starting", "running")
PERMANENT = (InvalidToken, TelegramForbidden, ConfigurationError)
"""Failures a restart does not mend: the bot stays in ``error`` until it is started again."""


@dataclass
class _Running:
    agent_id: str
    handle: str
    fingerprint: str
    config: TelegramIntegrationSettings
    token: str
    task: asyncio.Task[None] | None = None
    integration: TelegramIntegration | None = None
    stopping: bool = False
    ran: bool = False
    """The current attempt got as far as running (a failure then starts the backoff again)."""
    status: dict[str, Any] = field(default_factory=dict)

    @property
    def mode(self) -> str:
        return self.config.mode

    @property
    def lease(self) -> str:
        return keys.telegram_bot_lease(self.fingerprint)


class TelegramIntegrations:
    name = "telegram-integrations"

    def __init__(
        self, *, settings: Settings, bus: Bus, sessions: SessionFactory, gateway: Gateway,
        box: CredentialBox | None, backoff_base: float = 1.0, backoff_max: float = 60.0,
        launcher: ProcessLauncher | None = None,
    ) -> None:
        self._launcher = launcher
        self._settings = settings
        self._bus = bus
        self._sessions = sessions
        self._gateway = gateway
        self._box = box
        self._backoff = (backoff_base, backoff_max)
        self._owner = uuid.uuid4().hex
        self._running: dict[str, _Running] = {}
        self._wanted: dict[str, tuple[str, str, float]] = {}  # to start once let go: id -> (org, handle, until)
        self._lock = asyncio.Lock()

    # -- lifecycle -----------------------------------------------------------------------

    async def setup(self) -> None:
        """Start the Telegram integration of every agent that has one; one that can't start
        is logged (and its status says why when it got that far), the others go on."""
        async with self._sessions() as session:
            agents = list(await session.execute(
                select(Agent.org_id, Agent.handle, Agent.settings).where(Agent.deleted_at.is_(None))
            ))
        for org_id, handle, agent_settings in agents:
            if not any(i.get("type") == TYPE for i in (agent_settings or {}).get("integrations") or []):
                continue
            try:
                await self.start(org_id=org_id, handle=handle)
            except AgentHubError as error:
                log.warning("telegram integration not started", extra={"agent": handle, "reason": error.message})

    async def run(self) -> None:
        """Renew the leases of the bots running here; stop those whose stop was asked of
        another process, or whose lease another process took."""
        while True:
            await asyncio.sleep(LEASE_TTL / 3)
            for running in list(self._running.values()):
                with contextlib.suppress(Exception):
                    await self._renew(running)
            for agent_id, (org_id, handle, until) in list(self._wanted.items()):
                if agent_id in self._running or time.monotonic() > until:
                    self._wanted.pop(agent_id, None)
                    continue
                with contextlib.suppress(Exception):
                    await self.start(org_id=org_id, handle=handle)

    async def apply(self, *, org_id: str, handle: str, agent_id: str, before: dict[str, Any],
                    after: dict[str, Any]) -> None:
        """A saved change of the agent's settings (``before`` and ``after``): a Telegram
        integration removed is stopped (its webhook removed), one added is started, one whose
        credential, mode or secret changed is restarted unless it was stopped. What keeps it
        from starting is its status (``error``)."""
        old, new = integration_settings(before), integration_settings(after)
        if old == new:
            return
        try:
            if new is None:
                await self.stop(org_id=org_id, handle=handle)
                return
            status = (await self.status(agent_id))["status"]
            if old is not None and status == "stopped":
                return
            if old is not None and agent_id not in self._running and status in ACTIVE:
                # Another process runs it: it stops it at its next lease renewal, this one starts it then.
                await self.stop(org_id=org_id, handle=handle)
                self._wanted[agent_id] = (org_id, handle, time.monotonic() + 3 * LEASE_TTL)
            await self.start(org_id=org_id, handle=handle)
        except AgentHubError as error:
            log.warning("telegram integration not applied", extra={"agent": handle, "reason": error.message})
            await self._bus.set(self._status_key(agent_id), self._value(
                "error", mode=new.mode if new else None, error=error.message,
            ))

    async def cleanup(self) -> None:
        """Stop every bot running here, together (a webhook stays registered: Telegram keeps its updates)."""
        async with self._lock:
            await asyncio.gather(*(self._stop_local(r, stopped=False) for r in list(self._running.values())))

    # -- what the routes ask -------------------------------------------------------------

    async def start(self, *, org_id: str, handle: str) -> dict[str, Any]:
        """Start the agent's bot (nothing to do when it runs already as configured; a changed
        token or mode restarts it). Conflict ``not_configured`` without a Telegram
        integration, ``token_in_use`` when another agent's running bot has the token,
        ``public_url_missing`` for a webhook without ``PUBLIC_URL``."""
        async with self._lock:
            agent, integration = await self._configured(org_id, handle)
            token = await self._token(org_id, integration)
            fingerprint = token_fingerprint(token)
            current = self._running.get(agent.id)
            if current is not None:
                alive = current.task is not None and not current.task.done()
                if alive and current.fingerprint == fingerprint and current.config == integration:
                    return await self.status(agent.id)
                await self._stop_local(current, stopped=True)
            if integration.mode == "webhook" and not self._settings.public_url:
                raise Conflict(
                    "webhook mode needs PUBLIC_URL (where Telegram reaches this AgentHub): set it, or use polling",
                    code="public_url_missing",
                )
            running = _Running(agent.id, agent.handle, fingerprint, integration, token)
            if not await self._take_lease(running):
                return await self.status(agent.id)  # another AgentHub process runs this bot
            remember_secrets(token)
            self._running[agent.id] = running
            await self._set_status(running, "starting")
            running.task = asyncio.create_task(self._supervise(running), name=f"telegram:{agent.id}")
            return await self.status(agent.id)

    async def stop(self, *, org_id: str, handle: str) -> dict[str, Any]:
        """Stop the agent's bot (a webhook is removed); stopped already is no error."""
        async with self._sessions() as session:
            agent = await agents_service.get(session, org_id=org_id, agent_id=handle)
        async with self._lock:
            running = self._running.get(agent.id)
            if running is not None:
                await self._stop_local(running, stopped=True)
            else:
                await self._bus.set(self._status_key(agent.id), self._value("stopped", mode=None))
        return await self.status(agent.id)

    async def status(self, agent_id: str) -> dict[str, Any]:
        """``{"status", "mode", "error", "bot_username", "updated_at", "pid"}`` of the agent's
        bot (``pid``: its process, on Redis)."""
        value = await self._current(agent_id)
        return {key: value.get(key) for key in ("status", "mode", "error", "bot_username", "updated_at", "pid")}

    async def _current(self, agent_id: str) -> dict[str, Any]:
        """The status value on the bus; ``stopped`` when whoever ran the bot is gone."""
        value = await self._bus.get(self._status_key(agent_id)) or self._value("stopped", mode=None)
        if value.get("status") in ACTIVE:
            holder = await self._bus.get(str(value.get("lease") or "")) if value.get("lease") else None
            if not holder or holder.get("owner") != value.get("owner"):
                value = {**value, "status": "stopped"}
        return value

    async def webhook_accepts(self, agent_id: str, secret: str) -> bool:
        """Whether ``secret`` is the webhook secret of the agent's bot running in webhook
        mode, in whichever process (it published the secret's digest in its status)."""
        value = await self._current(agent_id)
        digest = value.get("secret_sha256")
        if value.get("status") != "running" or value.get("mode") != "webhook" or not isinstance(digest, str):
            return False
        return hmac.compare_digest(secret_digest(secret).encode(), digest.encode())

    async def hand_over(self, agent_id: str, update: dict[str, Any]) -> None:
        """An update posted to the webhook route, for the process running the bot."""
        await self._bus.add(keys.telegram_updates(agent_id), {"update": update})

    async def bot_username(self, *, org_id: str, handle: str) -> str:
        """The username of the agent's bot (for ``t.me`` links): the running bot's, else
        asked of Telegram (``getMe``)."""
        agent, integration = await self._configured(org_id, handle)
        status = await self.status(agent.id)
        if status["status"] == "running" and status.get("bot_username"):
            return str(status["bot_username"])
        token = await self._token(org_id, integration)
        remember_secrets(token)
        bot = make_bot(token, self._settings)
        try:
            me = await bot.get_me()
        except Exception as error:
            raise Conflict(
                f"Telegram did not answer for this agent's bot: {_described(error, token)}", code="telegram_unavailable"
            ) from None
        finally:
            with contextlib.suppress(Exception):
                await bot.shutdown()
        return str(me.username)

    # -- inside ----------------------------------------------------------------------------

    async def _configured(self, org_id: str, handle: str) -> tuple[Agent, TelegramIntegrationSettings]:
        return await lookup.configured(self._sessions, org_id, handle)

    async def _token(self, org_id: str, integration: TelegramIntegrationSettings) -> str:
        return await lookup.bot_token(self._sessions, self._box, org_id, integration)

    async def _take_lease(self, running: _Running) -> bool:
        """Hold the bot's lease; False when another process of this agent holds it. Conflict
        when another agent's bot has the token."""
        mine = {"agent_id": running.agent_id, "owner": self._owner}
        if await self._bus.set(running.lease, mine, ttl=LEASE_TTL, only_if_absent=True):
            return True
        holder = await self._bus.get(running.lease) or {}
        if holder.get("agent_id") not in (None, running.agent_id):
            raise Conflict(
                "this bot token is already used by the running Telegram integration of another agent: "
                "a bot serves one agent (stop that one, or use another bot)",
                code="token_in_use",
            )
        if holder.get("owner") not in (None, self._owner):
            return False
        await self._bus.set(running.lease, mine, ttl=LEASE_TTL)
        return True

    async def _renew(self, running: _Running) -> None:
        status = await self._bus.get(self._status_key(running.agent_id)) or {}
        holder = await self._bus.get(running.lease) or {}
        lease_taken = holder.get("owner") not in (None, self._owner)
        mine = status.get("owner") == self._owner
        # Stopped through another process (or a change it could not start), or another
        # process runs the agent's bot now (with another token): its status says so already.
        asked = not mine and status.get("status") in ("stopped", "error")
        elsewhere = status.get("owner") not in (None, self._owner)
        if asked or elsewhere or lease_taken:
            async with self._lock:
                if self._running.get(running.agent_id) is running:
                    await self._stop_local(running, stopped=asked, release=not lease_taken, report=mine)
            return
        await self._bus.set(running.lease, {"agent_id": running.agent_id, "owner": self._owner}, ttl=LEASE_TTL)

    async def _stop_local(self, running: _Running, *, stopped: bool, release: bool = True, report: bool = True) -> None:
        running.stopping = stopped
        await stop_tasks([running.task])
        if self._running.get(running.agent_id) is running:
            del self._running[running.agent_id]
        if release:
            await self._bus.compare_and_delete(running.lease, "owner", self._owner)
        if report:
            await self._set_status(running, "stopped")

    async def _supervise(self, running: _Running) -> None:
        failures = 0
        while True:
            running.ran = False
            try:
                await self._set_status(running, "starting")
                if self._launcher is None:
                    await self._run_here(running)
                else:
                    await self._run_process(running, self._launcher)
                raise bot_process.BotProcessFailed("the bot stopped by itself")
            except PERMANENT as error:
                await self._set_status(running, "error", error=_described(error, running.token))
                break
            except Exception as error:
                failures = 1 if running.ran else failures + 1
                base, most = self._backoff
                delay = min(most, base * 2 ** (failures - 1))
                said = _described(error, running.token)
                log.warning("telegram integration failed", extra={"agent_id": running.agent_id, "reason": said})
                await self._set_status(running, "error", error=f"{said} (trying again in {delay:g} s)")
            await asyncio.sleep(delay)
        with contextlib.suppress(Exception):
            await self._bus.compare_and_delete(running.lease, "owner", self._owner)
        if self._running.get(running.agent_id) is running:
            del self._running[running.agent_id]

    async def _run_here(self, running: _Running) -> None:
        """One attempt as an asyncio task of this process (embedded)."""
        integration = self._integration(running)
        running.integration = integration
        try:
            await integration.setup()
            extra = {"secret_sha256": secret_digest(integration.secret)} if integration.mode == "webhook" else {}
            await self._set_status(running, "running", bot_username=integration.username, **extra)
            running.ran = True
            await integration.run()
        finally:
            await integration.cleanup(stopped=running.stopping)

    async def _run_process(self, running: _Running, launcher: ProcessLauncher) -> None:
        spec = bot_process.BotSpec(
            agent_id=running.agent_id, handle=running.handle, token=running.token, config=running.config,
            owner=self._owner, lease=running.lease, parent_pid=os.getpid(),
        )
        try:
            await bot_process.run_attempt(
                launcher, self._settings, self._bus, spec, stopping=lambda: running.stopping
            )
        except bot_process.BotProcessFailed as failed:
            running.ran = failed.ran
            raise

    def _integration(self, running: _Running) -> TelegramIntegration:
        return TelegramIntegration(
            agent_id=running.agent_id, handle=running.handle, token=running.token, integration=running.config,
            settings=self._settings, gateway=self._gateway, sessions=self._sessions, bus=self._bus,
        )

    def _status_key(self, agent_id: str) -> str:
        return keys.integration_status(agent_id, TYPE)

    def _value(self, status: str, *, mode: str | None, **extra: Any) -> dict[str, Any]:
        return status_value(status, mode=mode, **extra)

    async def _set_status(self, running: _Running, status: str, **extra: Any) -> None:
        if status == "running" or status == "starting":
            extra = {"bot_username": running.status.get("bot_username"), **extra}
        running.status = self._value(status, mode=running.mode, owner=self._owner, lease=running.lease, **extra)
        await self._bus.set(self._status_key(running.agent_id), running.status)


def _described(error: BaseException, token: str) -> str:
    """What went wrong, for a status or a log: never the token (Telegram's errors quote it)."""
    text = f"{type(error).__name__}: {error}" if str(error) else type(error).__name__
    if isinstance(error, bot_process.BotProcessFailed | bot_process.BotProcessGaveUp):
        text = str(error)
    return text.replace(token, "***") if token else text
