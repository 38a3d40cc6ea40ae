"""Token usage: what the usage worker stores, with cost where the provider charges a known
price for the model (:mod:`agenthub.llm.pricing`)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

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
        "cost": f"{row[2]:f}" if row[2] is not None else None,
        "turns": int(row[3]),
    }
