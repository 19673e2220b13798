"""Checker: the DuckDB baseline (bench/duckdb_report.py) against ours, CSV row by row.

    .venv/bin/python bench/duckdb_check.py [--stores 300 --days 40 --end 2023-04-05T18:13:22Z --seed 3]
                                           [--special-share 0.1] [--data DIR]

Loads one data set into a PostgreSQL database of its own (`load_data`, dropped at exit)
and into a DuckDB file, then for each case writes ours (`manage.py generate_report
[--as-of | --from --to] [--horizon-minutes]`) and DuckDB's CSV and compares them: the
same header, the same store ids in the same order, every figure the same to 2 decimals.
Cases: the weekly report at the latest poll and at an earlier instant, ranges over
the whole data set, over each local day with a DST change of the data's zones (from
local midnight to local midnight, 23 or 25 hours), a minute, and other horizons.

The data: generated (`generate_data`; `--end` picks the dates: the default covers the
spring-forward of North America, Europe, Beirut and Lord Howe's fall-back), with a
special-hours file for a share of the stores (closed days, short days, overnight
shifts, shifts inside a DST gap or fold); or a folder of files (`--data`, e.g. the public
files in /work/shared/data/loop-2023/, read where they are). Exit status 1 when a case
differs.
"""

import argparse
import csv
import os
import random
import subprocess
import sys
import tempfile
from datetime import date, datetime, time, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

from harness import ROOT, fresh_database, manage

sys.path.insert(0, str(Path(__file__).resolve().parent))
import duckdb_report  # noqa: E402  (bench/ is not a package)

UTC = timezone.utc
SPECIAL_KINDS = (("", ""), ("10:00", "14:00"), ("20:00", "02:00"), ("01:30", "03:00"), ("00:00", "00:00"),
                 ("02:15", "02:45"))


def special_hours_file(folder: Path, target: Path, *, share: float, first: date, last: date, seed: int) -> None:
    """`target`/ holds the three files of `folder` (linked) and a special_hours.csv for a
    share of their stores: a few dates each between `first` and `last`, DST days included."""
    target.mkdir(parents=True, exist_ok=True)
    for name in ("store_status.csv", "menu_hours.csv", "timezones.csv"):
        link = target / name
        if not link.exists():
            link.symlink_to((folder / name).resolve())
    ids = set()
    for name in ("menu_hours.csv", "timezones.csv"):
        with open(folder / name, newline="") as handle:
            ids.update(row["store_id"] for row in csv.DictReader(handle))
    rng = random.Random(seed)
    chosen = rng.sample(sorted(ids), round(share * len(ids)))
    dates = [first + timedelta(days=k) for k in range((last - first).days + 1)]
    dst_days = [d for d in dates if dst_zones(d)]
    lines = ["store_id,date,start_time_local,end_time_local"]
    for store_id in chosen:
        picked = set(rng.sample(dates, min(4, len(dates)))) | set(rng.sample(dst_days, min(2, len(dst_days))))
        for day in sorted(picked):
            # Two rows on a date: a split day, or shifts next to a closed-all-day row (the shifts decide).
            for start, end in rng.sample(SPECIAL_KINDS, rng.choice((1, 1, 2))):
                lines.append(f"{store_id},{day.isoformat()},{start},{end}")
    (target / "special_hours.csv").write_text("\n".join(lines) + "\n")


ZONES = ("America/New_York", "America/Los_Angeles", "America/Chicago", "America/Denver", "America/Boise",
         "Europe/London", "Australia/Lord_Howe", "Asia/Beirut")


def dst_zones(day: date) -> list[str]:
    """The zones whose UTC offset at the end of local `day` differs from its start's."""
    out = []
    for name in ZONES:
        zone = ZoneInfo(name)
        a = datetime.combine(day, time(0), zone).utcoffset()
        b = datetime.combine(day + timedelta(days=1), time(0), zone).utcoffset()
        if a != b:
            out.append(name)
    return out


