"""What the generated data looks like: file names, the default end, and the share of
each kind of store, hours and polls (shaped like the public data set)."""

from __future__ import annotations

from datetime import datetime, timezone

import numpy as np


#: The latest poll of the public data set; the default end keeps output deterministic.
DEFAULT_END = datetime(2023, 1, 25, 18, 13, 22, tzinfo=timezone.utc)

STATUS_FILE = "store_status.csv"
HOURS_FILE = "menu_hours.csv"
TIMEZONES_FILE = "timezones.csv"

EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)
US = 1_000_000  # microseconds per second
MIN = 60 * US
HOUR = 60 * MIN
DAY = 24 * HOUR
_INT64_MAX = np.iinfo(np.int64).max

# Poll spacing, in microseconds (inclusive bounds).
SPACING_MIN = 55 * MIN
SPACING_MAX = 65 * MIN

# Zones with a row: weights (roughly the public mix, plus some awkward zones).
ZONE_WEIGHTS: dict[str, float] = {
    "America/New_York": 0.50,
    "America/Los_Angeles": 0.20,
    "America/Chicago": 0.12,
    "America/Denver": 0.04,
    "America/Phoenix": 0.04,  # no DST
    "America/Boise": 0.02,
    "Europe/London": 0.02,
    "Asia/Kolkata": 0.02,  # +05:30, no DST
    "Australia/Lord_Howe": 0.02,  # 30-minute DST shift
    "Asia/Beirut": 0.02,
}

# Per-store kinds, as exact fractions of the stores (see _quota).
TZ_KINDS = {"none": 0.05, "empty": 0.01}  # rest: a named zone
HOURS_KINDS = {
    "none": 0.18,  # no rows: open 24x7
    "allday": 0.10,  # 00:00:00-23:59:59 (or 23:59:00) every day
    "split": 0.12,  # lunch and dinner shifts
    "overnight_single": 0.05,  # one row per day, end < start
    "overnight_split": 0.05,  # public style: y-23:59:59 and next day 00:00:00-x
    "full24": 0.03,  # start == end (24 hours)
    "overlap": 0.02,  # two overlapping rows on a day
    # rest: "regular" (one shift a day, maybe longer at the weekend)
}
CLOSED_DAYS_FRACTION = 0.20  # of the stores with regular/split/overnight hours
POLL_KINDS = {
    "never": 0.01,  # appears only in menu_hours/timezones
    "silent": 0.03,  # stops polling for 1-3 days, then comes back
    "dark": 0.01,  # stops polling 1-2 days before the end
    "late": 0.01,  # starts polling 1-2 days after the start
    # rest: "normal"
}
FLAKY_FRACTION = 0.08  # outage episodes much more often
LONG_OUTAGE_FRACTION = 0.01  # one outage of 12-72 polls
UUID_FRACTION = 0.03
SHORT_ID_FRACTION = 0.03  # numeric ids with 15-18 digits

REVENUE_FILE = "store_revenue.csv"
# Expected revenue (docs/rules.md §13): stores without rows (no estimate), stores in EUR
# (the rest in USD), and the local hours with a row.
REVENUE_NONE_FRACTION = 0.15
REVENUE_EUR_FRACTION = 0.05
REVENUE_HOURS = range(10, 23)  # 10:00–23:00 local: hours outside expect 0
# The shape of a day: busier at lunch and dinner, quieter between; Fri and Sat busier.
LUNCH_HOURS = (11, 12, 13)
DINNER_HOURS = (18, 19, 20)
WEEKEND_DAYS = (4, 5)
