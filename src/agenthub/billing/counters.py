"""What each budget's subject (a user, an organisation, an API key) has spent in its current
period, kept where a turn's budget check reads it in one round trip: in Redis in production,
in this process when embedded.

A subject has one counter per period that someone checked: ``period`` is the period's
start (epoch milliseconds), the value what was spent since, in units of 10⁻⁸ USD (integers:
exact, as the database's costs are). Counters are caches of the usage logs:

- the budget check opens a missing counter (:meth:`SpendCounters.open`) and, if it was the
  one to open it, adds what the database says was spent since the period started;
- the usage worker, once a turn's usage is stored, adds its cost to every open period of
  the subject that had started when it was stored (:meth:`SpendCounters.record`).

A turn stored while a counter is being opened may be counted twice (never not at all), so
a budget is never overspent for it. Counters expire ``ttl`` seconds after they were opened
and are rebuilt from the database: whatever drifted (a worker that died between storing and
counting) is put right then.
"""

from __future__ import annotations

import math
import time
from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

UNIT = Decimal("0.00000001")


def to_units(amount: Decimal) -> int:
    return int(amount.quantize(UNIT).scaleb(8))


def from_units(units: int) -> Decimal:
    return (Decimal(units) * UNIT).quantize(UNIT)


def epoch_ms(moment: datetime) -> int:
    """A moment as periods and stored turns are compared: milliseconds, rounded down."""
    return math.floor(moment.timestamp() * 1000)


@dataclass(frozen=True, slots=True)
class Spent:
    """A stored turn's cost for one subject: ``at`` is when it was stored (epoch milliseconds)."""

    subject: str
    at: int
    units: int


class SpendCounters(ABC):
    @abstractmethod
    async def read(self, slots: Sequence[tuple[str, int]]) -> list[int | None]:
        """The spend of each ``(subject, period)``; None where no counter is open."""

    @abstractmethod
    async def open(self, subject: str, period: int, *, ttl: float) -> bool:
        """Open the counter at 0 unless it is open; True when this call opened it. The
        subject's counters of earlier periods are dropped (their periods are over), and
        what is left expires ``ttl`` seconds from now."""

    @abstractmethod
    async def add(self, subject: str, period: int, units: int) -> None:
        """Add to an open counter (what the database said when it was opened)."""

    @abstractmethod
    async def record(self, spent: Sequence[Spent]) -> None:
        """Add each cost to the open counters of its subject whose period started by ``at``."""

    async def close(self) -> None:
        return None


@dataclass
class _Periods:
    until: float
    spend: dict[int, int] = field(default_factory=dict)


class MemorySpendCounters(SpendCounters):
    """The embedded counters: the gateway and the usage worker share this process."""

    def __init__(self) -> None:
        self._subjects: dict[str, _Periods] = {}

    def _live(self, subject: str) -> _Periods | None:
        periods = self._subjects.get(subject)
        if periods is not None and periods.until <= time.monotonic():
            del self._subjects[subject]
            return None
        return periods

    async def read(self, slots: Sequence[tuple[str, int]]) -> list[int | None]:
        found: list[int | None] = []
        for subject, period in slots:
            periods = self._live(subject)
            found.append(None if periods is None else periods.spend.get(period))
        return found

    async def open(self, subject: str, period: int, *, ttl: float) -> bool:
        periods = self._live(subject)
        if periods is not None and period in periods.spend:
            return False
        if periods is None:
            periods = self._subjects[subject] = _Periods(until=0.0)
        periods.spend = {p: units for p, units in periods.spend.items() if p > period}
        periods.spend[period] = 0
        periods.until = time.monotonic() + ttl
        if len(self._subjects) > 100_000:
            self._forget_expired()
        return True

    async def add(self, subject: str, period: int, units: int) -> None:
        periods = self._live(subject)
        if periods is not None and period in periods.spend:
            periods.spend[period] += units

    async def record(self, spent: Sequence[Spent]) -> None:
        for item in spent:
            periods = self._live(item.subject)
            if periods is None:
                continue
            for period in periods.spend:
                if period <= item.at:
                    periods.spend[period] += item.units

    def _forget_expired(self) -> None:
        now = time.monotonic()
        self._subjects = {s: p for s, p in self._subjects.items() if p.until > now}


def open_counters(redis_url: str | None, *, prefix: str = "") -> SpendCounters:
    """The entry points' choice, as for the bus: Redis when a URL is given."""
    if redis_url:
        from agenthub.billing.redis_counters import RedisSpendCounters

        return RedisSpendCounters.from_url(redis_url, prefix=prefix)
    return MemorySpendCounters()
