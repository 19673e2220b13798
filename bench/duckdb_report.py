"""A second, independent implementation of the weekly report (docs/rules.md §5) and the
range report (§11) in DuckDB SQL: the exact baseline the benchmarks compare ours with.

    .venv/bin/python bench/duckdb_report.py load DIR DB.duckdb       # the CSV files of DIR into a DuckDB file
    .venv/bin/python bench/duckdb_report.py week DB.duckdb --output week.csv [--as-of INSTANT]
    .venv/bin/python bench/duckdb_report.py range DB.duckdb --from INSTANT [--to INSTANT] --output range.csv
    .venv/bin/python bench/duckdb_report.py compare OURS.csv THEIRS.csv  # row by row, to 2 decimals

DuckDB is a bench-only dependency (bench/requirements.txt). Nothing here imports the
project: the rules are re-implemented from docs/rules.md, and only the CSV bytes are
compared with ours (`bench/history_speed.py`, tests/tools/test_duckdb_report.py).

**Loading** (`load`, bench/duckdb_load.py) reads the files of DIR into DuckDB tables.

**Computing** (`week`, `range`) is SQL over those tables; only two small things come
from Python:
- the UTC-offset steps of each zone, from zoneinfo: DuckDB's bundled ICU does convert
  local times, but it maps an ambiguous local time to its *second* occurrence, while
  §3 wants the first (zoneinfo's fold=0). A step row `(zone, from_wall, offset)` says
  that a wall time `w >= from_wall` (µs, "as if UTC") is `w - offset` in UTC until the
  next step. A transition at UTC instant T from offset a to b starts its step at wall
  time `T + max(a, b)`: a wall time in a spring-forward gap keeps the old offset
  (02:30 → 03:30 new time) and one in a fall-back fold keeps the first occurrence's.
  The query finds each wall time's step with an ASOF join.
- the CSV: Python's `round(v, 2)` written with 2 decimals (§5), an apostrophe before an id
  a spreadsheet would run as a formula (§7).

The SQL, step by step (instants are BIGINT µs since the epoch):
1. every (store, local date, shift) near the range, weekly rows by weekday except on a
   store's special dates, plus the special rows (§9); a store with special rows but no
   weekly rows is open 00:00–24:00 on its other dates; a store with neither is open over
   the whole range (§2). A shift is `[d start, d start + length)`, length `end - start`,
   plus 24 h when that is not positive (past midnight; `start == end` is 24 h).
2. both ends to UTC (ASOF join on the zone steps), clipped to the range, merged per
   store (gaps and islands), with the business time before each interval (`cum`), so
   that `C(x)`, the business time of a store before instant x, is one ASOF join away.
3. evidence polls: at or before the end (`as_of` / `to`), not before the earliest window
   start minus H, inside an interval (§4.1). Each owns `[max(t - H, mid(prev, t)),
   min(t + H, mid(t, next)))`, mids rounded down to the µs (§4.2, §4.3).
   Most pieces lie inside their poll's own interval, where C is linear; only the others
   look C up (as ours does).
4. a window's uptime is the sum over its active polls of
   `max(0, min(C(hi), C(end)) - max(C(lo), C(start)))`; downtime likewise; business time
   is `C(end) - C(start)`; unknown the rest. Seconds are divided as ours are, in
   floating point, so the CSV's cells are the same bytes.
"""

from __future__ import annotations

import argparse
import csv
import io
import sys
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

import duckdb

from duckdb_load import DAY_US, EPOCH, US, load  # bench/ is not a package: its sibling script

DEFAULT_ZONE = "America/Chicago"
DEFAULT_HORIZON_MINUTES = 120
FIRST_STEP = -(1 << 62)  # the step in force before the first transition found

WEEK_HEADER = (
    "store_id", "uptime_last_hour", "uptime_last_day", "uptime_last_week",
    "downtime_last_hour", "downtime_last_day", "downtime_last_week",
)
RANGE_HEADER = ("store_id", "uptime_minutes", "downtime_minutes", "unknown_minutes", "business_minutes")


