"""Budget periods: a budget restarts every duration from its anchor; default budgets on
calendar boundaries (midnight UTC, Mondays, the first of the month)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from agenthub.billing.periods import add_months, check_duration, current_period, default_anchor


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def test_a_day_from_the_moment_the_budget_was_set() -> None:
    anchor = at("2026-12-01T10:30:00")
    period = current_period(anchor, "1d", at("2026-12-06T09:00:00"))
    assert (period.start, period.end) == (at("2026-12-05T10:30:00"), at("2026-12-06T10:30:00"))
    # At the very end of a period the next one has begun.
    assert current_period(anchor, "1d", at("2026-12-06T10:30:00")).start == at("2026-12-06T10:30:00")


@pytest.mark.parametrize(
    ("duration", "now", "start", "end"),
    [
        ("1d", "2026-12-06T23:59:59", "2026-12-06T00:00:00", "2026-12-07T00:00:00"),
        ("1w", "2026-12-06T12:00:00", "2026-11-30T00:00:00", "2026-12-07T00:00:00"),  # a Monday
        ("1mo", "2026-12-06T12:00:00", "2026-12-01T00:00:00", "2027-01-01T00:00:00"),
        ("3mo", "2026-12-06T12:00:00", "2026-10-01T00:00:00", "2027-01-01T00:00:00"),
        ("12h", "2026-12-06T13:00:00", "2026-12-06T12:00:00", "2026-12-07T00:00:00"),
        ("15m", "2026-12-06T13:14:00", "2026-12-06T13:00:00", "2026-12-06T13:15:00"),
        ("30s", "2026-12-06T13:14:45", "2026-12-06T13:14:30", "2026-12-06T13:15:00"),
    ],
)
def test_default_budgets_restart_on_calendar_boundaries(duration: str, now: str, start: str, end: str) -> None:
    period = current_period(default_anchor(duration), duration, at(now))
    assert (period.start, period.end) == (at(start), at(end))


def test_months_keep_the_day_or_take_the_last_one() -> None:
    anchor = at("2026-01-31T08:00:00")
    assert current_period(anchor, "1mo", at("2026-02-28T09:00:00")).start == at("2026-02-28T08:00:00")
    assert current_period(anchor, "1mo", at("2026-02-28T07:00:00")).start == at("2026-01-31T08:00:00")
    assert current_period(anchor, "1mo", at("2026-03-31T08:00:00")).start == at("2026-03-31T08:00:00")
    assert add_months(at("2024-01-31T00:00:00"), 1) == at("2024-02-29T00:00:00")
    assert add_months(at("2026-03-15T00:00:00"), -3) == at("2025-12-15T00:00:00")


def test_without_a_duration_the_period_never_ends() -> None:
    anchor = at("2026-01-01T00:00:00")
    period = current_period(anchor, None, at("2030-01-01T00:00:00"))
    assert (period.start, period.end) == (anchor, None)
    assert current_period(default_anchor(None), None, anchor).start == at("1970-01-01T00:00:00")


def test_the_period_always_holds_now() -> None:
    anchor = at("2026-03-17T05:06:07")
    now = at("2026-03-17T05:06:07")
    for step in range(0, 400 * 24, 7):
        moment = now + timedelta(hours=step)
        for duration in ("1d", "2w", "1mo", "5h"):
            period = current_period(anchor, duration, moment)
            assert period.end is not None and period.start <= moment < period.end


@pytest.mark.parametrize("duration", ["1d", "30s", "15m", "12h", "2w", "1mo", "9999d"])
def test_durations(duration: str) -> None:
    assert check_duration(duration) == duration


@pytest.mark.parametrize("duration", ["", "d", "0d", "1", "1y", "1 d", "-1d", "1.5d", "10000d", "1M"])
def test_not_durations(duration: str) -> None:
    with pytest.raises(ValueError, match="count and a unit"):
        check_duration(duration)
