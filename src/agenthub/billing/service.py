"""Token usage: what the usage worker stores, with cost where the provider charges a known
price for the model (:mod:`agenthub.llm.pricing`). Usage logs are the organisation's billing
records: they outlive the agents they describe, deleted and purged ones included."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from agenthub.agents.models import Agent
from agenthub.billing.models import TokenUsageLog
from agenthub.db.upsert import insert_ignoring_duplicates
from agenthub.llm.pricing import cost_of


async def record_usage(session: AsyncSession, events: Sequence[dict[str, Any]]) -> None:
    """Store usage events; an event for a message already logged is skipped. The cost
    depends on the provider as well as the model: ``gpt-4o-mini`` served by Ollama or any
    other OpenAI-compatible server has no known cost."""
    rows = [
        {
            "message_id": event["message_id"],
            "org_id": event["org_id"],
            "agent_id": event["agent_id"],
            "chat_id": event["chat_id"],
            "provider": event["provider"],
            "model": event["model"],
            "input_tokens": int(event["input_tokens"]),
            "output_tokens": int(event["output_tokens"]),
            "cost": cost_of(
                event["provider"], event["model"], int(event["input_tokens"]), int(event["output_tokens"])
            ),
        }
        for event in events
    ]
    await insert_ignoring_duplicates(session, TokenUsageLog, rows)


async def totals_for_agent(session: AsyncSession, *, org_id: str, agent_id: str) -> dict[str, Any]:
    row = (
        await session.execute(
            select(
                func.coalesce(func.sum(TokenUsageLog.input_tokens), 0),
                func.coalesce(func.sum(TokenUsageLog.output_tokens), 0),
                func.sum(TokenUsageLog.cost),
                func.count(),
            ).where(TokenUsageLog.org_id == org_id, TokenUsageLog.agent_id == agent_id)
        )
    ).one()
    return {
        "input_tokens": int(row[0]),
        "output_tokens": int(row[1]),
        "cost": _cost(row[2]),
        "turns": int(row[3]),
    }


def _cost(total: Any) -> str | None:
    return f"{total:f}" if total is not None else None


async def totals_for_org(session: AsyncSession, *, org_id: str) -> dict[str, Any]:
    """The organisation's usage, in total and per agent (deleted agents included: an agent
    without a live row was deleted, or purged since)."""
    live = select(Agent.id).where(Agent.org_id == org_id, Agent.deleted_at.is_(None)).scalar_subquery()
    rows = (
        await session.execute(
            select(
                TokenUsageLog.agent_id,
                func.coalesce(func.sum(TokenUsageLog.input_tokens), 0),
                func.coalesce(func.sum(TokenUsageLog.output_tokens), 0),
                func.sum(TokenUsageLog.cost),
                func.count(),
                TokenUsageLog.agent_id.in_(live),
            )
            .where(TokenUsageLog.org_id == org_id)
            .group_by(TokenUsageLog.agent_id)
            .order_by(TokenUsageLog.agent_id)
        )
    ).all()
    agents = [
        {
            "agent_id": agent_id,
            "input_tokens": int(inputs),
            "output_tokens": int(outputs),
            "cost": _cost(cost),
            "turns": int(turns),
            "deleted": not is_live,
        }
        for agent_id, inputs, outputs, cost, turns, is_live in rows
    ]
    costs = [row[3] for row in rows if row[3] is not None]
    return {
        "input_tokens": sum(a["input_tokens"] for a in agents),
        "output_tokens": sum(a["output_tokens"] for a in agents),
        "cost": _cost(sum(costs)) if costs else None,
        "turns": sum(a["turns"] for a in agents),
        "agents": agents,
    }
