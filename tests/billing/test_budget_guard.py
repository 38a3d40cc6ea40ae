"""The budget check itself, as the gateway calls it for every turn: against the usage logs of
a real database, with the in-process spend counters."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from decimal import Decimal

import pytest

from agenthub.access.budgets import BudgetGuard, Payer, end_user
from agenthub.billing.counters import MemorySpendCounters
from agenthub.billing.models import Budget, TokenUsageLog
from agenthub.db.base import utcnow
from agenthub.db.engine import SessionFactory, session_scope
from agenthub.errors import BudgetExceeded
from tests.runtime.helpers import migrated_sessions

ORG = "acme"


@pytest.fixture
async def sessions(database_url: str) -> AsyncIterator[SessionFactory]:
    engine, factory = await migrated_sessions(database_url)
    yield factory
    await engine.dispose()


async def spent(sessions: SessionFactory, cost: str, *, org_id: str = ORG, **who: str) -> None:
    """A stored turn of ``who`` (``user_id=...``, ``api_key_id=...``) that cost ``cost``."""
    async with session_scope(sessions) as session:
        session.add(TokenUsageLog(
            message_id=uuid.uuid4().hex, org_id=org_id, agent_id="a1", chat_id="c1", provider="openai",
            model="gpt-4o-mini", input_tokens=1, output_tokens=1, cost=Decimal(cost), created_at=utcnow(), **who,
        ))


async def test_end_users_have_the_default_budget_in_each_organisation(sessions: SessionFactory) -> None:
    guard = BudgetGuard(sessions=sessions, counters=MemorySpendCounters(), default_budget=Decimal("0.01"),
                        default_duration="1d")
    visitor = end_user("telegram", "42")
    await guard.check(Payer(ORG, visitor))
    await spent(sessions, "0.01", user_id=visitor)
    # Stored behind the usage worker's back: a check whose counter is not open yet reads it
    # from the usage logs.
    with pytest.raises(BudgetExceeded, match="Your budget is spent: 0.01000000 of 0.01000000 USD; it restarts at"):
        await BudgetGuard(sessions=sessions, counters=MemorySpendCounters(), default_budget=Decimal("0.01"),
                          default_duration="1d").check(Payer(ORG, visitor))
    # The same Telegram user talking to another organisation's agent has a budget there of its own.
    await guard.check(Payer("elsewhere", visitor))
    # Without a default budget, only budgets that were set apply.
    await BudgetGuard(sessions=sessions, counters=MemorySpendCounters()).check(Payer(ORG, visitor))


async def test_a_budget_set_elsewhere_is_seen_once_forgotten(sessions: SessionFactory) -> None:
    guard = BudgetGuard(sessions=sessions, counters=MemorySpendCounters())
    payer = Payer(ORG, "usr_ann")
    await spent(sessions, "0.5", user_id="usr_ann")
    await guard.check(payer)  # no budget: remembered as such for a few seconds
    async with session_scope(sessions) as session:
        session.add(Budget(org_id=ORG, scope="org", subject_id=ORG, max_budget=Decimal("0.4"),
                           period_started_at=utcnow().replace(year=2020)))
    await guard.check(payer)  # still what it read
    guard.forget()
    with pytest.raises(BudgetExceeded, match="The organisation's budget is spent: 0.50000000 of 0.40000000 USD"):
        await guard.check(payer)
    # An API key of that organisation, and anybody else in it, is held by it too.
    for other in (Payer(ORG, api_key_id="key_1"), Payer(ORG, end_user("web", "anonymous:10.0.0.1"))):
        with pytest.raises(BudgetExceeded):
            await guard.check(other)
    await guard.check(Payer("elsewhere", "usr_bob"))


async def test_what_the_worker_counts_is_what_the_check_reads(sessions: SessionFactory) -> None:
    from agenthub.access.budgets import spent_by
    from agenthub.billing.service import StoredUsage

    counters = MemorySpendCounters()
    guard = BudgetGuard(sessions=sessions, counters=counters, default_budget=Decimal("1"))
    payer = Payer(ORG, "usr_ann")
    await guard.check(payer)  # opens the counter at what the logs say: 0
    await counters.record(spent_by([StoredUsage(ORG, "usr_ann", None, Decimal("0.6"), utcnow())] * 2))
    with pytest.raises(BudgetExceeded, match="1.20000000 of 1.00000000"):
        await guard.check(payer)
    standing = await guard.standing(ORG, ("user", "usr_ann"))
    assert standing is not None and standing.remaining == 0 and standing.period.end is None