def cases(first_poll: datetime, last_poll: datetime) -> list[tuple[str, list[str], list[str]]]:
    """(label, generate_report args, duckdb_report args)."""
    iso = lambda moment: moment.isoformat()  # noqa: E731
    earlier = last_poll - timedelta(days=2, hours=5, minutes=17, seconds=3)
    out = [
        ("week at the latest poll", [], ["week"]),
        ("week at an earlier as_of", ["--as-of", iso(earlier)], ["week", "--as-of", iso(earlier)]),
        ("week, H = 45 min", ["--horizon-minutes", "45"], ["week", "--horizon-minutes", "45"]),
    ]
    start = max(first_poll, last_poll - timedelta(days=90))
    out.append(("range over the data", ["--from", iso(start), "--to", iso(last_poll)],
                ["range", "--from", iso(start), "--to", iso(last_poll)]))
    out.append(("range, H = 600 min", ["--from", iso(start), "--to", iso(last_poll), "--horizon-minutes", "600"],
                ["range", "--from", iso(start), "--to", iso(last_poll), "--horizon-minutes", "600"]))
    minute = last_poll - timedelta(hours=30)
    out.append(("range of a minute", ["--from", iso(minute), "--to", iso(minute + timedelta(minutes=1))],
                ["range", "--from", iso(minute), "--to", iso(minute + timedelta(minutes=1))]))
    day = first_poll.date() + timedelta(days=1)
    while day < last_poll.date():
        for name in dst_zones(day):
            zone = ZoneInfo(name)
            a = datetime.combine(day, time(0), zone).astimezone(UTC)
            b = datetime.combine(day + timedelta(days=1), time(0), zone).astimezone(UTC)
            out.append((f"{name} {day} ({(b - a) / timedelta(hours=1):g} h)", ["--from", iso(a), "--to", iso(b)],
                        ["range", "--from", iso(a), "--to", iso(b)]))
        day += timedelta(days=1)
    return out


def poll_span(database: Path) -> tuple[datetime, datetime]:
    import duckdb

    con = duckdb.connect(str(database))
    lo, hi = con.execute("SELECT min(t), max(t) FROM polls").fetchone()
    con.close()
    epoch = datetime(1970, 1, 1, tzinfo=UTC)
    return epoch + timedelta(microseconds=lo), epoch + timedelta(microseconds=hi)


def check(folder: Path, *, database_name: str = "hduck_check", work: Path | None = None) -> bool:
    """Every case on the data of `folder`; prints a line per case; True when all agree."""
    work = work or Path(tempfile.mkdtemp(prefix="duckdb-check-"))
    url = fresh_database(database_name)
    manage(["load_data", str(folder)], url, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    database = work / "check.duckdb"
    counts = duckdb_report.load(folder, database)
    first, last = poll_span(database)
    print(f"{folder}: {counts['stores']:,} stores, {counts['polls']:,} polls, {counts['special_rows']:,} special rows, "
          f"polls {first:%Y-%m-%d %H:%M} .. {last:%Y-%m-%d %H:%M} UTC")
    ok = True
    for label, ours_args, duck_args in cases(first, last):
        ours, theirs = work / "ours.csv", work / "duckdb.csv"
        manage(["generate_report", *ours_args, "--output", str(ours)], url, stderr=subprocess.DEVNULL)
        subprocess.run([sys.executable, str(Path(__file__).with_name("duckdb_report.py")), duck_args[0], str(database),
                        *duck_args[1:], "--output", str(theirs)], check=True)
        problems = duckdb_report.csv_differences(ours.read_text(), theirs.read_text())
        rows = ours.read_text().count("\n") - 1
        print(f"  {label}: {rows:,} rows, " + ("same figures" if not problems else "DIFFER: " + "; ".join(problems[:3])))
        ok &= not problems
    return ok


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--data", type=Path, help="a folder of input files (default: generate one)")
    parser.add_argument("--stores", type=int, default=300)
    parser.add_argument("--days", type=int, default=40)
    parser.add_argument("--seed", type=int, default=3)
    parser.add_argument("--end", default="2023-04-05T18:13:22Z", help="the latest poll of the generated set")
    parser.add_argument("--special-share", type=float, default=0.1, help="share of stores given special dates")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="duckdb-check-"))
    if args.data:
        folder = args.data
    else:
        folder = work / "generated"
        subprocess.run([sys.executable, str(ROOT / "manage.py"), "generate_data", str(folder), "--stores",
                        str(args.stores), "--days", str(args.days), "--seed", str(args.seed), "--end", args.end],
                       check=True, stdout=subprocess.DEVNULL, env={**os.environ})
        if args.special_share > 0:
            end = datetime.fromisoformat(args.end.replace("Z", "+00:00"))
            special = work / "with-special"
            special_hours_file(folder, special, share=args.special_share, first=(end - timedelta(days=args.days)).date(),
                               last=end.date(), seed=args.seed)
            folder = special
    ok = check(folder, work=work)
    print("all cases agree" if ok else "SOME CASES DIFFER")
    raise SystemExit(0 if ok else 1)


if __name__ == "__main__":
    main()
