"""The DuckDB baseline of the benchmarks (bench/duckdb_report.py) writes the same CSV bytes
as ours (`generate_report`), for the weekly report (docs/rules.md §5) and ranges
(§11), on generated data across a DST change with special hours (§9). Skipped only
where duckdb, a bench-only dependency (bench/requirements.txt), is not installed."""

import csv
import io
import subprocess
import sys
from datetime import datetime, time, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from django.core.management import call_command

from monitoring.tools.generation import generate_dataset
from tests.processes import ROOT

pytest.importorskip("duckdb")

pytestmark = pytest.mark.django_db

UTC = timezone.utc
END = datetime(2023, 3, 14, 18, 13, 22, tzinfo=UTC)  # New York springs forward on 2023-03-12
NEW_YORK = ZoneInfo("America/New_York")
STORES = 150


def duckdb_report(*args) -> str:
    done = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "duckdb_report.py"), *map(str, args)],
        cwd=ROOT, check=True, capture_output=True, text=True,
    )
    return done.stdout


def ours(*args) -> str:
    out = io.StringIO()
    call_command("generate_report", *args, stdout=out)
    return out.getvalue()


def assert_same_csv(expected: str, actual: str) -> None:
    expected_rows, actual_rows = expected.splitlines(), actual.splitlines()
    assert len(actual_rows) == len(expected_rows) == STORES + 1
    differing = [(a, b) for a, b in zip(expected_rows, actual_rows) if a != b]
    assert not differing, f"{len(differing)} rows differ, e.g. {differing[:3]}"
    assert actual == expected


@pytest.fixture
def loaded(tmp_path: Path) -> Path:
    """A generated set over the spring-forward, with special hours for some stores on
    the days around it (closed, short, overnight, inside the gap), loaded into both."""
    folder = tmp_path / "data"
    generate_dataset(out_dir=folder, stores=STORES, days=12, seed=4, end=END)
    with open(folder / "timezones.csv", newline="") as handle:
        ids = [row["store_id"] for row in csv.DictReader(handle)]
    kinds = [("", ""), ("10:00", "14:00"), ("20:00", "02:00"), ("01:30", "03:00"), ("02:15", "02:45")]
    lines = ["store_id,date,start_time_local,end_time_local"]
    for k, store_id in enumerate(ids[::7]):
        for j, day in enumerate(("2023-03-11", "2023-03-12", "2023-03-13")[k % 3 :]):
            start, end = kinds[(k + j) % len(kinds)]
            lines.append(f"{store_id},{day},{start},{end}")
    (folder / "special_hours.csv").write_text("\n".join(lines) + "\n")
    # The baseline knows no revenue: without the file, our range CSV has its five columns.
    (folder / "store_revenue.csv").unlink(missing_ok=True)
    call_command("load_data", str(folder), "--no-rejects-file", stdout=io.StringIO(), stderr=io.StringIO())
    database = tmp_path / "report.duckdb"
    subprocess.run([sys.executable, str(ROOT / "bench" / "duckdb_report.py"), "load", folder, database],
                   cwd=ROOT, check=True, capture_output=True)
    return database


def test_weekly_report_is_the_same_csv(loaded):
    expected = ours()
    assert_same_csv(expected, duckdb_report("week", loaded))
    rows = list(csv.DictReader(io.StringIO(expected)))
    assert any(float(row["downtime_last_week"]) > 0 for row in rows)  # outages, not only uptime
    earlier = "2023-03-12T09:41:07.250001+00:00"  # a week that ends hours after the change
    assert_same_csv(ours("--as-of", earlier, "--horizon-minutes", "45"),
                    duckdb_report("week", loaded, "--as-of", earlier, "--horizon-minutes", "45"))


def test_range_reports_are_the_same_csv(loaded):
    start, end = "2023-03-03T00:00:00Z", "2023-03-14T18:13:22Z"
    assert_same_csv(ours("--from", start, "--to", end), duckdb_report("range", loaded, "--from", start, "--to", end))
    # The 23-hour local day of New York's change, midnight to midnight.
    day_start = datetime.combine(datetime(2023, 3, 12).date(), time(0), NEW_YORK).astimezone(UTC)
    day_end = datetime.combine(datetime(2023, 3, 13).date(), time(0), NEW_YORK).astimezone(UTC)
    assert day_end - day_start == timedelta(hours=23)
    expected = ours("--from", day_start.isoformat(), "--to", day_end.isoformat())
    assert_same_csv(expected, duckdb_report("range", loaded, "--from", day_start.isoformat(), "--to", day_end.isoformat()))
    business = [float(row["business_minutes"]) for row in csv.DictReader(io.StringIO(expected))]
    assert max(business) == 23 * 60 and any(0 < minutes < 23 * 60 for minutes in business)  # 24x7 stores, shorter days