# --------------------------------------------------------------------------- zones


def _offset_us(zone: ZoneInfo, t_s: int) -> int:
    return datetime.fromtimestamp(t_s, tz=zone).utcoffset() // timedelta(microseconds=1)


def zone_steps(name: str, lo_s: int, hi_s: int) -> list[tuple[str, int, int]]:
    """(zone, from_wall µs, offset µs) steps of `name` for the UTC seconds [lo_s, hi_s]:
    hourly probes, each change of offset narrowed to the second by bisection."""
    zone = ZoneInfo(name)
    offset = _offset_us(zone, lo_s)
    steps = [(name, FIRST_STEP, offset)]
    before = lo_s
    for probe in range(lo_s + 3600, hi_s + 3600, 3600):
        while _offset_us(zone, probe) != offset:  # a transition in (before, probe]: the first one
            a, b = before, probe
            while b - a > 1:
                middle = (a + b) // 2
                if _offset_us(zone, middle) == offset:
                    a = middle
                else:
                    b = middle
            new = _offset_us(zone, b)
            steps.append((name, b * US + max(offset, new), new))
            offset, before = new, b
        before = probe
    return steps


def _zone_steps_table(con, lo_day: int, hi_day: int) -> None:
    names = {row[0] for row in con.execute("SELECT DISTINCT zone FROM zones").fetchall()} | {DEFAULT_ZONE}
    rows = [step for name in sorted(names) for step in zone_steps(name, (lo_day - 2) * 86_400, (hi_day + 3) * 86_400)]
    con.execute("CREATE OR REPLACE TEMP TABLE zone_steps (zone VARCHAR, from_wall BIGINT, offset_us BIGINT)")
    con.executemany("INSERT INTO zone_steps VALUES (?, ?, ?)", rows)


# --------------------------------------------------------------------------- the computation


