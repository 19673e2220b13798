"""The data version: a number that changes whenever stores, business hours (weekly or
special) or polls change, for caching reads derived from them (graphql_schema.limits.read_cache).

Every writing statement on those tables bumps the `monitoring_data_version` sequence
and holds the advisory lock WRITER_LOCK_KEY until its transaction ends (triggers of
migrations 0009 and 0012): writers queue on it, one at a time. A reader reads the version and,
in the same statement, checks that no writer holds the lock: then every write counted
in the version is committed, and data read afterwards is at least that new, so a
result may be cached under the version. Otherwise the version may count a write not
yet visible; the result is served but not cached.

A writer waiting for the lock in its trigger already holds its statement's table
lock (ROW EXCLUSIVE), so writers must not take stronger table locks while holding the
writer lock and waiting: the file loaders take the writer lock first (`writer_lock`)
and need no table locks of their own (the empty-table bulk path asks for its exclusive
lock with NOWAIT, and takes the ordinary path if it is busy).

The number counts in one database only, and starts again in a recreated one; a restored
one goes back to the number of its dump. A cache kept outside the database (Redis) keys
by `origin` too: the database's oid and the server's start time, both new when the
database is recreated or restored, or the server restarted.
"""

from dataclasses import dataclass

from django.db import connection

WRITER_LOCK_KEY = 0x75707469  # "upti"; the triggers of migration 0009 use the same key


@dataclass(frozen=True)
class DataVersion:
    number: int
    settled: bool  # no writer in flight: every write counted in `number` is committed
    origin: str  # which database counts `number`: "<database oid>@<server start time>"


def data_version_read() -> DataVersion:
    return _version_read("monitoring_data_version")


def _version_read(sequence: str) -> DataVersion:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT last_value + (CASE WHEN is_called THEN 0 ELSE -1 END),"
            " CASE WHEN pg_try_advisory_lock_shared(%s) THEN pg_advisory_unlock_shared(%s) ELSE false END,"
            " (SELECT oid FROM pg_database WHERE datname = current_database())::text"
            " || '@' || extract(epoch FROM pg_postmaster_start_time())::text"
            f" FROM {sequence}",
            [WRITER_LOCK_KEY, WRITER_LOCK_KEY],
        )
        number, settled, origin = cursor.fetchone()
    return DataVersion(number=number, settled=bool(settled), origin=origin)


def writer_lock(cursor) -> None:
    """Queue as a writer now, before taking table locks (held until the transaction ends)."""
    cursor.execute("SELECT pg_advisory_xact_lock(%s)", [WRITER_LOCK_KEY])


def hours_version_read() -> DataVersion:
    """The hours version (migration 0023): it moves when weekly hours are written, not
    with polls, zones or special hours; `settled` and `origin` as for the data version."""
    return _version_read("monitoring_hours_version")
