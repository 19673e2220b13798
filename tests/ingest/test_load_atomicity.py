"""A file either loads or leaves what was stored before intact: a missing column, a
failure mid-load, a failure at commit."""

import pytest
from django.db import connection
from monitoring.ingest import (
    LoadError,
    load_status_file,
    load_timezones_file,
)

from tests.ingest_data import PLAIN, poll_rows_with_versions, write, zones


def test_a_file_missing_a_column_leaves_stored_data_intact(db, tmp_path):
    load_status_file(path=write(tmp_path, "a.csv", PLAIN))
    before = poll_rows_with_versions()
    with pytest.raises(LoadError):
        load_status_file(path=write(tmp_path, "b.csv", "store_id,timestamp\n1,2023-01-22 12:00:00 UTC\n"))
    assert poll_rows_with_versions() == before


TRAP_TIME = "2001-02-03 04:05:06"


@pytest.fixture
def poll_trap():
    """A real trigger that fails any write of a poll at TRAP_TIME (immediate or at
    commit), to make a load fail half-way."""
    def install(*, deferred: bool):
        with connection.cursor() as cursor:
            cursor.execute(
                "CREATE OR REPLACE FUNCTION test_poll_trap() RETURNS trigger LANGUAGE plpgsql AS $$"
                f" BEGIN IF NEW.timestamp_utc = '{TRAP_TIME}+00'"
                " THEN RAISE EXCEPTION 'trapped poll'; END IF; RETURN NEW; END $$"
            )
            timing = "DEFERRABLE INITIALLY DEFERRED" if deferred else "NOT DEFERRABLE"
            cursor.execute(
                f"CREATE CONSTRAINT TRIGGER test_poll_trap AFTER INSERT OR UPDATE ON monitoring_statuspoll"
                f" {timing} FOR EACH ROW EXECUTE FUNCTION test_poll_trap()"
            )

    yield install
    with connection.cursor() as cursor:
        cursor.execute("DROP TRIGGER IF EXISTS test_poll_trap ON monitoring_statuspoll")
        cursor.execute("DROP FUNCTION IF EXISTS test_poll_trap()")


def test_a_failure_mid_load_leaves_stored_data_intact(db, tmp_path, poll_trap):
    load_status_file(path=write(tmp_path, "a.csv", PLAIN))
    load_timezones_file(path=write(tmp_path, "tz.csv", "store_id,timezone_str\n1,Asia/Tokyo\n"))
    before = poll_rows_with_versions(), zones()
    poll_trap(deferred=False)
    content = PLAIN.replace("active\n", "inactive\n", 1) + f"new,2023-01-22 12:00:00 UTC,active\ntrap,{TRAP_TIME} UTC,active\n"
    with pytest.raises(Exception, match="trapped poll"):
        load_status_file(path=write(tmp_path, "b.csv", content))
    assert (poll_rows_with_versions(), zones()) == before  # no poll changed, no store created


@pytest.mark.django_db(transaction=True)
def test_a_failure_at_commit_leaves_stored_data_intact(tmp_path, poll_trap):
    load_status_file(path=write(tmp_path, "a.csv", PLAIN))
    before = poll_rows_with_versions(), zones()
    poll_trap(deferred=True)
    content = f"store_id,timestamp_utc,status\n1,2023-01-22 12:09:39.388884 UTC,inactive\ntrap,{TRAP_TIME} UTC,active\n"
    with pytest.raises(Exception, match="trapped poll"):
        load_status_file(path=write(tmp_path, "b.csv", content))
    assert (poll_rows_with_versions(), zones()) == before
    with connection.cursor() as cursor:  # no staging table left behind
        cursor.execute("SELECT count(*) FROM pg_class WHERE relname LIKE 'monitoring_load_%'")
        assert cursor.fetchone()[0] == 0