def _business(con, r0: int, r1: int) -> None:
    """Temp table `biz` (k: the store's key, s, e, cum): each store's merged business intervals
    within [r0, r1), with the business time before each (steps 1 and 2)."""
    lo_day, hi_day = r0 // DAY_US - 3, r1 // DAY_US + 3
    _zone_steps_table(con, lo_day, hi_day)
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE biz AS
        WITH days AS (
            SELECT d AS day, (d + 3) % 7 AS dow FROM range({lo_day}, {hi_day} + 1) t(d)  -- 1970-01-01 was a Thursday
        ),
        weekly AS (
            SELECT k, dow, start_us, length_us FROM hours
            UNION ALL  -- special rows but no weekly rows: open all day on the other dates
            SELECT s.k, w.dow, 0, {DAY_US} FROM (SELECT DISTINCT k FROM special_days) s
            CROSS JOIN range(7) w(dow) WHERE s.k NOT IN (SELECT k FROM hours)
        ),
        occurrences AS (
            SELECT w.k, d.day, w.start_us, w.length_us FROM weekly w JOIN days d ON w.dow = d.dow
            ANTI JOIN special_days x ON x.k = w.k AND x.day = d.day
            UNION ALL
            SELECT k, day, start_us, length_us FROM special_shifts WHERE day BETWEEN {lo_day} AND {hi_day}
        ),
        walls AS (
            SELECT o.k, coalesce(z.zone, '{DEFAULT_ZONE}') AS zone,
                   o.day * {DAY_US} + o.start_us AS wall_start, o.day * {DAY_US} + o.start_us + o.length_us AS wall_end
            FROM occurrences o LEFT JOIN zones z ON z.k = o.k
        ),
        starts AS (
            SELECT w.k, w.zone, w.wall_end, w.wall_start - a.offset_us AS s
            FROM walls w ASOF JOIN zone_steps a ON w.zone = a.zone AND w.wall_start >= a.from_wall
        ),
        shifts AS (
            SELECT x.k, greatest(x.s, {r0}) AS s, least(x.wall_end - b.offset_us, {r1}) AS e
            FROM starts x ASOF JOIN zone_steps b ON x.zone = b.zone AND x.wall_end >= b.from_wall
        ),
        intervals AS (
            SELECT k, s, e FROM shifts WHERE s < e
            UNION ALL  -- no rows at all: open 24x7
            SELECT k, {r0}, {r1} FROM stores
            WHERE k NOT IN (SELECT k FROM hours) AND k NOT IN (SELECT k FROM special_days)
        ),
        marked AS (
            SELECT k, s, e,
                   CASE WHEN s <= max(e) OVER (PARTITION BY k ORDER BY s, e
                                               ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING)
                        THEN 0 ELSE 1 END AS opens
            FROM intervals
        ),
        islands AS (
            SELECT k, s, e, sum(opens) OVER (PARTITION BY k ORDER BY s, e ROWS UNBOUNDED PRECEDING) AS island
            FROM marked
        ),
        merged AS (SELECT k, min(s) AS s, max(e) AS e FROM islands GROUP BY k, island)
        SELECT k, s, e,
               sum(e - s) OVER w - (e - s) AS cum,
               lead(s) OVER w AS next_s
        FROM merged WINDOW w AS (PARTITION BY k ORDER BY s ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW)
    """)


def _pieces(con, poll_lo: int, poll_hi: int, horizon_us: int) -> None:
    """Temp table `pieces` (k, active, c_lo, c_hi): each evidence poll with
    poll_lo <= t <= poll_hi and the business time C at both ends of what it owns (step 3).
    Most pieces lie in their poll's own interval, where C is linear: only the others
    (a piece reaching back before its interval opens, or into the next one) look C up."""
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE owned AS
        WITH evidence AS (
            SELECT p.k, p.t, p.active, b.s, b.e, b.cum, b.next_s
            FROM (SELECT * FROM polls WHERE t BETWEEN {poll_lo} AND {poll_hi}) p
            ASOF JOIN biz b ON p.k = b.k AND p.t >= b.s
            WHERE p.t < b.e
        ),
        bounded AS (
            SELECT k, active, s, e, cum, next_s,
                   greatest(t - {horizon_us}, coalesce((lag(t) OVER w + t) >> 1, t - {horizon_us})) AS lo,
                   least(t + {horizon_us}, coalesce((t + lead(t) OVER w) >> 1, t + {horizon_us})) AS hi
            FROM evidence WINDOW w AS (PARTITION BY k ORDER BY t)
        )
        SELECT k, active, lo, hi,
               CASE WHEN lo >= s THEN cum + (lo - s) END AS c_lo,
               CASE WHEN next_s IS NULL OR hi < next_s THEN cum + least(hi - s, e - s) END AS c_hi
        FROM bounded
    """)
    con.execute("""
        CREATE OR REPLACE TEMP TABLE pieces AS
        SELECT k, active, c_lo, c_hi FROM owned WHERE c_lo IS NOT NULL AND c_hi IS NOT NULL
        UNION ALL
        SELECT x.k, x.active, x.c_lo, coalesce(x.c_hi, b.cum + least(x.hi - b.s, b.e - b.s), 0) AS c_hi
        FROM (
            SELECT o.k, o.active, o.hi, coalesce(o.c_lo, b.cum + least(o.lo - b.s, b.e - b.s), 0) AS c_lo, o.c_hi
            FROM (SELECT * FROM owned WHERE c_lo IS NULL OR c_hi IS NULL) o
            ASOF LEFT JOIN biz b ON o.k = b.k AND o.lo >= b.s
        ) x ASOF LEFT JOIN biz b ON x.k = b.k AND x.hi >= b.s
    """)


