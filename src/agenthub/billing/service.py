"""Token usage: what the usage worker stores, with cost where the provider charges a known
price for the model (:mod:`agenthub.llm.pricing`), and the daily aggregates it keeps as it
stores. Usage logs are the organisation's billing records: they outlive the agents they
describe, deleted and purged ones included."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from functools import cache
from typing import Any, cast

from sqlalchemy import Insert, Table, func, select, true
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from agenthub.agents.models import Agent
from agenthub.billing.models import DailyUsage, TokenUsageLog
from agenthub.db.base import utcnow
from agenthub.db.upsert import dialect_of
from agenthub.llm.pricing import PriceTable

USER_ID_LENGTH = 160


@dataclass(frozen=True, slots=True)
class StoredUsage:
    """A turn's usage as stored: whose it was, what it cost, when it was stored."""

    org_id: str
    user_id: str | None
    api_key_id: str | None
    cost: Decimal | None
    at: datetime


async def record_usage(
    session: AsyncSession, events: Sequence[dict[str, Any]], *, prices: PriceTable
) -> list[StoredUsage]:
    """Store usage events and add them to the daily aggregates, in the caller's transaction;
    returns the usage of the events stored now (an event for a message already logged is
    skipped: a redelivered entry counts once). The cost depends on the provider as well as
    the model: ``gpt-4o-mini`` served by Ollama or any other OpenAI-compatible server has
    no known cost."""
    now = utcnow()
    rows: dict[str, dict[str, Any]] = {}
    for event in events:
        rows.setdefault(str(event["message_id"]), _log_row(event, prices, now))
    if not rows:
        return []
    stored = set((await session.execute(_insert_new_logs(dialect_of(session)), list(rows.values()))).scalars())
    new = [row for message_id, row in rows.items() if message_id in stored]
    await _add_to_daily_usage(session, new, day=now.date())
    return [StoredUsage(r["org_id"], r["user_id"], r["api_key_id"], r["cost"], now) for r in new]


def _log_row(event: dict[str, Any], prices: PriceTable, now: datetime) -> dict[str, Any]:
    input_tokens, output_tokens = int(event["input_tokens"]), int(event["output_tokens"])
    return {
        "message_id": str(event["message_id"]),
        "org_id": event["org_id"],
        "agent_id": event["agent_id"],
        "chat_id": event["chat_id"],
        "user_id": str(event.get("user_id") or "")[:USER_ID_LENGTH] or None,
        "api_key_id": event.get("api_key_id") or None,
        "provider": event["provider"],
        "model": event["model"],
        "input_tokens": input_tokens,
        "output_tokens": output_tokens,
        "cost": prices.cost_of(event["provider"], event["model"], input_tokens, output_tokens),
        "created_at": now,
    }


@cache
def _insert_new_logs(dialect: str) -> Insert:
    """Insert usage logs, skipping those of messages logged already; returns the message
    ids of the rows inserted."""
    table = cast(Table, TokenUsageLog.__table__)
    insert = (postgresql.insert if dialect == "postgresql" else sqlite.insert)(table)
    return insert.on_conflict_do_nothing(index_elements=[table.c.message_id]).returning(table.c.message_id)


@cache
def _add_daily(dialect: str) -> Insert:
    table = cast(Table, DailyUsage.__table__)
    insert = (postgresql.insert if dialect == "postgresql" else sqlite.insert)(table)
    added = insert.excluded
    return insert.on_conflict_do_update(
        index_elements=[table.c.org_id, table.c.user_id, table.c.agent_id, table.c.model, table.c.day],
        set_={
            "turns": table.c.turns + added.turns,
            "input_tokens": table.c.input_tokens + added.input_tokens,
            "output_tokens": table.c.output_tokens + added.output_tokens,
            "cost": table.c.cost + added.cost,
        },
    )


async def _add_to_daily_usage(session: AsyncSession, rows: Sequence[dict[str, Any]], *, day: date) -> None:
    """One row per organisation, user, agent, model and day: added to, or created."""
    totals: dict[tuple[str, str, str, str], list[Any]] = defaultdict(lambda: [0, 0, 0, Decimal(0)])
    for row in rows:
        total = totals[row["org_id"], row["user_id"] or "", row["agent_id"], row["model"]]
        total[0] += 1
        total[1] += row["input_tokens"]
        total[2] += row["output_tokens"]
        total[3] += row["cost"] or 0
    if not totals:
        return
    # In key order: workers adding to the same rows at once lock them in the same order.
    values = [
        {"org_id": org, "user_id": user, "agent_id": agent, "model": model, "day": day,
         "turns": turns, "input_tokens": inputs, "output_tokens": outputs, "cost": cost}
        for (org, user, agent, model), (turns, inputs, outputs, cost) in sorted(totals.items())
    ]
    await session.execute(_add_daily(dialect_of(session)), values)


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


async def totals_for_org(
    session: AsyncSession, *, org_id: str, agent_ids: frozenset[str] | None = None
) -> dict[str, Any]:
    """The organisation's usage, in total and per agent (deleted agents included: an agent
    without a live row was deleted, or purged since); only of ``agent_ids`` (handles) when
    given: an API key limited to some agents sees theirs alone. Agents are named by their
    handle (a purged one by its internal id)."""
    live = select(Agent.id).where(Agent.org_id == org_id, Agent.deleted_at.is_(None)).scalar_subquery()
    rows = (
        await session.execute(
            select(
                func.coalesce(Agent.handle, TokenUsageLog.agent_id),
                func.coalesce(func.sum(TokenUsageLog.input_tokens), 0),
                func.coalesce(func.sum(TokenUsageLog.output_tokens), 0),
                func.sum(TokenUsageLog.cost),
                func.count(),
                TokenUsageLog.agent_id.in_(live),
            )
            .outerjoin(Agent, Agent.id == TokenUsageLog.agent_id)  # named as the organisation names it
            .where(TokenUsageLog.org_id == org_id)
            .where(Agent.handle.in_(agent_ids) if agent_ids is not None else true())
            .group_by(TokenUsageLog.agent_id, Agent.handle)
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
