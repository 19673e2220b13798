"""The synthetic data generator (monitoring/tools/generation/, `manage.py generate_data`).

Files are read back with the csv module and checked for the shapes the real public
data has (and the awkward cases it should exercise). No database is needed.
"""

import csv
import os
import re
import subprocess
import sys
import uuid
from collections import Counter, defaultdict
from datetime import datetime, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from django.core.management import CommandError, call_command
from monitoring.tools.generation import DEFAULT_END, generate_dataset

from tests.processes import ROOT

FILES = ("store_status.csv", "menu_hours.csv", "timezones.csv", "store_revenue.csv")
TS_RE = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d(\.\d{1,6})? UTC$")
TIME_RE = re.compile(r"^\d\d:\d\d:\d\d$")
STORES, DAYS, SEED = 400, 7, 7


def read(path: Path) -> tuple[list[str], list[list[str]]]:
    with open(path, newline="", encoding="utf-8") as fh:
        rows = list(csv.reader(fh))
    return rows[0], rows[1:]


def parse_ts(text: str) -> datetime:
    assert TS_RE.match(text), text
    body = text.removesuffix(" UTC")
    head, _, fraction = body.partition(".")
    body = f"{head}.{fraction.ljust(6, '0')}"
    return datetime.strptime(body, "%Y-%m-%d %H:%M:%S.%f").replace(tzinfo=timezone.utc)


def seconds(hms: str) -> int:
    h, m, s = map(int, hms.split(":"))
    return h * 3600 + m * 60 + s


@pytest.fixture(scope="module")
def dataset(tmp_path_factory):
    out = tmp_path_factory.mktemp("gen") / "a"
    summary = generate_dataset(out_dir=out, stores=STORES, days=DAYS, seed=SEED)
    _, polls = read(out / "store_status.csv")
    _, hours = read(out / "menu_hours.csv")
    _, zones = read(out / "timezones.csv")
    return summary, out, polls, hours, zones


def test_same_seed_same_bytes_other_seed_other_bytes(dataset, tmp_path):
    _, out, *_ = dataset
    again = generate_dataset(out_dir=tmp_path / "b", stores=STORES, days=DAYS, seed=SEED)
    other = generate_dataset(out_dir=tmp_path / "c", stores=STORES, days=DAYS, seed=SEED + 1)
    for name in FILES:
        assert (out / name).read_bytes() == (tmp_path / "b" / name).read_bytes(), name
        assert (out / name).read_bytes() != (tmp_path / "c" / name).read_bytes(), name
    assert again.polls > 0 and other.polls > 0


def test_headers_and_counts_match_summary(dataset):
    summary, out, polls, hours, zones = dataset
    assert read(out / "store_status.csv")[0] == ["store_id", "timestamp_utc", "status"]
    assert read(out / "menu_hours.csv")[0] == ["store_id", "dayOfWeek", "start_time_local", "end_time_local"]
    assert read(out / "timezones.csv")[0] == ["store_id", "timezone_str"]
    for name in FILES:
        data = (out / name).read_bytes()
        assert data.endswith(b"\n") and b"\r" not in data and b"\0" not in data
    assert summary.polls == len(polls)
    assert summary.hours_rows == len(hours)
    assert summary.timezone_rows == len(zones)
    assert summary.inactive_polls == sum(row[2] == "inactive" for row in polls)
    ids = {r[0] for r in polls} | {r[0] for r in hours} | {r[0] for r in zones}
    assert len(ids) == summary.stores == STORES