def _bounds(con, instants: dict[str, int]) -> None:
    """Temp table `bounds` (k, c_<name>...): C of every store at each instant."""
    selects = []
    for name, instant in instants.items():
        selects.append(f"""(SELECT s.k, coalesce(b.cum + least({instant} - b.s, b.e - b.s), 0) AS c_{name}
                             FROM (SELECT k, {instant}::BIGINT AS x FROM stores) s
                             ASOF LEFT JOIN biz b ON s.k = b.k AND s.x >= b.s) AS at_{name}""")
    joined = selects[0] + "".join(f" JOIN {sql} USING (k)" for sql in selects[1:])
    columns = ", ".join(f"c_{name}" for name in instants)
    con.execute(f"CREATE OR REPLACE TEMP TABLE bounds AS SELECT k, {columns} FROM {joined}")


def _clipped(state: str, start: str, end: str) -> str:
    """Step 4: business time of the `state` pieces inside [start, end), in µs."""
    return (f"coalesce(sum(greatest(0, least(p.c_hi, {end}) - greatest(p.c_lo, {start}))) "
            f"FILTER (WHERE p.active = {state == 'up'}), 0)")


def week_rows(con, *, as_of_us: int | None = None, horizon_minutes: int = DEFAULT_HORIZON_MINUTES) -> list[tuple]:
    """docs/rules.md §5 figures per store, ordered by store_id: (id, uptime hour (min), day (h),
    week (h), downtime hour, day, week)."""
    if as_of_us is None:
        as_of_us = con.execute("SELECT max(t) FROM polls").fetchone()[0]
        if as_of_us is None:
            as_of_us = (datetime.now(timezone.utc) - EPOCH) // timedelta(microseconds=1)
    horizon_us = horizon_minutes * 60 * US
    hour, day, week = as_of_us - 3600 * US, as_of_us - DAY_US, as_of_us - 7 * DAY_US
    _business(con, week - horizon_us, as_of_us + 1)
    _pieces(con, week - horizon_us, as_of_us, horizon_us)
    _bounds(con, {"hour": hour, "day": day, "week": week, "end": as_of_us})
    sums = ", ".join(
        f"({_clipped(state, 'c.c_' + window, 'c.c_end')} / {float(US)!r}) / {unit!r} AS {state}_{window}"
        for state in ("up", "down")
        for window, unit in (("hour", 60.0), ("day", 3600.0), ("week", 3600.0))
    )
    return con.execute(f"""
        WITH figures AS (
            SELECT c.k, {sums}
            FROM bounds c LEFT JOIN pieces p ON p.k = c.k
            GROUP BY c.k, c.c_hour, c.c_day, c.c_week, c.c_end
        )
        SELECT s.store_id, f.* EXCLUDE (k) FROM figures f JOIN stores s USING (k) ORDER BY k
    """).fetchall()


def range_rows(con, *, start_us: int, end_us: int | None = None,
               horizon_minutes: int = DEFAULT_HORIZON_MINUTES) -> list[tuple]:
    """docs/rules.md §11 figures per store over [start, end), ordered by store_id:
    (id, uptime, downtime, unknown, business minutes)."""
    if end_us is None:
        end_us = con.execute("SELECT max(t) FROM polls").fetchone()[0]
    horizon_us = horizon_minutes * 60 * US
    _business(con, start_us - horizon_us, end_us + 1)
    _pieces(con, start_us - horizon_us, end_us, horizon_us)
    _bounds(con, {"start": start_us, "end": end_us})
    return con.execute(f"""
        WITH seconds AS (
            SELECT c.k,
                   {_clipped('up', 'c.c_start', 'c.c_end')} / {float(US)!r} AS up,
                   {_clipped('down', 'c.c_start', 'c.c_end')} / {float(US)!r} AS down,
                   (c.c_end - c.c_start) / {float(US)!r} AS business
            FROM bounds c LEFT JOIN pieces p ON p.k = c.k
            GROUP BY c.k, c.c_start, c.c_end
        )
        SELECT s.store_id, up / 60.0, down / 60.0, greatest(business - up - down, 0.0) / 60.0, business / 60.0
        FROM seconds JOIN stores s USING (k) ORDER BY k
    """).fetchall()


# --------------------------------------------------------------------------- the CSV

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def two_decimals(value: float) -> str:
    return f"{round(value, 2) + 0.0:.2f}"  # Python's round (half to even on the binary value); never -0.00


