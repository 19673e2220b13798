"""Generated stores for the history tests: zones with DST changes (and Lord Howe's half
hour), overnight and split shifts, special hours, ids whose order and spelling matter,
and polls over six weeks around the New York spring-forward; kept both in the test
database (by the application's models) and as the reference engine's inputs."""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone

from monitoring.engine import Shift, SpecialShift, StoreSchedule
from monitoring.models import SpecialHours
from tests import reference_engine as ref
from tests.factories import add_polls, make_store

UTC = timezone.utc
SEC = 1_000_000
#: Polls from here, about hourly, for six weeks (New York springs forward on 2023-03-12).
POLLS_FROM = datetime(2023, 2, 20, tzinfo=UTC)
POLLS_TO = datetime(2023, 4, 3, tzinfo=UTC)
H_US = 2 * 3600 * SEC


@dataclass
class Generated:
    schedules: dict[str, StoreSchedule] = field(default_factory=dict)
    polls: dict[str, list[tuple[int, bool]]] = field(default_factory=dict)  # µs, active

    def range_minutes(self, store_id: str, start: datetime, end: datetime) -> dict[str, float]:
        figures = ref.range_figures(self.schedules[store_id], self.polls[store_id], ref.us(start), ref.us(end), H_US)
        return {key: value / 60 for key, value in figures.items()}

    def day_minutes(self, store_id: str, day: date) -> dict[str, float]:
        ((_, figures),) = ref.daily_figures(self.schedules[store_id], self.polls[store_id], day, day, H_US)
        return {key: value / 60 for key, value in figures.items()}


# (store_id, zone, weekly hours (day, start, end), special rows (date, start, end))
STORES = [
    ("a10", "America/New_York", [(d, "09:00", "17:00") for d in range(5)], []),
    ("a2", "America/New_York", [(d, "18:00", "02:00") for d in range(7)], [("2023-03-12", "10:00", "14:00")]),
    ("B", "Australia/Lord_Howe", [(d, "07:00", "11:00") for d in range(7)] + [(d, "12:00", "23:30") for d in range(7)], []),
    ("b", None, [], []),  # 24x7, Chicago
    ("é-kolkata", "Asia/Kolkata", [(d, "10:00", "22:00") for d in range(6)], [("2023-03-01", None, None)]),
    ("-london", "Europe/London", [(d, "00:00", "00:00") for d in (4, 5, 6)], [("2023-03-26", "01:30", "03:00")]),
]


def generate(seed: int = 11) -> Generated:
    rng = random.Random(seed)
    out = Generated()
    for store_id, zone, hours, specials in STORES:
        store = make_store(store_id, zone=zone, hours=hours)
        SpecialHours.objects.bulk_create(
            SpecialHours(
                store=store, date=date.fromisoformat(day),
                start_time_local=time.fromisoformat(start) if start else None,
                end_time_local=time.fromisoformat(end) if end else None,
            )
            for day, start, end in specials
        )
        polls: list[tuple[datetime, bool]] = []
        moment = POLLS_FROM + timedelta(seconds=rng.randrange(3600))
        up = True
        while moment < POLLS_TO:
            if rng.random() < 0.15:
                up = not up
            polls.append((moment, up))
            # About hourly, with now and then a silence longer than H.
            gap = rng.randrange(40 * 60, 80 * 60) if rng.random() > 0.03 else rng.randrange(3 * 3600, 9 * 3600)
            moment += timedelta(seconds=gap)
        add_polls(store, polls)
        out.schedules[store_id] = StoreSchedule(
            store_id=store_id,
            timezone_name=zone,
            shifts=tuple(Shift(d, time.fromisoformat(s), time.fromisoformat(e)) for d, s, e in hours),
            special_shifts=tuple(
                SpecialShift(date.fromisoformat(day), time.fromisoformat(s) if s else None,
                             time.fromisoformat(e) if e else None)
                for day, s, e in specials
            ),
        )
        out.polls[store_id] = [(ref.us(when), active) for when, active in polls]
    return out