def test_polls_cover_the_window_hourly_with_jitter(dataset):
    summary, _, polls, _, _ = dataset
    assert all(len(row) == 3 for row in polls)
    assert {row[2] for row in polls} == {"active", "inactive"}
    times = [parse_ts(row[1]) for row in polls]
    start = DEFAULT_END - timedelta(days=DAYS)
    assert min(times) >= start and min(times) < start + timedelta(hours=1)
    assert max(times) == DEFAULT_END == summary.last_poll  # the public data's latest poll
    assert min(times) == summary.first_poll
    # No (store, timestamp) pair twice.
    assert len({(row[0], row[1]) for row in polls}) == len(polls)
    # Random seconds/microseconds; the fraction's trailing zeros are cut (0-6 digits).
    digits = Counter(len(row[1][:-4].partition(".")[2]) for row in polls)
    assert digits[6] > 0.8 * len(polls) and digits[5] > 0
    assert len({t.second for t in times}) == 60
    # Roughly hourly per store: ~160 polls in 7 days, spacing 55-65 min except misses.
    per_store = defaultdict(list)
    for row, t in zip(polls, times):
        per_store[row[0]].append((t, row[2]))
    gaps = []
    for series in per_store.values():
        series.sort()
        gaps += [(b[0] - a[0]).total_seconds() / 60 for a, b in zip(series, series[1:])]
    assert min(gaps) >= 55
    in_band = sum(55 <= g <= 65 for g in gaps)
    assert 0.95 < in_band / len(gaps) < 0.995  # missed polls exist, but are few
    assert 150 < len(polls) / len(per_store) < 170
    # Stores going silent for a day or more.
    assert sum(max(g for g in gaps_of(s)) >= 24 * 60 for s in per_store.values() if len(s) > 1) >= 3


def gaps_of(series):
    return [(b[0] - a[0]).total_seconds() / 60 for a, b in zip(series, series[1:])]


def test_outage_episodes_are_runs_of_a_few_polls(dataset):
    _, _, polls, _, _ = dataset
    per_store = defaultdict(list)
    for row in polls:
        per_store[row[0]].append((parse_ts(row[1]), row[2]))
    runs = Counter()
    for series in per_store.values():
        series.sort()
        run = 0
        for _, status in series + [(None, "active")]:
            if status == "inactive":
                run += 1
            elif run:
                runs[run] += 1
                run = 0
    short = sum(count for length, count in runs.items() if length <= 6)
    assert all(runs[n] > 0 for n in range(1, 7))
    assert short > 0.85 * sum(runs.values())
    assert max(runs) >= 12  # a long outage or two
    inactive = sum(row[2] == "inactive" for row in polls) / len(polls)
    assert 0.01 < inactive < 0.15


def test_polls_written_in_rough_time_order(dataset):
    _, _, polls, _, _ = dataset
    times = [parse_ts(row[1]) for row in polls]
    # Not sorted (a loader must not rely on it), but never far behind the running max...
    assert times != sorted(times)
    latest = times[0]
    lag = timedelta(0)
    for t in times:
        latest = max(latest, t)
        lag = max(lag, latest - t)
    assert lag <= timedelta(hours=6, minutes=10)
    # ...and mostly close to it.
    assert sum(b >= a - timedelta(minutes=10) for a, b in zip(times, times[1:])) > 0.99 * (len(times) - 1)


def test_store_ids_are_opaque_text(dataset):
    _, _, polls, hours, zones = dataset
    ids = {r[0] for r in polls} | {r[0] for r in hours} | {r[0] for r in zones}
    uuids = {i for i in ids if "-" in i}
    numeric = ids - uuids
    for i in uuids:
        assert str(uuid.UUID(i)) == i
    assert all(i.isdigit() and not i.startswith("0") for i in numeric)
    assert 0.01 < len(uuids) / len(ids) < 0.06
    assert sum(len(i) == 19 for i in numeric) > 0.9 * len(ids)
    assert any(len(i) < 19 for i in numeric)
    assert max(int(i) for i in numeric) < 2**63
    assert max(int(i) for i in numeric) > 8 * 10**18


