"""Setting budgets: an owner or admin sets the budget of a user of their organisation, of the
organisation itself, or of one of its API keys. Anything of another organisation is not
found. Every change is in the audit log, and the budget check sees it at once."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from agenthub.access.budgets import BudgetGuard, Rule, Standing
from agenthub.accounts.models import ApiKey, User
from agenthub.audit import service as audit_service
from agenthub.billing import budgets as stored_budgets
from agenthub.billing.budgets import Subject, money
from agenthub.billing.schemas import BudgetUpdate
from agenthub.caller import Caller
from agenthub.db.engine import SessionFactory
from agenthub.errors import NotFound


async def set_budget(
    session: AsyncSession,
    *,
    guard: BudgetGuard,
    caller: Caller,
    subject: Subject,
    data: BudgetUpdate,
    default_duration: str | None,
    address: str | None,
) -> Standing:
    """Create or change the subject's budget and commit. A ``budget_duration`` left out
    keeps the budget's; a new user budget takes ``default_duration``
    (``USER_BUDGET_DURATION``), any other never restarts."""
    await _check_subject(session, org_id=caller.org_id, subject=subject)
    existing = (await stored_budgets.find(session, [subject])).get(subject)
    if "budget_duration" in data.model_fields_set:
        duration = data.budget_duration
    elif existing is not None:
        duration = existing.budget_duration
    else:
        duration = default_duration if subject[0] == "user" else None
    before, budget = await stored_budgets.put(
        session, org_id=caller.org_id, subject=subject, max_budget=data.max_budget, duration=duration,
        existing=existing,
    )
    audit_service.record(
        session, caller=caller, action="budget.update" if before else "budget.create", resource_type="budget",
        resource_id=f"{subject[0]}:{subject[1]}", before=before, after=stored_budgets.described(budget),
        address=address,
    )
    rule = Rule.of(budget)
    await session.commit()  # and its connection is free: reading the spend may take one
    guard.forget(subject)
    return await guard.standing_of(caller.org_id, rule)


async def get_budget(
    sessions: SessionFactory, *, guard: BudgetGuard, caller: Caller, subject: Subject
) -> Standing | None:
    """The subject's budget now (None when it has none); NotFound for a subject that is not
    the caller's organisation's. The session is closed before the spend is read (which may
    take a connection of its own)."""
    async with sessions() as session:
        await _check_subject(session, org_id=caller.org_id, subject=subject)
    return await guard.standing(caller.org_id, subject)


async def _check_subject(session: AsyncSession, *, org_id: str, subject: Subject) -> None:
    scope, subject_id = subject
    if scope == "org":
        found = subject_id == org_id
    elif scope == "user":
        found = await session.scalar(select(User.id).where(User.id == subject_id, User.org_id == org_id)) is not None
    else:
        found = await session.scalar(
            select(ApiKey.id).where(ApiKey.id == subject_id, ApiKey.org_id == org_id, ApiKey.revoked_at.is_(None))
        ) is not None
    if not found:
        raise NotFound(f"{_NAMES[scope]} {subject_id!r} not found")


_NAMES = {"org": "organisation", "user": "user", "api_key": "API key"}


def shown(standing: Standing | None) -> dict[str, Any]:
    """A budget's standing as the API shows it (nulls when there is none)."""
    if standing is None:
        return dict.fromkeys(("scope", "max_budget", "spend", "remaining", "budget_duration", "resets_at"))
    rule = standing.rule
    return {
        "scope": rule.subject[0],
        "subject_id": rule.subject[1],
        "max_budget": money(rule.max_budget),
        "spend": money(standing.spend),
        "remaining": money(standing.remaining),
        "budget_duration": rule.duration,
        "resets_at": standing.period.end,
        "period_started_at": standing.period.start,
    }
