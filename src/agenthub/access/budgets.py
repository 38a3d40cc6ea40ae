"""Budgets enforced at a turn: before a message is stored or the model called, the budgets of
whoever pays for the turn (its user, its API key, its organisation) are checked, and a turn
at 100 % of any of them is refused (``BudgetExceeded``, 402). Nobody is exempt: owners and
API keys included. A user (an end user of a public agent too) without a budget of their own
has ``USER_DEFAULT_BUDGET``, per ``USER_BUDGET_DURATION``.

The check reads budgets from a cache (``CACHE_SECONDS``; a change made through this process
is seen at once, by the others within that time) and what was spent this period from the
spend counters (:mod:`agenthub.billing.counters`): one round trip to Redis, or none when
embedded, and none at all for a caller no budget applies to. A cost is counted when its
turn's usage is stored, so turns running at the same time can together overspend a budget
by at most what those turns cost.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from agenthub.billing import budgets as stored_budgets
from agenthub.billing.budgets import Subject, money
from agenthub.billing.counters import SpendCounters, Spent, epoch_ms, from_units, to_units
from agenthub.billing.models import Budget
from agenthub.billing.periods import Period, current_period, default_anchor
from agenthub.billing.service import StoredUsage
from agenthub.config import Settings
from agenthub.db.base import iso_seconds, utcnow
from agenthub.db.engine import SessionFactory
from agenthub.errors import BudgetExceeded

CACHE_SECONDS = 5.0
COUNTER_TTL = 600.0
"""Seconds a spend counter lives before it is rebuilt from the usage logs."""
_WHOSE = {"user": "Your", "org": "The organisation's", "api_key": "This API key's"}


@dataclass(frozen=True, slots=True)
class Payer:
    """Whose turn it is: ``user_id`` is a platform user's id or an end user's
    ``{channel}:{platform_user_id}``; an API key's turns have its id and no user."""

    org_id: str
    user_id: str | None = None
    api_key_id: str | None = None

    def subjects(self) -> list[Subject]:
        found: list[Subject] = [("org", self.org_id)]
        if self.user_id:
            found.append(("user", self.user_id))
        if self.api_key_id:
            found.append(("api_key", self.api_key_id))
        return found


def end_user(channel: str, platform_user_id: str) -> str:
    """The ``user_id`` a turn of an end user (an anonymous visitor, a Telegram user) is
    billed to: ``telegram:42``. Their budget is ``USER_DEFAULT_BUDGET``, per organisation."""
    return f"{channel}:{platform_user_id}"


def counter_subject(org_id: str, subject: Subject) -> str:
    """The name of a subject's spend counter (an end user's spend is per organisation)."""
    scope, subject_id = subject
    return f"{scope}:{org_id}:{subject_id}"


@dataclass(frozen=True, slots=True)
class Rule:
    """A budget in force: stored, or the default of users."""

    subject: Subject
    max_budget: Decimal
    duration: str | None
    anchor: datetime

    @classmethod
    def of(cls, budget: Budget) -> Rule:
        return cls((budget.scope, budget.subject_id), budget.max_budget, budget.budget_duration,
                   budget.period_started_at)


@dataclass(frozen=True, slots=True)
class Standing:
    """A budget and what was spent of it this period."""

    rule: Rule
    period: Period
    spend: Decimal

    @property
    def spent(self) -> bool:
        return self.spend >= self.rule.max_budget

    @property
    def remaining(self) -> Decimal:
        return max(Decimal(0), self.rule.max_budget - self.spend)