def test_business_hours_shapes(dataset):
    _, _, polls, hours, zones = dataset
    all_ids = {r[0] for r in polls} | {r[0] for r in hours} | {r[0] for r in zones}
    assert all(len(r) == 4 and r[1] in "0123456" and len(r[1]) == 1 for r in hours)
    assert all(TIME_RE.match(r[2]) and TIME_RE.match(r[3]) for r in hours)
    assert all(seconds(r[2]) < 86400 and seconds(r[3]) < 86400 for r in hours)
    assert len({tuple(r) for r in hours}) == len(hours)

    with_hours = {r[0] for r in hours}
    assert abs(1 - len(with_hours) / len(all_ids) - 0.18) < 0.02  # open 24x7

    pairs = Counter((r[2], r[3]) for r in hours)
    assert sum(n for (a, b), n in pairs.items() if b < a) > 0  # one row past midnight
    assert sum(n for (a, b), n in pairs.items() if a == b) > 0  # 24 h
    assert pairs["00:00:00", "23:59:59"] > 0
    assert pairs["00:00:00", "23:59:00"] > 0

    by_store_day = defaultdict(list)
    days = defaultdict(set)
    for store, day, start, end in hours:
        by_store_day[store, day].append((seconds(start), seconds(end)))
        days[store].add(day)
    # Split shifts: two rows with a gap on the same day.
    split = [v for v in by_store_day.values() if len(v) == 2 and sorted(v)[0][1] < sorted(v)[1][0]]
    assert len(split) > 0
    # Overlapping rows on a day (must be merged by the engine).
    assert any(len(v) == 2 and sorted(v)[0][1] > sorted(v)[1][0] > sorted(v)[0][0] for v in by_store_day.values())
    # The public data's style for shifts past midnight: y-23:59:59, then 00:00:00-x next day.
    public_style = {
        store
        for (store, day), v in by_store_day.items()
        if any(end == 86399 and start > 12 * 3600 for start, end in v)
        and any(start == 0 and end < 6 * 3600 for start, end in by_store_day.get((store, str((int(day) + 1) % 7)), []))
    }
    assert public_style
    # Closed weekdays: a store with rows, but not on every day.
    closed = [s for s, d in days.items() if len(d) < 7]
    assert 0.05 < len(closed) / len(days) < 0.4
    assert Counter(len(d) for d in days.values())[7] > 0.6 * len(days)


def test_timezones_shapes(dataset):
    _, _, polls, hours, zones = dataset
    all_ids = {r[0] for r in polls} | {r[0] for r in hours} | {r[0] for r in zones}
    assert len({r[0] for r in zones}) == len(zones)  # one row per store at most
    names = Counter(r[1] for r in zones)
    assert 0 < names[""] < 0.03 * len(all_ids)
    assert abs(1 - len(zones) / len(all_ids) - 0.05) < 0.01
    required = {
        "America/New_York", "America/Chicago", "America/Los_Angeles", "America/Denver",
        "America/Boise", "America/Phoenix", "Europe/London", "Asia/Kolkata",
        "Australia/Lord_Howe", "Asia/Beirut",
    }
    assert required <= set(names)
    for name in names:
        if name:
            ZoneInfo(name)
    assert names.most_common(1)[0][0] == "America/New_York"


def test_stores_without_polls_still_appear_elsewhere(dataset):
    _, _, polls, hours, zones = dataset
    polled = {r[0] for r in polls}
    others = ({r[0] for r in hours} | {r[0] for r in zones}) - polled
    assert 0 < len(others) < 0.03 * STORES


def test_explicit_end_and_short_window(tmp_path):
    end = datetime(2024, 3, 10, 12, 30, 0, 250000, tzinfo=timezone.utc)
    summary = generate_dataset(out_dir=tmp_path, stores=50, days=2, seed=3, end=end)
    _, polls = read(tmp_path / "store_status.csv")
    times = [parse_ts(r[1]) for r in polls]
    assert max(times) == end == summary.last_poll
    assert min(times) >= end - timedelta(days=2)
    assert 50 * 40 < len(polls) < 50 * 50
    # A naive end is UTC.
    naive = generate_dataset(out_dir=tmp_path / "n", stores=50, days=2, seed=3, end=end.replace(tzinfo=None))
    assert (tmp_path / "n" / "store_status.csv").read_bytes() == (tmp_path / "store_status.csv").read_bytes()
    assert naive.polls == summary.polls


