"""The escalation decision (monitoring.alerts.escalation), pure: business time only (across
DST changes and shifts past midnight), nothing while closed or in the quiet window before
closing, one reminder per `remind_every`, at most max_reminders, nothing once
acknowledged. The business minutes are checked against a reference that walks the
local clock minute by minute."""

import random
from datetime import datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from monitoring.alerts.escalation import (
    STORE_DOWN_ESCALATED,
    STORE_STILL_DOWN,
    IncidentProgress,
    Step,
    policy_of,
    step_due,
)
from monitoring.engine import to_us
from monitoring.engine.types import Shift, SpecialShift, StoreSchedule

UTC = timezone.utc
MIN = 60_000_000


def at(text: str) -> int:
    return to_us(datetime.fromisoformat(text))


def policy(after=60, every=30, reminders=2, quiet=0):
    return policy_of(
        escalate_after_minutes=after, remind_every_minutes=every, max_reminders=reminders, quiet_before_close_minutes=quiet
    )


def due(schedule, started, now, *, sent=0, last=None, escalating=True, **kwargs):
    progress = IncidentProgress(started_at=at(started), escalating=escalating, steps_sent=sent, last_sent_at=last and at(last))
    return step_due(progress, schedule=schedule, policy=policy(**kwargs), now=at(now))


WEEKDAYS_9_TO_17 = StoreSchedule("s", "UTC", tuple(Shift(day, time(9), time(17)) for day in range(5)))


def test_only_business_minutes_count_and_nothing_is_sent_while_closed():
    # Monday 2026-03-02, down from 16:00; 120 business minutes: 60 on Monday, 60 on Tuesday.
    start = "2026-03-02T16:00:00+00:00"
    assert due(WEEKDAYS_9_TO_17, start, "2026-03-02T16:59:00+00:00", after=120) is None
    for closed in ("2026-03-02T17:00:00+00:00", "2026-03-02T23:00:00+00:00", "2026-03-03T08:59:00+00:00"):
        assert due(WEEKDAYS_9_TO_17, start, closed, after=120) is None
    assert due(WEEKDAYS_9_TO_17, start, "2026-03-03T09:59:59+00:00", after=120) is None
    assert due(WEEKDAYS_9_TO_17, start, "2026-03-03T10:00:00+00:00", after=120) == Step(0, STORE_DOWN_ESCALATED)
    # Friday 16:30 down, 60 minutes: the weekend is closed, due Monday 09:30.
    friday = "2026-03-06T16:30:00+00:00"
    assert due(WEEKDAYS_9_TO_17, friday, "2026-03-07T12:00:00+00:00") is None
    assert due(WEEKDAYS_9_TO_17, friday, "2026-03-09T09:29:00+00:00") is None
    assert due(WEEKDAYS_9_TO_17, friday, "2026-03-09T09:30:00+00:00") == Step(0, STORE_DOWN_ESCALATED)


def test_a_closed_special_date_counts_no_minutes():
    closed_tuesday = StoreSchedule(
        "s", "UTC", WEEKDAYS_9_TO_17.shifts, (SpecialShift(datetime(2026, 3, 3).date(), None, None),)
    )
    start = "2026-03-02T16:00:00+00:00"
    assert due(closed_tuesday, start, "2026-03-03T10:00:00+00:00", after=120) is None
    assert due(closed_tuesday, start, "2026-03-04T09:59:00+00:00", after=120) is None
    assert due(closed_tuesday, start, "2026-03-04T10:00:00+00:00", after=120) == Step(0, STORE_DOWN_ESCALATED)


NIGHTS = StoreSchedule("s", "America/New_York", tuple(Shift(day, time(0), time(6)) for day in range(7)))


def test_business_minutes_are_real_minutes_across_a_dst_change():
    # 2026-03-08, New York springs forward at 02:00: 00:00–06:00 local is five real hours.
    start = "2026-03-08T00:00:00-05:00"
    # 270 minutes after 00:00 EST is 05:30 EDT (09:30 UTC); the local clock then reads 5.5 hours.
    assert due(NIGHTS, start, "2026-03-08T04:30:00-04:00", after=270) is None
    assert due(NIGHTS, start, "2026-03-08T09:29:00+00:00", after=270) is None
    assert due(NIGHTS, start, "2026-03-08T09:30:00+00:00", after=270) == Step(0, STORE_DOWN_ESCALATED)
    # 2026-11-01 falls back: 00:00–06:00 local is seven real hours; 390 minutes: 05:30 EST.
    fall = "2026-11-01T00:00:00-04:00"
    assert due(NIGHTS, fall, "2026-11-01T05:29:00-05:00", after=390) is None
    assert due(NIGHTS, fall, "2026-11-01T05:30:00-05:00", after=390) == Step(0, STORE_DOWN_ESCALATED)


OVERNIGHT = StoreSchedule("s", "UTC", (Shift(4, time(22), time(2)),))  # Friday 22:00 → Saturday 02:00


