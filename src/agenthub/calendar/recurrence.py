"""When an event runs: pure functions of its schedule, no database.

Times are stored in UTC; a schedule is read in the event's own time zone (IANA names,
``Europe/Berlin``), so a daily ``0 9 * * *`` event runs at 09:00 on the wall clock of that zone
before and after a daylight-saving change (07:00 UTC in summer, 08:00 UTC in winter).

Cron is computed on the zone's wall clock (naive local times, croniter), then each local
time is placed in the zone:

- a time the clock skips (``02:30`` on the night it jumps from 02:00 to 03:00) runs at the
  same distance past the jump (``03:30``), once;
- a time the clock shows twice (``02:30`` on the night it goes back) runs at its first
  showing, once: an hourly event has one run fewer in the repeated hour, never two at
  one wall-clock time.

Cron is croniter's: five fields (minute hour day month weekday), six with seconds last, or seven
with the year after the seconds.
"""

from __future__ import annotations

import functools
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from croniter import CroniterError, croniter  # type: ignore[import-untyped]

MAX_SEARCH = 1000
"""Cron steps tried at most for one next time before a schedule counts as never running."""


NOT_ZONES = frozenset({"localtime", "Factory"})
"""Files of the zone database that name no place: this machine's own zone, a placeholder."""
FIRST_YEAR, LAST_YEAR = 1970, 2199
"""The years an event's start may be in."""


@functools.cache
def _zone_names() -> frozenset[str]:
    """The IANA zones the system (or the tzdata package) knows, read once."""
    return frozenset(available_timezones()) - NOT_ZONES


def zone(name: str) -> ZoneInfo:
    """The IANA time zone ``name``; ValueError for a name that is not one."""
    if name not in _zone_names():
        raise ValueError(f"{name!r} is not an IANA time zone name (such as Europe/Berlin or UTC)")
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        raise ValueError(f"{name!r} is not an IANA time zone name (such as Europe/Berlin or UTC)") from None


def check_year(moment: datetime) -> None:
    """ValueError for a time outside the years an event may start in (far ones can't be
    placed in every zone)."""
    if not FIRST_YEAR <= moment.year <= LAST_YEAR:
        raise ValueError(f"must be in the years {FIRST_YEAR} to {LAST_YEAR}")


def check_cron(expression: str) -> None:
    """ValueError unless ``expression`` is a cron croniter takes that runs at some time."""
    if not croniter.is_valid(expression):
        raise ValueError(
            f"{expression!r} is not a valid cron expression (minute hour day month weekday, then optionally seconds and year)"
        )
    try:
        croniter(expression, datetime(2000, 1, 1)).get_next(datetime)
    except (CroniterError, ValueError, OverflowError):
        raise ValueError(f"{expression!r} never runs (no such date)") from None


def placed(local: datetime, tz: ZoneInfo) -> datetime:
    """The UTC moment of the naive wall-clock time ``local`` in ``tz``: a time shown twice is
    its first showing; a skipped time is as far past the jump as it was meant to be past the
    time before it (Python's ``fold=0`` rule, which gives exactly that)."""
    return local.replace(tzinfo=tz, fold=0).astimezone(UTC)


def to_utc(moment: datetime, tz: ZoneInfo) -> datetime:
    """``moment`` in UTC; a naive one is a wall-clock time in ``tz``."""
    if moment.tzinfo is None:
        return placed(moment, tz)
    return moment.astimezone(UTC)


def next_after(expression: str, tz: ZoneInfo, after: datetime) -> datetime:
    """The first time strictly after ``after`` (aware) that ``expression`` names on the wall
    clock of ``tz``, in UTC. ValueError when the schedule has no such time."""
    after_utc = after.astimezone(UTC)
    local = after_utc.astimezone(tz).replace(tzinfo=None, fold=0)
    try:
        steps = croniter(expression, local)
        for _ in range(MAX_SEARCH):
            candidate = placed(steps.get_next(datetime), tz)
            if candidate > after_utc:  # a step inside a repeated hour may fall before it
                return candidate
    except (CroniterError, ValueError, OverflowError) as error:
        raise ValueError(f"{expression!r} has no next run: {error}") from None
    raise ValueError(f"{expression!r} has no next run after {after_utc.isoformat()}")


def first_run(*, start_at: datetime, cron: str | None, tz: ZoneInfo, now: datetime) -> datetime:
    """When a new (or rescheduled) event runs first, in UTC. One-time: ``start_at`` itself
    (in the past: it is due at once). Recurring: the first cron time at or after ``start_at``,
    and not before ``now`` (a schedule set up today does not count yesterday's runs as missed)."""
    if cron is None:
        return start_at.astimezone(UTC)
    since = max(start_at.astimezone(UTC), now.astimezone(UTC))
    return next_after(cron, tz, since - timedelta(microseconds=1))


def following_run(*, cron: str | None, tz: ZoneInfo, now: datetime) -> datetime | None:
    """When an event runs next once it has been taken at ``now`` (fired or skipped): the next
    cron time after ``now``; None for a one-time event (it is done)."""
    if cron is None:
        return None
    return next_after(cron, tz, now)
