"""The CSV files of docs/rules.md §1 and §9 into a DuckDB file: the `load` command of the
exact DuckDB baseline of the reports (bench/duckdb_report.py).

`load` reads the files found in DIR by their
usual names (or the one CSV whose name starts with one, as `load_data` does), columns by
header name in any case, values trimmed of spaces and tabs, into tables `stores` (every
id met in any file, keyed by a number `k` in store_id order), `polls`, `hours`, `zones`,
`special_days`, `special_shifts` (by `k`). It accepts the shapes the
generated and the public files use (timestamps `… UTC` or with an offset, 0–6 fraction
digits; times `H:MM`, `HH:MM[:SS[.ffffff]]`, `24:00` as an end; zones matched
case-insensitively with zoneinfo) and rejects, counting them, rows it cannot read;
it is not the full grammar of §7 (no Unicode category checks on ids). A key
`(store_id, timestamp)` seen twice keeps its later line; the later zone row wins.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from pathlib import Path
from zoneinfo import available_timezones

import duckdb

US = 1_000_000
DAY_US = 86_400 * US
EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)


# --------------------------------------------------------------------------- files

#: kind -> (exact names, name prefixes), lower case, as load_data finds them.
FILE_NAMES = {
    "status": (("store_status.csv", "store status.csv"), ("store_status", "store status")),
    "hours": (("menu_hours.csv", "menu hours.csv"), ("menu_hours", "menu hours")),
    "timezones": (("timezones.csv",), ("timezones", "bq-results")),
    "special": (("special_hours.csv", "special hours.csv"), ("special_hours", "special hours")),
}


def find_files(folder: Path) -> dict[str, Path]:
    csvs = [p for p in folder.iterdir() if p.is_file() and p.name.lower().endswith(".csv")
            and not p.name.lower().endswith(".rejects.csv")]
    found = {}
    for kind, (names, prefixes) in FILE_NAMES.items():
        exact = [p for p in csvs if p.name.lower() in names]
        starts = [p for p in csvs if p.name.lower().startswith(prefixes)]
        if exact:
            found[kind] = exact[0]
        elif len(starts) == 1:
            found[kind] = starts[0]
    return found


SPACE_TAB = "' ' || chr(9)"


def _raw_table(con, table: str, path: Path, columns: dict[str, tuple[str, ...]]) -> None:
    """`table` (line, <column>...) from the CSV at `path`, every value text trimmed of
    spaces and tabs, columns found by header name in any case. Rows keep the file's order
    (DuckDB preserves insertion order), so `line` (the rowid) orders them."""
    reader = ("read_csv(?, all_varchar = true, header = true, delim = ',', quote = '\"', escape = '\"', "
              "null_padding = true, ignore_errors = true)")
    header = [row[0] for row in con.execute(f"DESCRIBE SELECT * FROM {reader}", [str(path)]).fetchall()]
    by_name = {name.strip(" \t\ufeff").lower(): name for name in header}
    picked = []
    for column, names in columns.items():
        source = next((by_name[n] for n in names if n in by_name), None)
        if source is None:
            raise SystemExit(f"{path}: no column {names[0]}")
        quoted = source.replace('"', '""')
        picked.append(f'coalesce(trim("{quoted}", {SPACE_TAB}), \'\') AS {column}')
    con.execute(f"CREATE OR REPLACE TEMP TABLE {table}_rows AS SELECT {', '.join(picked)} FROM {reader}", [str(path)])
    con.execute(f"CREATE OR REPLACE TEMP VIEW {table} AS SELECT rowid AS line, * FROM {table}_rows")


# A store id: 1–255 characters, no control character (the files' ids are plain ASCII).
VALID_ID = "(length(store_id) BETWEEN 1 AND 255 AND NOT regexp_matches(store_id, '[\\x00-\\x1f\\x7f-\\x9f]'))"

# Local times: H:MM or HH:MM[:SS[.ffffff]] -> µs after midnight (NULL when unreadable).
TIME_PATTERN = r"^(\d{1,2}):(\d{2})(?::(\d{2})(?:\.(\d{1,6}))?)?$"


def _time_us(column: str, *, end: bool) -> str:
    h = f"TRY_CAST(regexp_extract({column}, '{TIME_PATTERN}', 1) AS BIGINT)"
    m = f"TRY_CAST(regexp_extract({column}, '{TIME_PATTERN}', 2) AS BIGINT)"
    s = f"coalesce(TRY_CAST(nullif(regexp_extract({column}, '{TIME_PATTERN}', 3), '') AS BIGINT), 0)"
    f = f"coalesce(TRY_CAST(nullif(rpad(regexp_extract({column}, '{TIME_PATTERN}', 4), 6, '0'), '000000') AS BIGINT), 0)"
    value = f"((({h}) * 60 + {m}) * 60 + {s}) * {US} + {f}"
    ok = f"(regexp_matches({column}, '{TIME_PATTERN}') AND {m} < 60 AND {s} < 60"
    # 24:00 is an end time only, meaning the end of the day: the same instants as 00:00.
    if end:
        return f"CASE WHEN {ok} AND {h} < 24) THEN {value} WHEN {ok} AND {h} = 24 AND {value} = {24 * 3600 * US}) THEN 0 END"
    return f"CASE WHEN {ok} AND {h} < 24) THEN {value} END"


def _instant_us(column: str) -> str:
    """A status file's timestamp -> µs: `… UTC` (the files' shape) or ISO 8601 with Z or
    an offset; without a zone it is UTC (the column says so); 0–6 fraction digits."""
    shape = (r"^\d{4}-\d{2}-\d{2}[T ]\d{1,2}:\d{2}(:\d{2}(\.\d{0,6})?)?"
             r"( ?(UTC|GMT|Z|[+-]\d{2}(:?\d{2})?))?$")
    zoned = (f"regexp_replace(regexp_replace({column}, ' ?(UTC|GMT|Z)$', ''), "
             r"'([+-]\d{2}(:?\d{2})?)?$', '') ")
    offset = f"regexp_extract({column}, '([+-]\\d{{2}}(:?\\d{{2}})?)$', 1)"
    # The files' own shape, `YYYY-MM-DD HH:MM:SS[.f{0,6}] UTC`, first: no regular expression.
    canonical = f"{column} LIKE '____-__-__ __:__:__% UTC' AND length({column}) <= 30"
    return (f"CASE WHEN {canonical} THEN epoch_us(TRY_CAST(left({column}, length({column}) - 4) AS TIMESTAMP)) "
            f"WHEN regexp_matches({column}, '{shape}') THEN "
            f"epoch_us(TRY_CAST({zoned} || CASE WHEN {offset} = '' THEN '+00:00' ELSE {offset} END AS TIMESTAMPTZ)) END")


def load(folder: Path, target: Path, *, files: dict[str, Path] | None = None) -> dict[str, int]:
    """The CSV files of `folder` into a new DuckDB file `target`; returns counts."""
    files = files or find_files(folder)
    for kind in ("status", "hours", "timezones"):
        if kind not in files:
            raise SystemExit(f"{folder}: no {kind} file")
    target.unlink(missing_ok=True)
    con = duckdb.connect(str(target))
    counts: dict[str, int] = {}
    _raw_table(con, "raw_status", files["status"],
               {"store_id": ("store_id",), "ts": ("timestamp_utc",), "status": ("status",)})
    _raw_table(con, "raw_hours", files["hours"],
               {"store_id": ("store_id",), "day": ("dayofweek", "day"), "st": ("start_time_local",),
                "en": ("end_time_local",)})
    _raw_table(con, "raw_zones", files["timezones"], {"store_id": ("store_id",), "zone": ("timezone_str",)})
    if "special" in files:
        _raw_table(con, "raw_special", files["special"],
                   {"store_id": ("store_id",), "date": ("date",), "st": ("start_time_local",),
                    "en": ("end_time_local",)})
    else:
        con.execute("CREATE TEMP VIEW raw_special AS SELECT 0::BIGINT AS line, '' AS store_id, '' AS date, "
                    "'' AS st, '' AS en WHERE false")

    # Every store that appears in any input (a row rejected for another field still names it),
    # keyed by a number in store_id order (code-point order: DuckDB compares text bytewise).
    con.execute(f"""
        CREATE TABLE stores AS SELECT row_number() OVER (ORDER BY store_id)::INTEGER AS k, store_id FROM (
            SELECT DISTINCT store_id FROM (
                SELECT store_id FROM raw_status UNION ALL SELECT store_id FROM raw_hours
                UNION ALL SELECT store_id FROM raw_zones UNION ALL SELECT store_id FROM raw_special
            ) WHERE {VALID_ID}
        )
    """)
    now_us = (datetime.now(timezone.utc) - EPOCH) // timedelta(microseconds=1)
    first_us = (datetime(2000, 1, 1, tzinfo=timezone.utc) - EPOCH) // timedelta(microseconds=1)
    con.execute(f"""
        CREATE TABLE polls AS
        SELECT k, t, arg_max(status, line) = 'active' AS active FROM (
            SELECT k, {_instant_us('ts')} AS t, lower(status) AS status, line FROM raw_status JOIN stores USING (store_id)
        )
        WHERE t BETWEEN {first_us} AND {now_us + 300 * US} AND status IN ('active', 'inactive')
        GROUP BY k, t  -- the later line of a key wins
    """)
    counts["polls"] = con.execute("SELECT count(*) FROM polls").fetchone()[0]
    counts["status_rows"] = con.execute("SELECT count(*) FROM raw_status").fetchone()[0]

    con.execute(f"""
        CREATE TABLE hours AS
        SELECT DISTINCT k, dow, start_us, CASE WHEN end_us - start_us <= 0 THEN end_us - start_us + {DAY_US}
                                               ELSE end_us - start_us END AS length_us
        FROM (SELECT k, TRY_CAST(CASE WHEN regexp_matches(day, '^[0-6]$') THEN day END AS INTEGER) AS dow,
                     {_time_us('st', end=False)} AS start_us, {_time_us('en', end=True)} AS end_us
              FROM raw_hours JOIN stores USING (store_id))
        WHERE dow IS NOT NULL AND start_us IS NOT NULL AND end_us IS NOT NULL
    """)
    counts["hours_rows"] = con.execute("SELECT count(*) FROM hours").fetchone()[0]

    # Zones: IANA names known to zoneinfo, any case, in their canonical spelling.
    names = {name.lower(): name for name in available_timezones()}
    given = [row[0] for row in con.execute("SELECT DISTINCT zone FROM raw_zones WHERE zone <> ''").fetchall()]
    known = [(text, names[text.lower()]) for text in given if text.lower() in names]
    con.execute("CREATE TEMP TABLE zone_names (given VARCHAR, zone VARCHAR)")
    if known:
        con.executemany("INSERT INTO zone_names VALUES (?, ?)", known)
    con.execute("""
        CREATE TABLE zones AS
        SELECT k, arg_max(n.zone, line) AS zone
        FROM raw_zones r JOIN zone_names n ON r.zone = n.given JOIN stores s ON s.store_id = r.store_id
        GROUP BY k  -- the later row wins
    """)

    # Special hours: the local date (days since 1970-01-01); both times empty = closed all day.
    con.execute(f"""
        CREATE TEMP TABLE special_rows AS
        SELECT k, day, st = '' AND en = '' AS closed, start_us,
               CASE WHEN end_us - start_us <= 0 THEN end_us - start_us + {DAY_US} ELSE end_us - start_us END AS length_us
        FROM (SELECT k, st, en,
                     CASE WHEN regexp_matches(date, '^\\d{{4}}-\\d{{2}}-\\d{{2}}$')
                          THEN datediff('day', DATE '1970-01-01', TRY_CAST(date AS DATE)) END AS day,
                     TRY_CAST(date AS DATE) AS local_date,
                     {_time_us('st', end=False)} AS start_us, {_time_us('en', end=True)} AS end_us
              FROM raw_special JOIN stores USING (store_id))
        WHERE day IS NOT NULL AND year(local_date) BETWEEN 2000 AND 2100
          AND ((st = '' AND en = '') OR (start_us IS NOT NULL AND end_us IS NOT NULL))
    """)
    con.execute("CREATE TABLE special_days AS SELECT DISTINCT k, day FROM special_rows")
    con.execute("CREATE TABLE special_shifts AS SELECT DISTINCT k, day, start_us, length_us "
                "FROM special_rows WHERE NOT closed")
    counts["stores"] = con.execute("SELECT count(*) FROM stores").fetchone()[0]
    counts["special_rows"] = con.execute("SELECT count(*) FROM special_rows").fetchone()[0]
    con.execute("CHECKPOINT")
    con.close()
    return counts