def test_a_shift_past_midnight_is_one_stretch_and_its_close_is_the_morning():
    start = "2026-03-06T23:00:00+00:00"  # Friday
    assert due(OVERNIGHT, start, "2026-03-07T00:59:00+00:00", after=120) is None
    assert due(OVERNIGHT, start, "2026-03-07T01:00:00+00:00", after=120) == Step(0, STORE_DOWN_ESCALATED)
    # Closing at 02:00: in the last 60 minutes nothing is sent (midnight is no close).
    assert due(OVERNIGHT, start, "2026-03-07T01:00:00+00:00", after=120, quiet=60) is None
    assert due(OVERNIGHT, start, "2026-03-07T01:30:00+00:00", after=90, quiet=60) is None
    assert due(OVERNIGHT, start, "2026-03-07T00:59:00+00:00", after=90, quiet=60) == Step(0, STORE_DOWN_ESCALATED)
    assert due(OVERNIGHT, start, "2026-03-07T00:30:00+00:00", after=90, quiet=60) == Step(0, STORE_DOWN_ESCALATED)
    assert due(OVERNIGHT, start, "2026-03-06T23:59:00+00:00", after=30, quiet=60) == Step(0, STORE_DOWN_ESCALATED)


def test_the_quiet_window_holds_a_step_until_the_store_opens_again():
    start = "2026-03-02T15:00:00+00:00"
    assert due(WEEKDAYS_9_TO_17, start, "2026-03-02T16:00:00+00:00", quiet=60) is None  # 60 to close: quiet
    assert due(WEEKDAYS_9_TO_17, start, "2026-03-02T15:59:00+00:00", after=59, quiet=60) == Step(0, STORE_DOWN_ESCALATED)
    assert due(WEEKDAYS_9_TO_17, start, "2026-03-02T16:45:00+00:00", quiet=60) is None
    assert due(WEEKDAYS_9_TO_17, start, "2026-03-03T09:00:00+00:00", quiet=60) == Step(0, STORE_DOWN_ESCALATED)


def test_reminders_follow_every_remind_every_business_minutes_up_to_the_cap():
    start = "2026-03-02T09:00:00+00:00"
    escalated = "2026-03-02T10:00:00+00:00"
    assert due(WEEKDAYS_9_TO_17, start, "2026-03-02T10:29:00+00:00", sent=1, last=escalated) is None
    assert due(WEEKDAYS_9_TO_17, start, "2026-03-02T10:30:00+00:00", sent=1, last=escalated) == Step(1, STORE_STILL_DOWN)
    assert due(WEEKDAYS_9_TO_17, start, "2026-03-02T11:00:00+00:00", sent=2, last="2026-03-02T10:30:00+00:00") == Step(
        2, STORE_STILL_DOWN
    )
    # Two reminders sent: the cap, however long it stays down.
    assert due(WEEKDAYS_9_TO_17, start, "2026-03-04T12:00:00+00:00", sent=3, last="2026-03-02T11:00:00+00:00") is None
    assert due(WEEKDAYS_9_TO_17, start, "2026-03-02T12:00:00+00:00", sent=1, last=escalated, reminders=0) is None
    # A reminder's minutes are business minutes since the previous step: 16:50 → next day 09:20.
    late = "2026-03-02T16:50:00+00:00"
    assert due(WEEKDAYS_9_TO_17, start, "2026-03-03T09:19:00+00:00", sent=1, last=late) is None
    assert due(WEEKDAYS_9_TO_17, start, "2026-03-03T09:20:00+00:00", sent=1, last=late) == Step(1, STORE_STILL_DOWN)


def test_an_acknowledged_or_resolved_incident_escalates_no_further():
    start = "2026-03-02T09:00:00+00:00"
    assert due(WEEKDAYS_9_TO_17, start, "2026-03-02T12:00:00+00:00") == Step(0, STORE_DOWN_ESCALATED)
    assert due(WEEKDAYS_9_TO_17, start, "2026-03-02T12:00:00+00:00", escalating=False) is None
    assert due(WEEKDAYS_9_TO_17, start, "2026-03-02T12:00:00+00:00", sent=1, last="2026-03-02T10:00:00+00:00", escalating=False) is None


def reference_business_minutes(schedule: StoreSchedule, start: datetime, end: datetime) -> int:
    """Whole UTC minutes in [start, end) whose local wall-clock time is inside a weekly shift."""
    zone = ZoneInfo(schedule.timezone_name)
    count, moment = 0, start
    while moment < end:
        local = moment.astimezone(zone)
        for shift in schedule.shifts:
            minutes = local.hour * 60 + local.minute
            lo, hi = shift.start.hour * 60 + shift.start.minute, shift.end.hour * 60 + shift.end.minute
            same_day = local.weekday() == shift.day_of_week and lo <= minutes < (hi if hi > lo else 24 * 60)
            next_day = hi <= lo and local.weekday() == (shift.day_of_week + 1) % 7 and minutes < hi
            if same_day or next_day:
                count += 1
                break
        moment += timedelta(minutes=1)
    return count


@pytest.mark.parametrize("schedule", [NIGHTS, OVERNIGHT, WEEKDAYS_9_TO_17], ids=["nights-new-york", "overnight", "weekdays"])
def test_escalation_is_due_exactly_when_the_reference_counts_enough_business_minutes(schedule):
    rng = random.Random(7)
    base = datetime(2026, 3, 5, tzinfo=UTC)  # spans the spring-forward weekend
    for _ in range(40):
        start = base + timedelta(minutes=rng.randrange(0, 4 * 24 * 60))
        now = start + timedelta(minutes=rng.randrange(0, 3 * 24 * 60))
        after = rng.choice([1, 30, 90, 240])
        counted = reference_business_minutes(schedule, start, now)
        open_now = reference_business_minutes(schedule, now, now + timedelta(minutes=1)) == 1
        expected = Step(0, STORE_DOWN_ESCALATED) if open_now and counted >= after else None
        assert due(schedule, start.isoformat(), now.isoformat(), after=after) == expected, (start, now, after, counted)
