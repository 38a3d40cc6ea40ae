"""Agent configurations: create, read, update, delete. No HTTP here.

Agents are named by their handle within their organisation (``get``, ``update``,
``delete``) and by their internal id everywhere else (``find``, the runtime); see
:class:`agenthub.agents.models.Agent`.

Deleting is soft: a deleted agent is hidden from everything (not found), can't be hosted,
and its handle stays taken for the retention period; :func:`purge_deleted` then removes it with
its chats and messages. Its token usage stays (billing records of the organisation)."""

from __future__ import annotations

import asyncio
import secrets
import uuid
from collections.abc import Collection
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

from pydantic import ValidationError
from sqlalchemy import Select, func, select
from sqlalchemy import delete as delete_rows
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from agenthub.agents import credential_refs
from agenthub.agents.models import DEFAULT_ORG, Agent
from agenthub.agents.schemas import AgentCreate, AgentUpdate, KindSettings, mask_settings, settings_schema
from agenthub.caller import Caller
from agenthub.db.base import iso_seconds, utcnow
from agenthub.errors import Conflict, InvalidInput, NotFound, field_path, plain_problem
from agenthub.outbound.guard import OutboundGuard, OutboundRefused, Unresolvable

DEFAULT_RETENTION = timedelta(days=30)
RESOLVE_TIMEOUT = 5.0
"""Seconds a ``base_url``'s host has to resolve when an agent is saved (slower: let through,
the turn checks again)."""


def new_agent_id() -> str:
    return f"agent_{uuid.uuid4().hex[:12]}"


def _live() -> Select[Agent]:
    return select(Agent).where(Agent.deleted_at.is_(None))


async def _free_handle(session: AsyncSession, org_id: str, handle: str, *, retention: timedelta) -> None:
    """Raise Conflict unless the organisation can give an agent ``handle``: its own agent
    deleted less than ``retention`` ago keeps it; one deleted longer ago and not purged yet
    is purged now. Other organisations' agents are never looked at."""
    existing = await session.scalar(select(Agent).where(Agent.org_id == org_id, Agent.handle == handle))
    if existing is None:
        return
    if existing.deleted_at is None:
        raise Conflict(f"an agent with id {handle!r} already exists")
    reusable_at = existing.deleted_at + retention
    if utcnow() < reusable_at:
        raise Conflict(
            f"agent id {handle!r} belonged to an agent deleted at {iso_seconds(existing.deleted_at)}; "
            f"a deleted agent's id can be taken again after {iso_seconds(reusable_at)} "
            "(DELETED_RETENTION_DAYS after its deletion), when its chats are purged",
            code="id_retained",
        )
    await purge(session, [existing.id])


def _suffixed(handle: str) -> str:
    return f"{handle[:55]}-{secrets.token_hex(3)}"


async def _internal_id(session: AsyncSession, org_id: str, handle: str) -> str:
    """The default organisation's agent: the handle itself when no agent anywhere has that
    id (the ids agents had before organisations stay as they were). Any other
    organisation's: always the handle with a random suffix that no agent has, so the
    ``address`` a create answers never depends on what other organisations have."""
    candidate = handle if org_id == DEFAULT_ORG else _suffixed(handle)
    while await session.get(Agent, candidate) is not None:
        candidate = _suffixed(handle)
    return candidate


CREATE_ATTEMPTS = 3


async def check_base_url(
    base_url: Any, *, caller: Caller, guard: OutboundGuard, field: str = "settings.base_url"
) -> None:
    """Whether ``caller`` may point an agent's model (or an MCP server) at ``base_url``:
    loopback and private addresses only an owner or admin of the organisation (a local
    Ollama or vLLM), link-local and cloud-metadata addresses nobody (unless
    ``OUTBOUND_ALLOWLIST`` names them). 422 on ``field`` with the refusal. A name that does
    not resolve now (in time) is let through: the guard checks again at every turn."""
    if not base_url:
        return
    try:
        await asyncio.wait_for(guard.check(str(base_url), trusted=caller.at_least("admin")), RESOLVE_TIMEOUT)
    except (Unresolvable, TimeoutError):
        return
    except OutboundRefused as refused:
        message = refused.message
        if not caller.at_least("admin") and (" a loopback " in message or " a private " in message):
            message += " (only an owner or admin of the organisation may use one)"
        raise InvalidInput(message, field=field) from None


