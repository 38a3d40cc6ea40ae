"""Budgets as stored: one per user, organisation or API key (``scope``, ``subject_id``),
and what a subject spent since a moment, from the usage logs (the system of record that
the spend counters of :mod:`agenthub.billing.counters` cache)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import and_, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from agenthub.billing.models import Budget, TokenUsageLog
from agenthub.db.base import utcnow

SCOPES = ("user", "org", "api_key")
PLACES = Decimal("0.00000001")
"""Amounts are kept to 8 decimal places, as the database stores them."""
Subject = tuple[str, str]
"""``(scope, subject_id)``: a user's id, an organisation's, an API key's."""


async def find(session: AsyncSession, subjects: Sequence[Subject]) -> dict[Subject, Budget]:
    """The budgets of these subjects that exist, in one query."""
    if not subjects:
        return {}
    rows = await session.scalars(
        select(Budget).where(or_(*(and_(Budget.scope == s, Budget.subject_id == i) for s, i in subjects)))
    )
    return {(b.scope, b.subject_id): b for b in rows}


async def put(
    session: AsyncSession,
    *,
    org_id: str,
    subject: Subject,
    max_budget: Decimal,
    duration: str | None,
    existing: Budget | None,
) -> tuple[dict[str, Any] | None, Budget]:
    """Create (``existing`` None) or change a budget; returns what it was (None if new) and
    the budget. Its period starts again when it is new or its duration changes."""
    before = None if existing is None else described(existing)
    budget = existing
    if budget is None:
        budget = Budget(org_id=org_id, scope=subject[0], subject_id=subject[1])
        session.add(budget)
    if existing is None or budget.budget_duration != duration:
        budget.period_started_at = utcnow()
    budget.max_budget = max_budget
    budget.budget_duration = duration
    await session.flush()
    return before, budget


def described(budget: Budget) -> dict[str, Any]:
    """A budget as the audit log keeps it."""
    return {
        "scope": budget.scope,
        "subject_id": budget.subject_id,
        "max_budget": money(budget.max_budget),
        "budget_duration": budget.budget_duration,
        "period_started_at": budget.period_started_at.isoformat() if budget.period_started_at else None,
    }


def money(amount: Decimal) -> str:
    """USD as the API shows it: a decimal string with 8 places."""
    return f"{amount:.8f}"


async def spent_since(session: AsyncSession, *, org_id: str, subject: Subject, since: datetime) -> Decimal:
    """What the subject's turns of the organisation cost since ``since`` (unpriced: 0)."""
    scope, subject_id = subject
    query = select(func.coalesce(func.sum(TokenUsageLog.cost), 0)).where(
        TokenUsageLog.org_id == org_id, TokenUsageLog.created_at >= since
    )
    if scope == "user":
        query = query.where(TokenUsageLog.user_id == subject_id)
    elif scope == "api_key":
        query = query.where(TokenUsageLog.api_key_id == subject_id)
    total = await session.scalar(query)
    return Decimal(str(total or 0)).quantize(PLACES)
