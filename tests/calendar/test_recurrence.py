"""When events run: cron on the wall clock of the event's zone, across daylight-saving changes."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from agenthub.calendar import recurrence

BERLIN = recurrence.zone("Europe/Berlin")
NEW_YORK = recurrence.zone("America/New_York")


def runs(cron: str, tz, after: datetime, count: int) -> list[datetime]:  # type: ignore[no-untyped-def]
    found = []
    for _ in range(count):
        after = recurrence.next_after(cron, tz, after)
        found.append(after)
    return found


def test_a_daily_nine_oclock_stays_at_nine_in_berlin_across_the_spring_change() -> None:
    # Clocks go from 02:00 to 03:00 on 29 March 2026: 09:00 is 08:00 UTC before, 07:00 UTC after.
    found = runs("0 9 * * *", BERLIN, datetime(2026, 3, 27, 12, tzinfo=UTC), 3)
    assert found == [datetime(2026, 3, 28, 8, tzinfo=UTC), datetime(2026, 3, 29, 7, tzinfo=UTC),
                     datetime(2026, 3, 30, 7, tzinfo=UTC)]
    assert {moment.astimezone(BERLIN).strftime("%H:%M") for moment in found} == {"09:00"}


def test_a_daily_nine_oclock_stays_at_nine_in_new_york_across_the_autumn_change() -> None:
    # Clocks go back from 02:00 to 01:00 on 1 November 2026: 09:00 is 13:00 UTC, then 14:00 UTC.
    found = runs("0 9 * * *", NEW_YORK, datetime(2026, 10, 30, 20, tzinfo=UTC), 3)
    assert found == [datetime(2026, 10, 31, 13, tzinfo=UTC), datetime(2026, 11, 1, 14, tzinfo=UTC),
                     datetime(2026, 11, 2, 14, tzinfo=UTC)]


def test_a_time_the_clock_skips_runs_once_just_after_the_jump() -> None:
    found = runs("30 2 * * *", BERLIN, datetime(2026, 3, 28, 12, tzinfo=UTC), 2)
    assert [m.astimezone(BERLIN).strftime("%d %H:%M") for m in found] == ["29 03:30", "30 02:30"]


def test_a_time_the_clock_shows_twice_runs_once() -> None:
    # 25 October 2026 in Berlin: 02:00-03:00 happens twice; a half-hourly schedule runs each
    # wall-clock time once, so never twice in a row at one local time, and always forward.
    found = runs("*/30 * * * *", BERLIN, datetime(2026, 10, 24, 23, 10, tzinfo=UTC), 6)
    local = [m.astimezone(BERLIN).strftime("%H:%M") for m in found]
    assert local == ["01:30", "02:00", "02:30", "03:00", "03:30", "04:00"]
    assert found == sorted(set(found))


def test_first_run_of_a_one_time_event_is_its_start_even_in_the_past() -> None:
    start = datetime(2020, 5, 1, 7, tzinfo=UTC)
    assert recurrence.first_run(start_at=start, cron=None, tz=BERLIN, now=datetime(2026, 1, 1, tzinfo=UTC)) == start


def test_first_run_of_a_recurring_event_is_at_or_after_its_start_and_not_before_now() -> None:
    start = datetime(2030, 6, 1, 7, tzinfo=UTC)  # 09:00 in Berlin (summer)
    now = datetime(2026, 1, 1, tzinfo=UTC)
    assert recurrence.first_run(start_at=start, cron="0 9 * * *", tz=BERLIN, now=now) == start
    now = datetime(2031, 1, 10, 12, tzinfo=UTC)
    assert recurrence.first_run(start_at=start, cron="0 9 * * *", tz=BERLIN, now=now) == datetime(
        2031, 1, 11, 8, tzinfo=UTC
    )


def test_a_one_time_event_has_no_following_run() -> None:
    assert recurrence.following_run(cron=None, tz=BERLIN, now=datetime(2026, 1, 1, tzinfo=UTC)) is None


def test_a_naive_start_is_a_wall_clock_time_in_the_events_zone() -> None:
    assert recurrence.to_utc(datetime(2026, 7, 1, 9), BERLIN) == datetime(2026, 7, 1, 7, tzinfo=UTC)
    assert recurrence.to_utc(datetime(2026, 7, 1, 9, tzinfo=UTC), BERLIN) == datetime(2026, 7, 1, 9, tzinfo=UTC)


@pytest.mark.parametrize("name", ["Mars/Olympus", "", "../etc/passwd", "/usr/share/zoneinfo/UTC", " UTC"])
def test_names_that_are_not_iana_zones_are_refused(name: str) -> None:
    with pytest.raises(ValueError, match="IANA"):
        recurrence.zone(name)


@pytest.mark.parametrize("cron", ["every day", "61 * * * *", "0 0 30 2 *"])
def test_cron_that_is_not_valid_or_never_runs_is_refused(cron: str) -> None:
    with pytest.raises(ValueError):
        recurrence.check_cron(cron)