async def check_endpoints(
    settings: dict[str, Any], before: dict[str, Any] | None, *, caller: Caller, guard: OutboundGuard
) -> None:
    """The addresses an agent's settings make the server connect to with its own trust (the
    model's ``base_url``, each MCP server's ``url``), checked by :func:`check_base_url` for
    ``caller``: those that are new (all of them when ``before`` is None), so that a member
    may still edit an agent whose admin pointed it at a local server."""
    before = before or {}
    if settings.get("base_url") != before.get("base_url"):
        await check_base_url(settings.get("base_url"), caller=caller, guard=guard)
    known = {server.get("url") for server in before.get("mcp_servers") or []}
    for index, server in enumerate(settings.get("mcp_servers") or []):
        if server.get("url") not in known:
            await check_base_url(
                server.get("url"), caller=caller, guard=guard, field=f"settings.mcp_servers.{index}.url"
            )


async def create(
    session: AsyncSession, *, org_id: str, data: AgentCreate, retention: timedelta = DEFAULT_RETENTION,
    caller: Caller | None = None, guard: OutboundGuard | None = None,
) -> Agent:
    """A new agent of the organisation, named ``data.id`` (or a generated id) there. Only
    the organisation's own agents can be in the way: whether another organisation uses the
    id changes nothing the caller sees (the internal id differs then, see :class:`Agent`).
    With ``caller`` and ``guard``, its ``base_url`` is checked (:func:`check_base_url`)."""
    if caller is not None and guard is not None:
        await check_endpoints(data.settings.stored(), None, caller=caller, guard=guard)
    await credential_refs.check(session, org_id=org_id, settings=data.settings.stored(), before=None)
    handle = data.id or new_agent_id()
    for attempt in range(CREATE_ATTEMPTS):
        await _free_handle(session, org_id, handle, retention=retention)
        agent = Agent(
            id=await _internal_id(session, org_id, handle) if attempt == 0 else _suffixed(handle),
            handle=handle,
            org_id=org_id,
            name=data.name,
            kind=data.kind,
            settings=data.settings.stored(),
            config_version=1,
        )
        session.add(agent)
        try:
            await session.flush()
        except IntegrityError:
            await session.rollback()  # a create at the same moment: the same handle, or the same id elsewhere
            continue
        return agent
    raise Conflict(f"an agent with id {handle!r} already exists")


async def handles(session: AsyncSession, agent_ids: Collection[str]) -> dict[str, str]:
    """The handle of each of these agents (by internal id) that still has a row: what its
    organisation calls it."""
    if not agent_ids:
        return {}
    rows = await session.execute(select(Agent.id, Agent.handle).where(Agent.id.in_(list(agent_ids))))
    return {agent_id: handle or agent_id for agent_id, handle in rows}


async def get(session: AsyncSession, *, org_id: str, agent_id: str) -> Agent:
    """The organisation's live agent named ``agent_id`` (its handle). What comes after
    (the runtime, chats, usage) goes by the row's ``id``."""
    agent = await session.scalar(_live().where(Agent.handle == agent_id, Agent.org_id == org_id))
    if agent is None:
        raise NotFound(f"agent {agent_id!r} not found")
    return agent


async def find(session: AsyncSession, *, agent_id: str) -> Agent:
    """The live agent of this internal id (its address) in any organisation (for reaching a public agent); the
    caller decides whether the one asking may see it."""
    agent = await session.scalar(_live().where(Agent.id == agent_id))
    if agent is None:
        raise NotFound(f"agent {agent_id!r} not found")
    return agent


