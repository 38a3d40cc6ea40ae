"""The demo agent a fresh install starts with: the offline ``fake`` provider, so a person
can chat before configuring any model. It is ``public``, so the README's chat examples work
without logging in."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from agenthub.agents import service
from agenthub.agents.models import DEFAULT_ORG, Agent
from agenthub.agents.schemas import AgentCreate, LlmAgentCreate, LlmSettings

DEMO_AGENT_ID = "demo"


async def ensure_demo_agent(session: AsyncSession) -> bool:
    """Create the demo agent unless it exists. Returns True when created. A demo agent made
    before agents had ``access`` becomes ``public``; one whose access was set is left as it is."""
    existing = await session.scalar(
        select(Agent).where(Agent.org_id == DEFAULT_ORG, Agent.handle == DEMO_AGENT_ID)
    )
    if existing is not None:
        if "access" not in existing.settings:
            existing.settings = {**existing.settings, "access": "public"}
            await session.flush()
        return False
    await service.create(
        session,
        org_id=DEFAULT_ORG,
        data=AgentCreate(LlmAgentCreate(
            id=DEMO_AGENT_ID,
            name="Demo agent (offline fake model)",
            kind="llm",
            settings=LlmSettings(
                system_prompt="You are the AgentHub demo agent.",
                provider="fake",
                model_id="demo",
                temperature=0.0,
                isolation="shared",
                access="public",
            ),
        )),
    )
    return True