def write_csv(out, header: tuple[str, ...], rows: list[tuple]) -> None:
    plain = csv.writer(out, lineterminator="\n")
    quoted = csv.writer(out, lineterminator="\n", quoting=csv.QUOTE_ALL)
    plain.writerow(header)
    for store_id, *figures in rows:
        cell = "'" + store_id if store_id.startswith(FORMULA_STARTS) else store_id
        (quoted if "\r" in cell else plain).writerow([cell, *map(two_decimals, figures)])


def csv_differences(ours: str, theirs: str, *, limit: int = 10) -> list[str]:
    """What differs between two report CSVs, row by row (empty when they agree): the
    header, the store ids in order, and each figure to 2 decimals."""
    a, b = list(csv.reader(io.StringIO(ours))), list(csv.reader(io.StringIO(theirs)))
    problems = []
    if not a or not b or a[0] != b[0]:
        return [f"headers differ: {a[:1]} / {b[:1]}"]
    if len(a) != len(b):
        problems.append(f"{len(a) - 1} rows / {len(b) - 1} rows")
    for x, y in zip(a[1:], b[1:]):
        if x != y:
            problems.append(f"{x} / {y}")
            if len(problems) >= limit:
                break
    return problems


# --------------------------------------------------------------------------- command line


def instant_us(text: str) -> int:
    """An instant with its offset (2023-01-25T18:13:22Z, …+00:00, … UTC) -> µs."""
    value = text.strip()
    value = value[:-4] + "+00:00" if value.upper().endswith(" UTC") else value
    moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    if moment.tzinfo is None:
        raise SystemExit(f"{text}: needs an offset, e.g. 2023-01-25T18:13:22Z")
    return (moment - EPOCH) // timedelta(microseconds=1)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    p_load = commands.add_parser("load", help="load the CSV files of DIR into a DuckDB file")
    p_load.add_argument("folder", type=Path)
    p_load.add_argument("database", type=Path)
    for name in ("week", "range"):
        p = commands.add_parser(name, help=f"the {name} report's CSV")
        p.add_argument("database", type=Path)
        p.add_argument("--output", type=Path, help="CSV file (default: stdout)")
        p.add_argument("--horizon-minutes", type=int, default=DEFAULT_HORIZON_MINUTES)
        if name == "week":
            p.add_argument("--as-of", help="default: the latest poll")
        else:
            p.add_argument("--from", dest="start", required=True)
            p.add_argument("--to", dest="end", help="default: the latest poll")
    p_compare = commands.add_parser("compare", help="compare two report CSVs row by row")
    p_compare.add_argument("ours", type=Path)
    p_compare.add_argument("theirs", type=Path)
    args = parser.parse_args(argv)

    if args.command == "load":
        began = time.perf_counter()
        counts = load(args.folder, args.database)
        print(f"loaded {', '.join(f'{k} {v:,}' for k, v in counts.items())} "
              f"into {args.database} in {time.perf_counter() - began:.2f} s", file=sys.stderr)
        return
    if args.command == "compare":
        problems = csv_differences(args.ours.read_text(), args.theirs.read_text())
        print("\n".join(problems) if problems else "same rows, same figures")
        raise SystemExit(1 if problems else 0)
    con = duckdb.connect(str(args.database))
    if args.command == "week":
        rows = week_rows(con, as_of_us=instant_us(args.as_of) if args.as_of else None,
                         horizon_minutes=args.horizon_minutes)
        header = WEEK_HEADER
    else:
        rows = range_rows(con, start_us=instant_us(args.start),
                          end_us=instant_us(args.end) if args.end else None, horizon_minutes=args.horizon_minutes)
        header = RANGE_HEADER
    con.close()
    if args.output is None:
        write_csv(sys.stdout, header, rows)
    else:
        with args.output.open("w", newline="") as out:
            write_csv(out, header, rows)


if __name__ == "__main__":
    main()
