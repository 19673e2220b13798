"""Big status files for the bulk path (into an empty poll table), and what that path
leaves behind."""

import random
from datetime import datetime, timedelta
from pathlib import Path

from django.db import connection

from tests.ingest_data import UTC, write


def big_status_file(
    directory: Path, rows: int, *, duplicate: bool = False, shuffled_from: int | None = None
) -> tuple[Path, set]:
    start = datetime(2023, 1, 18, tzinfo=UTC)
    lines = ["store_id,timestamp_utc,status"]
    expected = {}
    order = list(range(rows))
    if shuffled_from is not None:  # no time order from that row on, as in the public release
        rest = order[shuffled_from:]
        random.Random(7).shuffle(rest)
        order[shuffled_from:] = rest
    for i in order:
        store = f"store-{i % 97}"
        when = start + timedelta(minutes=i, microseconds=i)
        active = i % 5 != 0
        lines.append(f"{store},{when:%Y-%m-%d %H:%M:%S.%f} UTC,{'active' if active else 'inactive'}")
        expected[(store, when)] = active
    if duplicate:  # the first key again, status flipped, at the end: it wins
        store, when = "store-0", start
        lines.append(f"{store},{when:%Y-%m-%dT%H:%M:%S}Z,active")
        expected[(store, when)] = True
    path = write(directory, "store_status.csv", "\n".join(lines) + "\n")
    return path, {(store, when, active) for (store, when), active in expected.items()}


def poll_table_schema() -> list:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = 'monitoring_statuspoll'"
            " UNION ALL SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint"
            " WHERE conrelid = 'monitoring_statuspoll'::regclass ORDER BY 1"
        )
        return cursor.fetchall()


def time_order_faults() -> dict[str, int]:
    """What keeps the poll table's rows, in their physical order, from being in time
    order: per weekly partition (a ctid is a place in one partition; the BRIN index of
    each partition needs its own rows in order), the rows stored after a later instant; and
    the rows left in the DEFAULT partition. Empty when they are in time order."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT tableoid::regclass::text, count(*) FILTER (WHERE NOT later)"
            " FROM (SELECT tableoid, timestamp_utc >= lag(timestamp_utc, 1, '-infinity')"
            " OVER (PARTITION BY tableoid ORDER BY ctid) AS later FROM monitoring_statuspoll) rows GROUP BY 1"
        )
        faults = {f"{name}: rows stored after a later instant": count for name, count in cursor.fetchall() if count}
        cursor.execute("SELECT count(*) FROM monitoring_statuspoll_default")
        left = cursor.fetchone()[0]
    if left:
        faults["monitoring_statuspoll_default: rows"] = left
    return faults