class BudgetGuard:
    def __init__(
        self,
        *,
        sessions: SessionFactory,
        counters: SpendCounters,
        default_budget: Decimal | None = None,
        default_duration: str | None = None,
    ) -> None:
        self._sessions = sessions
        self._counters = counters
        self._default = default_budget
        self._default_duration = default_duration
        self._known: dict[Subject, tuple[Rule | None, float]] = {}

    @classmethod
    def from_settings(cls, settings: Settings, *, sessions: SessionFactory, counters: SpendCounters) -> BudgetGuard:
        return cls(sessions=sessions, counters=counters, default_budget=settings.user_default_budget,
                   default_duration=settings.user_budget_duration)

    async def check(self, payer: Payer) -> None:
        """Raise ``BudgetExceeded`` when a budget of the payer is spent."""
        rules = await self._rules(payer.subjects())
        if not rules:
            return
        for standing in await self._standings(payer.org_id, rules):
            if standing.spent:
                raise _exceeded(standing)

    async def standing(self, org_id: str, subject: Subject) -> Standing | None:
        """The subject's budget now, read afresh (None when it has none)."""
        self.forget(subject)
        rules = await self._rules([subject])
        return (await self._standings(org_id, rules))[0] if rules else None

    async def standing_of(self, org_id: str, rule: Rule) -> Standing:
        """What was spent of ``rule`` this period."""
        return (await self._standings(org_id, [rule]))[0]

    def forget(self, subject: Subject | None = None) -> None:
        """Read the budget (or every budget) from the database next time: after a change."""
        if subject is None:
            self._known.clear()
        else:
            self._known.pop(subject, None)

    async def _rules(self, subjects: Sequence[Subject]) -> list[Rule]:
        now = time.monotonic()
        found: dict[Subject, Rule | None] = {}
        missing: list[Subject] = []
        for subject in subjects:
            known = self._known.get(subject)
            if known is not None and known[1] > now:
                found[subject] = known[0]
            else:
                missing.append(subject)
        if missing:
            async with self._sessions() as session:
                stored = await stored_budgets.find(session, missing)
            if len(self._known) > 50_000:
                self._known = {s: k for s, k in self._known.items() if k[1] > now}
            for subject in missing:
                budget = stored.get(subject)
                found[subject] = None if budget is None else Rule.of(budget)
                self._known[subject] = (found[subject], now + CACHE_SECONDS)
        return [rule for subject in subjects if (rule := found[subject] or self._default_rule(subject))]

    def _default_rule(self, subject: Subject) -> Rule | None:
        if subject[0] != "user" or self._default is None:
            return None
        return Rule(subject, self._default, self._default_duration, default_anchor(self._default_duration))

    async def _standings(self, org_id: str, rules: Sequence[Rule]) -> list[Standing]:
        now = utcnow()
        periods = [current_period(rule.anchor, rule.duration, now) for rule in rules]
        slots = [(counter_subject(org_id, r.subject), epoch_ms(p.start)) for r, p in zip(rules, periods, strict=True)]
        counted = await self._counters.read(slots)
        standings = []
        for rule, period, slot, units in zip(rules, periods, slots, counted, strict=True):
            if units is None:
                units = await self._rebuild(org_id, rule, period, slot)
            standings.append(Standing(rule, period, from_units(units)))
        return standings

    async def _rebuild(self, org_id: str, rule: Rule, period: Period, slot: tuple[str, int]) -> int:
        """Open the counter (so the usage worker adds to it from now on), then add what the
        usage logs say was spent this period: a turn stored in between counts twice, none
        is missed. A counter someone else is opening: the usage logs are the answer."""
        opened = await self._counters.open(*slot, ttl=COUNTER_TTL)
        async with self._sessions() as session:
            spent = await stored_budgets.spent_since(session, org_id=org_id, subject=rule.subject, since=period.start)
        units = to_units(spent)
        if opened:
            await self._counters.add(*slot, units)
        return units


def spent_by(stored: Sequence[StoredUsage]) -> list[Spent]:
    """What the usage worker adds to the spend counters for turns it has stored."""
    spent: list[Spent] = []
    for usage in stored:
        if not usage.cost:
            continue
        units, at = to_units(usage.cost), epoch_ms(usage.at)
        payer = Payer(usage.org_id, usage.user_id, usage.api_key_id)
        spent.extend(Spent(counter_subject(usage.org_id, s), at, units) for s in payer.subjects())
    return spent


def _exceeded(standing: Standing) -> BudgetExceeded:
    rule = standing.rule
    resets = f"; it restarts at {iso_seconds(standing.period.end)}" if standing.period.end else ""
    return BudgetExceeded(
        f"{_WHOSE[rule.subject[0]]} budget is spent: {money(standing.spend)} of {money(rule.max_budget)} USD"
        f"{resets}. Nothing was sent to the model."
    )
