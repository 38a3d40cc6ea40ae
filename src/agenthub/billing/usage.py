"""A user's or an organisation's usage over days, read from the daily aggregates: in total,
per day, per agent, per model."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.ext.asyncio import AsyncSession

from agenthub.agents.models import Agent
from agenthub.billing.budgets import money
from agenthub.billing.models import DailyUsage


async def for_user(
    session: AsyncSession, *, org_id: str, user_id: str, since: date | None, until: date | None
) -> dict[str, Any]:
    """The user's usage in the organisation from ``since`` to ``until`` (days, UTC, both
    included; None: no bound)."""
    query = select(DailyUsage).where(DailyUsage.org_id == org_id, DailyUsage.user_id == user_id)
    return await _report(session, query, since, until)


async def for_org(session: AsyncSession, *, org_id: str, since: date | None, until: date | None) -> dict[str, Any]:
    """The organisation's usage from ``since`` to ``until`` (days, UTC, both included; None:
    no bound): every user's, API key's and end user's turns, of its agents deleted or not."""
    return await _report(session, select(DailyUsage).where(DailyUsage.org_id == org_id), since, until)


async def _report(
    session: AsyncSession, query: Select[DailyUsage], since: date | None, until: date | None
) -> dict[str, Any]:
    if since is not None:
        query = query.where(DailyUsage.day >= since)
    if until is not None:
        query = query.where(DailyUsage.day <= until)
    rows = list(await session.scalars(query))
    handles: dict[str, str | None] = {}  # agents as their organisation names them
    if rows:
        found = await session.execute(
            select(Agent.id, Agent.handle).where(Agent.id.in_({row.agent_id for row in rows}))
        )
        handles = {agent_id: handle for agent_id, handle in found}
    return {
        "totals": _figures(rows),
        "by_day": _grouped(rows, lambda r: r.day, "date", lambda day: day.isoformat()),
        "by_agent": _grouped(rows, lambda r: handles.get(r.agent_id) or r.agent_id, "agent_id"),
        "by_model": _grouped(rows, lambda r: r.model, "model"),
    }


def _grouped(
    rows: Iterable[DailyUsage],
    key: Callable[[DailyUsage], Any],
    name: str,
    shown: Callable[[Any], Any] = lambda value: value,
) -> list[dict[str, Any]]:
    groups: dict[Any, list[DailyUsage]] = {}
    for row in rows:
        groups.setdefault(key(row), []).append(row)
    return [{name: shown(value), **_figures(group)} for value, group in sorted(groups.items())]


def _figures(rows: Iterable[DailyUsage]) -> dict[str, Any]:
    turns = inputs = outputs = 0
    cost = Decimal(0)
    for row in rows:
        turns += row.turns
        inputs += row.input_tokens
        outputs += row.output_tokens
        cost += Decimal(str(row.cost))
    return {
        "turns": turns,
        "input_tokens": inputs,
        "output_tokens": outputs,
        "total_tokens": inputs + outputs,
        "cost": money(cost),
    }
