"""Budget periods. A budget with a duration (``30s``, ``15m``, ``12h``, ``1d``, ``1w``,
``1mo``) restarts every duration counted from its anchor: the time it was set
(``period_started_at``), or, for the default budget of users (``USER_DEFAULT_BUDGET``), a
fixed calendar origin, so those periods start at midnight UTC, on Mondays, on the first of
the month. Without a duration a budget never restarts: its one period starts at the anchor."""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from agenthub.config import BUDGET_DURATION_PATTERN

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
FIRST_MONDAY = datetime(1970, 1, 5, tzinfo=UTC)

_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}
_DURATION = re.compile(BUDGET_DURATION_PATTERN)


@dataclass(frozen=True, slots=True)
class Period:
    start: datetime
    end: datetime | None
    """When the budget restarts; None: never."""


def check_duration(duration: str) -> str:
    """``duration`` if it is one, else ValueError."""
    if not _DURATION.fullmatch(duration):
        raise ValueError("must be a count and a unit: 30s, 15m, 12h, 1d, 1w or 1mo")
    return duration


def default_anchor(duration: str | None) -> datetime:
    """Where the periods of a default budget are counted from: weeks from a Monday, the
    rest from the first of January 1970 (midnight UTC, the first of the month)."""
    return FIRST_MONDAY if duration is not None and _split(duration)[1] == "w" else EPOCH


def current_period(anchor: datetime, duration: str | None, now: datetime) -> Period:
    """The period ``now`` falls in, of a budget anchored at ``anchor``."""
    if duration is None:
        return Period(anchor, None)
    count, unit = _split(duration)
    if unit == "mo":
        months = (now.year - anchor.year) * 12 + now.month - anchor.month
        start = add_months(anchor, months // count * count)
        if start > now:
            start = add_months(anchor, (months // count - 1) * count)
        return Period(start, add_months(start, count))
    length = timedelta(seconds=count * _UNITS[unit])
    start = anchor + (now - anchor) // length * length
    return Period(start, start + length)


def add_months(moment: datetime, months: int) -> datetime:
    """``moment`` ``months`` later (or earlier), on the same day, or the month's last one."""
    index = moment.year * 12 + moment.month - 1 + months
    year, month = divmod(index, 12)
    day = min(moment.day, calendar.monthrange(year, month + 1)[1])
    return moment.replace(year=year, month=month + 1, day=day)


def _split(duration: str) -> tuple[int, str]:
    match = _DURATION.fullmatch(check_duration(duration))
    assert match is not None
    unit = match.group(1)
    return int(duration[: -len(unit)]), unit