def test_edge_sizes(tmp_path):
    empty = generate_dataset(out_dir=tmp_path / "zero", stores=0, days=1, seed=1)
    assert empty.polls == empty.hours_rows == empty.timezone_rows == 0
    assert (tmp_path / "zero" / "store_status.csv").read_text() == "store_id,timestamp_utc,status\n"
    one = generate_dataset(out_dir=tmp_path / "one", stores=1, days=1, seed=1)
    assert one.polls + one.hours_rows + one.timezone_rows > 0
    with pytest.raises(ValueError):
        generate_dataset(out_dir=tmp_path / "bad", stores=1, days=0, seed=1)


def test_command_writes_the_files_and_prints_a_summary(tmp_path, capsys):
    call_command("generate_data", str(tmp_path), "--stores", "60", "--days", "3", "--seed", "5",
                 "--end", "2023-01-25T18:13:22Z")
    printed = capsys.readouterr().out
    for word in ("stores:", "polls:", "hours rows:", "timezone rows:", "time range:"):
        assert word in printed
    assert "stores:         60" in printed
    assert "2023-01-25 18:13:22.000000 UTC" in printed
    direct = generate_dataset(out_dir=tmp_path / "direct", stores=60, days=3, seed=5)
    for name in FILES:
        assert (tmp_path / name).read_bytes() == (tmp_path / "direct" / name).read_bytes()
    with pytest.raises(CommandError):
        call_command("generate_data", str(tmp_path / "x"), "--stores", "5", "--days", "1", "--end", "yesterday")


def test_command_runs_as_a_process_without_the_database(tmp_path):
    env_free = {"DATABASE_URL": "postgres://nobody@127.0.0.1:1/none"}  # unreachable: must not matter
    result = subprocess.run(
        [sys.executable, "manage.py", "generate_data", str(tmp_path), "--stores", "20", "--days", "1"],
        cwd=ROOT, capture_output=True, text=True, env={**os.environ, **env_free}, timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert "stores:         20" in result.stdout
    assert all((tmp_path / name).exists() for name in FILES)


def test_committed_demo_data_is_what_the_makefile_generates(tmp_path):
    """csv_data/ must be `manage.py generate_data csv_data --stores 300 --days 7 --seed 2023`."""
    demo = ROOT / "csv_data"
    if not (demo / "store_status.csv").exists():
        pytest.skip("csv_data/ not generated yet")
    generate_dataset(out_dir=tmp_path, stores=300, days=7, seed=2023)
    for name in FILES:
        assert (demo / name).read_bytes() == (tmp_path / name).read_bytes(), f"regenerate with `make demo-data`: {name}"
    assert sum((demo / name).stat().st_size for name in FILES) < 4 * 1024 * 1024


def test_revenue_profiles(dataset):
    """store_revenue.csv (docs/rules.md §13): the hours 10–22 of every weekday of ~85% of
    the stores, whole cents, busier at lunch and dinner and on Fridays and Saturdays;
    ~15% of the stores without rows, a few in EUR, the rest in USD."""
    summary, out, polls, hours, zones = dataset
    header, rows = read(out / "store_revenue.csv")
    assert header == ["store_id", "dayOfWeek", "hour", "expected_revenue", "currency"]
    assert summary.revenue_rows == len(rows)
    by_store = defaultdict(dict)
    currency = {}
    for store_id, day, hour, amount, code in rows:
        assert re.fullmatch(r"[0-9]+\.[0-9]{2}", amount), amount
        by_store[store_id][int(day), int(hour)] = float(amount)
        assert currency.setdefault(store_id, code) == code  # one currency per store
    ids = {r[0] for r in polls} | {r[0] for r in hours} | {r[0] for r in zones}
    assert set(by_store) <= ids
    assert len(ids - set(by_store)) == summary.kinds["revenue_none"] == round(0.15 * STORES)
    assert Counter(currency.values()) == {"EUR": summary.kinds["revenue_eur"], "USD": summary.kinds["revenue_usd"]}
    assert summary.kinds["revenue_eur"] == round(0.05 * STORES)
    for own in by_store.values():
        assert set(own) == {(day, hour) for day in range(7) for hour in range(10, 23)}
        assert own[2, 12] > own[2, 16] < own[2, 19]  # lunch and dinner beat the afternoon
        assert own[5, 19] > own[1, 19]  # Saturday beats Tuesday (1.3 times, ±10% noise)
