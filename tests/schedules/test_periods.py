"""The periods of scheduled reports (docs/rules.md §11): Monday 00:00 to Monday 00:00 and
the 1st to the next 1st, at the midnights of the schedule's own zone, DST weeks and
month ends included; the local midnights are the ones the engine's daily figures use."""

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from monitoring.engine import daily_uptime
from monitoring.engine.types import Polls, StoreSchedule
from monitoring.schedules.periods import MONTHLY, WEEKLY, local_midnight, period_after, period_holding

NEW_YORK = "America/New_York"
HOUR = timedelta(hours=1)


def utc(*args) -> datetime:
    return datetime(*args, tzinfo=UTC)


def test_a_week_runs_monday_to_monday_at_the_zones_midnight():
    # Wednesday 2023-01-25 12:00 UTC: Paris is UTC+1, Tokyo UTC+9, New York UTC−5.
    moment = utc(2023, 1, 25, 12)
    assert period_holding(period=WEEKLY, zone="Europe/Paris", moment=moment) == (utc(2023, 1, 22, 23), utc(2023, 1, 29, 23))
    assert period_holding(period=WEEKLY, zone="Asia/Tokyo", moment=moment) == (utc(2023, 1, 22, 15), utc(2023, 1, 29, 15))
    assert period_holding(period=WEEKLY, zone=NEW_YORK, moment=moment) == (utc(2023, 1, 23, 5), utc(2023, 1, 30, 5))


def test_the_week_a_moment_falls_in_depends_on_the_zone():
    # Sunday 2023-01-29 20:00 UTC is already Monday in Tokyo, still Sunday in New York.
    moment = utc(2023, 1, 29, 20)
    tokyo_start, _ = period_holding(period=WEEKLY, zone="Asia/Tokyo", moment=moment)
    new_york_start, _ = period_holding(period=WEEKLY, zone=NEW_YORK, moment=moment)
    assert tokyo_start == utc(2023, 1, 29, 15) and new_york_start == utc(2023, 1, 23, 5)


def test_a_moment_at_the_start_of_a_period_is_in_it():
    start = utc(2023, 1, 23, 5)
    assert period_holding(period=WEEKLY, zone=NEW_YORK, moment=start)[0] == start
    assert period_holding(period=WEEKLY, zone=NEW_YORK, moment=start - timedelta(microseconds=1))[1] == start


def test_dst_weeks_are_167_and_169_hours_long():
    spring = period_holding(period=WEEKLY, zone=NEW_YORK, moment=utc(2023, 3, 12, 12))
    assert spring == (utc(2023, 3, 6, 5), utc(2023, 3, 13, 4))
    assert spring[1] - spring[0] == 167 * HOUR
    autumn = period_holding(period=WEEKLY, zone=NEW_YORK, moment=utc(2023, 11, 5, 12))
    assert autumn == (utc(2023, 10, 30, 4), utc(2023, 11, 6, 5))
    assert autumn[1] - autumn[0] == 169 * HOUR
    # London's and Lord Howe's (half an hour) changes.
    london = period_holding(period=WEEKLY, zone="Europe/London", moment=utc(2023, 3, 26, 12))
    assert london[1] - london[0] == 167 * HOUR
    lord_howe = period_holding(period=WEEKLY, zone="Australia/Lord_Howe", moment=utc(2023, 4, 2, 12))
    assert lord_howe[1] - lord_howe[0] == 168 * HOUR + 30 * timedelta(minutes=1)


def test_a_midnight_that_does_not_exist_maps_as_business_hours_do():
    # Santiago springs forward at 00:00 (to 01:00) on Sunday 2023-09-03: that midnight maps
    # to the instant it would have been under the old offset (−04:00), i.e. 01:00 new time.
    assert local_midnight(date(2023, 9, 3), zone="America/Santiago") == utc(2023, 9, 3, 4)
    # Havana falls back at 01:00 to 00:00 on 2023-11-05: midnight is its first occurrence.
    assert local_midnight(date(2023, 11, 5), zone="America/Havana") == utc(2023, 11, 5, 4)


def test_months_run_from_the_first_to_the_next_first():
    paris = "Europe/Paris"
    assert period_holding(period=MONTHLY, zone=paris, moment=utc(2024, 2, 29, 12)) == (utc(2024, 1, 31, 23), utc(2024, 2, 29, 23))
    # 2024-02-29 23:30 UTC is already March 1st in Paris.
    assert period_holding(period=MONTHLY, zone=paris, moment=utc(2024, 2, 29, 23, 30))[0] == utc(2024, 2, 29, 23)
    # March holds the spring change (743 hours), October the autumn one (745).
    march = period_holding(period=MONTHLY, zone=paris, moment=utc(2024, 3, 15))
    assert march == (utc(2024, 2, 29, 23), utc(2024, 3, 31, 22)) and march[1] - march[0] == (31 * 24 - 1) * HOUR
    october = period_holding(period=MONTHLY, zone=paris, moment=utc(2024, 10, 15))
    assert october[1] - october[0] == (31 * 24 + 1) * HOUR
    december = period_holding(period=MONTHLY, zone=NEW_YORK, moment=utc(2023, 12, 31, 23))
    assert december == (utc(2023, 12, 1, 5), utc(2024, 1, 1, 5))
    assert period_after(period=MONTHLY, zone=NEW_YORK, start=december[0]) == (utc(2024, 1, 1, 5), utc(2024, 2, 1, 5))


@given(
    moment=st.datetimes(min_value=datetime(2001, 1, 1), max_value=datetime(2099, 1, 1), timezones=st.just(UTC)),
    zone=st.sampled_from([NEW_YORK, "Europe/London", "Australia/Lord_Howe", "Asia/Kolkata", "America/Santiago", "Pacific/Apia"]),
    period=st.sampled_from([WEEKLY, MONTHLY]),
)
def test_periods_hold_their_moment_and_follow_each_other(moment, zone, period):
    start, end = period_holding(period=period, zone=zone, moment=moment)
    assert start <= moment < end
    local = start.astimezone(ZoneInfo(zone)).date()
    assert local.weekday() == 0 if period == WEEKLY else local.day == 1
    assert period_after(period=period, zone=zone, start=start)[0] == end
    assert period_holding(period=period, zone=zone, moment=end)[0] == end


@pytest.mark.parametrize("zone", [NEW_YORK, "Europe/London", "Australia/Lord_Howe", "America/Santiago"])
def test_week_bounds_are_the_engines_local_midnights(zone):
    """The engine's daily figures cut days at the same midnights (docs/rules.md §11)."""
    first, last = date(2023, 1, 2), date(2023, 12, 31)
    figures = daily_uptime(
        schedules=[StoreSchedule(store_id="s", timezone_name=zone, shifts=())], polls=Polls.empty(), first=first, last=last,
    )
    for k, day in enumerate(figures.dates):
        assert local_midnight(day, zone=zone) == utc(1970, 1, 1) + timedelta(microseconds=int(figures.starts_us[0, k]))
