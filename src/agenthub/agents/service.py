"""Agent configurations: create, read, update, delete. No HTTP here."""

from __future__ import annotations

import uuid
from typing import Any

from pydantic import ValidationError
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from agenthub.agents.models import Agent
from agenthub.agents.schemas import AgentCreate, AgentSettings, AgentUpdate, mask_settings
from agenthub.errors import Conflict, InvalidInput, NotFound, plain_problem


def new_agent_id() -> str:
    return f"agent_{uuid.uuid4().hex[:12]}"


async def create(session: AsyncSession, *, org_id: str, data: AgentCreate) -> Agent:
    agent = Agent(
        id=data.id or new_agent_id(),
        org_id=org_id,
        name=data.name,
        kind=data.kind,
        settings=data.settings.stored(),
        config_version=1,
    )
    session.add(agent)
    try:
        await session.flush()
    except IntegrityError as error:
        await session.rollback()
        raise Conflict(f"an agent with id {agent.id!r} already exists") from error
    return agent


async def get(session: AsyncSession, *, org_id: str, agent_id: str) -> Agent:
    agent = await session.scalar(
        select(Agent).where(Agent.id == agent_id, Agent.org_id == org_id)
    )
    if agent is None:
        raise NotFound(f"agent {agent_id!r} not found")
    return agent


async def list_(
    session: AsyncSession, *, org_id: str, limit: int = 100, offset: int = 0
) -> tuple[list[Agent], int]:
    scoped = select(Agent).where(Agent.org_id == org_id)
    total = await session.scalar(select(func.count()).select_from(scoped.subquery()))
    rows = await session.scalars(scoped.order_by(Agent.created_at, Agent.id).limit(limit).offset(offset))
    return list(rows), int(total or 0)


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
    session: AsyncSession, *, org_id: str, agent_id: str, data: AgentUpdate
) -> tuple[Agent, bool]:
    """The agent with ``data`` applied, and whether that changed anything. A change of
    settings is a new ``config_version`` (what a running agent must restart to take); a new
    name is not, as no runner uses it."""
    agent = await get(session, org_id=org_id, agent_id=agent_id)
    changed = False
    renamed = False
    if data.name is not None and data.name != agent.name:
        agent.name, renamed = data.name, True
    if data.settings is not None:
        changes = data.settings.model_dump(mode="json", exclude_unset=True)
        try:
            merged = AgentSettings.model_validate({**agent.settings, **changes})
        except ValidationError as error:
            problem = error.errors()[0]
            where = ".".join(str(part) for part in problem["loc"])
            field = f"settings{'.' + where if where else ''}"
            raise InvalidInput(f"{field}: {plain_problem(problem['msg'])}", field=field) from None
        settings = _keep_masked_secrets(merged.stored(), agent.settings)
        if settings != agent.settings:
            agent.settings, changed = settings, True
    if changed:
        agent.config_version += 1
    if changed or renamed:
        await session.flush()
    return agent, changed or renamed


PROVIDER_KEYS = {"openai": "OPENAI_API_KEY", "openrouter": "OPENROUTER_API_KEY"}


def missing_key_warning(settings: dict[str, Any], *, keys_set: set[str]) -> str | None:
    """A warning for an agent whose provider needs a platform key that is not set (the
    names in ``keys_set`` are): it would fail on its first message."""
    variable = PROVIDER_KEYS.get(str(settings.get("provider")))
    if variable is None or variable in keys_set:
        return None
    if variable == "OPENROUTER_API_KEY" and settings.get("base_url"):
        return None  # sent only to OpenRouter's own address: this agent gets no platform key anyway
    return (
        f"{variable} is not set on the server: this agent's model calls will fail until it is set "
        f"(for `agenthub serve` and every `agenthub worker`) or the agent uses another provider."
    )


async def delete(session: AsyncSession, *, org_id: str, agent_id: str) -> None:
    agent = await get(session, org_id=org_id, agent_id=agent_id)
    await session.delete(agent)
    await session.flush()


async def load_for_runtime(session: AsyncSession, *, agent_id: str) -> Agent:
    """The agent a runner hosts. Runners act for whichever organisation owns the agent,
    so this one lookup is by id alone; everything the runner writes carries the org."""
    agent = await session.get(Agent, agent_id)
    if agent is None:
        raise NotFound(f"agent {agent_id!r} not found")
    return agent