async def list_(
    session: AsyncSession, *, org_id: str, limit: int = 100, offset: int = 0,
    only: Collection[str] | None = None,
) -> tuple[list[Agent], int]:
    """The organisation's agents; ``only``: just these of them (an API key's agents)."""
    scoped = _live().where(Agent.org_id == org_id)
    if only is not None:
        scoped = scoped.where(Agent.handle.in_(list(only)))
    total = await session.scalar(select(func.count()).select_from(scoped.subquery()))
    rows = await session.scalars(scoped.order_by(Agent.created_at, Agent.id).limit(limit).offset(offset))
    return list(rows), int(total or 0)


async def existing_ids(session: AsyncSession, *, org_id: str, agent_ids: Collection[str]) -> set[str]:
    """Which of ``agent_ids`` (handles) name agents of the organisation (not deleted)."""
    rows = await session.scalars(
        select(Agent.handle).where(
            Agent.org_id == org_id, Agent.deleted_at.is_(None), Agent.handle.in_(list(agent_ids))
        )
    )
    return set(rows)


def _unmasked(sent: Any, stored: Any, shown: Any) -> Any:
    """``sent`` with every part that reads exactly as the stored part is shown (``shown``)
    replaced by the stored part, at any depth; list items pair up by position."""
    if sent == shown:
        return stored
    if isinstance(sent, dict) and isinstance(stored, dict) and isinstance(shown, dict):
        return {
            key: _unmasked(value, stored[key], shown[key]) if key in stored else value
            for key, value in sent.items()
        }
    if isinstance(sent, list) and isinstance(stored, list) and isinstance(shown, list):
        return [
            _unmasked(item, stored[n], shown[n]) if n < len(stored) else item
            for n, item in enumerate(sent)
        ]
    return sent


def _keep_masked_secrets(new: dict[str, Any], old: dict[str, Any]) -> dict[str, Any]:
    """Responses show secrets as ``***`` (URL passwords too, nested ones as well). A client
    that sends back what it read means "unchanged" by them: wherever a value reads exactly as
    the stored one is shown, keep the stored one instead of overwriting it with the mask.
    Integrations pair up by type, so reordering them keeps every secret with its own."""
    shown = mask_settings(old)
    kept = {
        key: _unmasked(value, old[key], shown[key]) if key in old and key != "integrations" else value
        for key, value in new.items()
    }
    stored = {i["type"]: i.get("settings", {}) for i in old.get("integrations", [])}
    masked = {i["type"]: i.get("settings", {}) for i in shown["integrations"]}
    kept["integrations"] = [
        {**integration, "settings": _unmasked(
            integration.get("settings", {}), stored[integration["type"]], masked[integration["type"]]
        )} if integration["type"] in stored else integration
        for integration in new.get("integrations", [])
    ]
    return kept


async def update(
    session: AsyncSession, *, org_id: str, agent_id: str, data: AgentUpdate,
    caller: Caller | None = None, guard: OutboundGuard | None = None,
) -> tuple[Agent, bool]:
    """The agent with ``data`` applied, and whether that changed anything. A change of
    settings is a new ``config_version`` (what a running agent must restart to take); a new
    name is not, as no runner uses it. With ``caller`` and ``guard``, a new ``base_url`` is
    checked (:func:`check_base_url`; the stored one stays whoever edits the agent)."""
    agent = await get(session, org_id=org_id, agent_id=agent_id)
    changed = False
    renamed = False
    if data.name is not None and data.name != agent.name:
        agent.name, renamed = data.name, True
    if data.settings is not None:
        schema = settings_schema(agent.kind)
        merged = _validated(schema, {**agent.settings, **data.settings.changes()})
        settings = _keep_masked_secrets(merged.stored(), agent.settings)
        if caller is not None and guard is not None:
            await check_endpoints(settings, agent.settings, caller=caller, guard=guard)
        await credential_refs.check(session, org_id=org_id, settings=settings, before=agent.settings)
        if settings != agent.settings:
            # Settings stored before a field with a default was added gain it here: that
            # alone is no change of config.
            changed = changed or settings != _as_stored_now(schema, agent.settings)
            agent.settings = settings
    if changed:
        agent.config_version += 1
    if changed or renamed:
        await session.flush()
    return agent, changed or renamed


PROVIDER_KEYS = {"openai": "OPENAI_API_KEY", "openrouter": "OPENROUTER_API_KEY"}
PROVIDER_HOSTS = {"openai": "api.openai.com", "openrouter": "openrouter.ai"}


def missing_key_warning(settings: dict[str, Any], *, keys_set: set[str]) -> str | None:
    """A warning for an agent whose calls go to its provider's own service while the
    provider's platform key is not set (the names in ``keys_set`` are) and the agent names no
    credential of its own: it would fail on its first message. ``OPENAI_BASE_URL`` in
    ``keys_set``: ``openai`` agents without a base_url go to the operator's address instead."""
    variable = PROVIDER_KEYS.get(str(settings.get("provider")))
    if variable is None or variable in keys_set or settings.get("api_key_credential_id"):
        return None
    base_url = settings.get("base_url")
    if base_url:
        if urlsplit(str(base_url)).hostname != PROVIDER_HOSTS[str(settings.get("provider"))]:
            return None  # another server: it never gets the platform key, and may need none
    elif variable == "OPENAI_API_KEY" and "OPENAI_BASE_URL" in keys_set:
        return None  # the operator's address for OpenAI's API, which may need no key
    return (
        f"{variable} is not set on the server: this agent's model calls will fail until it is set "
        f"(for `agenthub serve` and every `agenthub worker`), the agent names a credential with its own key "
        "(settings.api_key_credential_id), or it uses another provider."
    )


def _validated(schema: type[KindSettings], settings: dict[str, Any]) -> KindSettings:
    try:
        return schema.model_validate(settings)
    except ValidationError as error:
        problem = error.errors()[0]
        where = field_path(problem["loc"])
        field = f"settings{'.' + where if where else ''}"
        said = plain_problem(problem["msg"])
        raise InvalidInput(f"{field}: {said}", field=field, problem=said) from None


def _as_stored_now(schema: type[KindSettings], settings: dict[str, Any]) -> dict[str, Any]:
    try:
        return schema.model_validate(settings).stored()
    except ValidationError:
        return settings


async def delete(session: AsyncSession, *, org_id: str, agent_id: str) -> None:
    """Soft delete: hidden from now on, purged after the retention period."""
    agent = await get(session, org_id=org_id, agent_id=agent_id)
    agent.deleted_at = utcnow()
    await session.flush()


async def deleted_before(session: AsyncSession, cutoff: datetime, *, limit: int = 100) -> list[str]:
    """Ids of agents deleted before ``cutoff``, oldest first."""
    rows = await session.scalars(
        select(Agent.id).where(Agent.deleted_at < cutoff).order_by(Agent.deleted_at).limit(limit)
    )
    return list(rows)


async def purge(session: AsyncSession, agent_ids: list[str]) -> None:
    """Remove deleted agents for good; their chats and messages go with them (the tables'
    foreign keys cascade), their token usage stays."""
    if agent_ids:
        await session.execute(
            delete_rows(Agent).where(Agent.id.in_(agent_ids), Agent.deleted_at.is_not(None))
        )


async def load_for_runtime(session: AsyncSession, *, agent_id: str) -> Agent:
    """The agent a runner hosts. Runners act for whichever organisation owns the agent,
    so this one lookup is by id alone; everything the runner writes carries the org."""
    agent = await session.get(Agent, agent_id)
    if agent is None or agent.deleted_at is not None:
        raise NotFound(f"agent {agent_id!r} not found")
    return agent
