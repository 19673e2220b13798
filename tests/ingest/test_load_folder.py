"""Loading a folder: finding its files by name, `load_files`, the `load_data` command
(its options, exit codes, an unmigrated database) and the public data set."""

import csv
import io
import os
import re
import subprocess
import sys
import uuid
from datetime import date, datetime
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from monitoring.ingest import (
    LoadError,
    find_input_files,
    load_files,
)
from monitoring.kernel import values
from monitoring.models import BusinessHours, StatusPoll, Store

from tests.ingest_data import PLAIN, ROOT, UTC, polls, specials, write, zones


def _folder(tmp_path: Path, names=("store status.csv", "Menu hours.csv", "bq-results-20230125-202210.csv")) -> Path:
    folder = tmp_path / "in"
    folder.mkdir()
    write(folder, names[0], "store_id,timestamp_utc,status\na,2023-01-22 12:00:00 UTC,active\nb,x,active\n")
    write(folder, names[1], "store_id,dayOfWeek,start_time_local,end_time_local\na,0,09:00,17:00\n")
    write(folder, names[2], "store_id,timezone_str\na,Asia/Tokyo\n")
    if len(names) > 3:
        write(folder, names[3], "store_id,date,start_time_local,end_time_local\na,2023-01-23,,\n")
    write(folder, "store_status.rejects.csv", "old\n")
    write(folder, "notes.txt", "x")
    return folder


def test_find_input_files_by_their_names_in_any_case(tmp_path):
    folder = _folder(tmp_path)
    assert {k: p.name for k, p in find_input_files(directory=folder).items()} == {
        "status": "store status.csv",
        "hours": "Menu hours.csv",
        "timezones": "bq-results-20230125-202210.csv",
    }
    write(folder, "STORE_STATUS.CSV", "store_id,timestamp_utc,status\n")
    with pytest.raises(LoadError, match="more than one status file"):
        find_input_files(directory=folder)


def test_load_directory_with_special_hours(db, tmp_path):
    names = ("store_status.csv", "menu_hours.csv", "timezones.csv", "Special Hours.csv")
    results = load_files(files=find_input_files(directory=_folder(tmp_path, names)))
    assert [r.kind for r in results] == ["timezones", "hours", "special_hours", "status"]
    assert specials() == [("a", date(2023, 1, 23), None, None)]


def test_load_directory(db, tmp_path):
    results = load_files(
        files=find_input_files(directory=_folder(tmp_path)),
        rejects_path_of=lambda path: tmp_path / "rejects" / (path.stem + ".rejects.csv"),
    )
    assert [r.kind for r in results] == ["timezones", "hours", "status"]
    assert zones() == {"a": "Asia/Tokyo", "b": None}
    assert (tmp_path / "rejects" / "store status.rejects.csv").exists()


def test_load_data_command(db, tmp_path):
    folder = _folder(tmp_path, ("store_status.csv", "menu_hours.csv", "timezones.csv"))
    out, err = io.StringIO(), io.StringIO()
    call_command("load_data", str(folder), stdout=out, stderr=err)
    lines = out.getvalue().splitlines()
    assert len(lines) == 3
    assert lines[0].startswith("timezones.csv (timezones): 1 row: loaded 1, replaced 0,")
    assert lines[2].startswith("store_status.csv (status): 2 rows: loaded 1, replaced 0, unchanged 0, rejected 1,")
    assert "store_status.csv:3: timestamp_utc: unparsable 'x' (write e.g." in err.getvalue()
    rejects = folder / "store_status.rejects.csv"  # default: next to the input
    assert "unparsable '" in rejects.read_text()
    assert not (folder / "menu_hours.rejects.csv").exists()
    # --if-empty: there are stores now, nothing happens.
    out = io.StringIO()
    call_command("load_data", str(folder), "--if-empty", stdout=out)
    assert "skipped (--if-empty)" in out.getvalue()


def test_load_data_command_explicit_files_and_errors(db, tmp_path):
    status = write(tmp_path, "polls.csv", PLAIN)
    out = io.StringIO()
    call_command("load_data", "--status", str(status), "--rejects", str(tmp_path / "r"), stdout=out)
    assert out.getvalue().startswith("polls.csv (status): 2 rows: loaded 2")
    with pytest.raises(CommandError, match="no such file"):
        call_command("load_data", "--status", str(tmp_path / "missing.csv"))
    bad = write(tmp_path, "hours.csv", "store_id,start_time_local,end_time_local\n")
    with pytest.raises(CommandError, match="missing required column 'dayOfWeek' or 'day'"):
        call_command("load_data", "--status", str(status), "--hours", str(bad))
    with pytest.raises(CommandError, match="give a directory"):
        call_command("load_data")


@pytest.mark.slow
def test_load_data_exit_codes(tmp_path):
    """A real process: a missing column is a clear one-line error and exit code 1."""
    bad = write(tmp_path, "s.csv", "store_id,timestamp\n1,2023-01-22 12:00:00 UTC\n")
    done = subprocess.run(
        [sys.executable, "manage.py", "load_data", "--status", str(bad)],
        cwd=ROOT, capture_output=True, text=True, timeout=120,
    )
    assert done.returncode == 1
    assert "missing required column 'timestamp_utc'" in done.stderr and str(bad) in done.stderr
    assert "Traceback" not in done.stderr


def test_load_data_folder_without_any_input_file_lists_the_names(db, tmp_path):
    folder = tmp_path / "empty"
    folder.mkdir()
    write(folder, "notes.txt", "x")
    with pytest.raises(CommandError) as refused:
        call_command("load_data", str(folder))
    message = str(refused.value)
    assert message.startswith(f"{folder}: no input file found; expected ")
    for name in ("store_status.csv", "'store status.csv'", "menu_hours.csv", "'menu hours.csv'", "timezones.csv",
                 "bq-results-*.csv"):
        assert name in message
    # Some of the files: a warning, and the ones present load.
    write(folder, "timezones.csv", "store_id,timezone_str\na,Asia/Tokyo\n")
    err = io.StringIO()
    call_command("load_data", str(folder), stdout=io.StringIO(), stderr=err)
    assert re.search(rf"load_data: no status, hours\b.* file in {re.escape(str(folder))}", err.getvalue())
    assert zones() == {"a": "Asia/Tokyo"}


def test_load_data_strict_fails_after_loading_the_good_rows(db, tmp_path):
    folder = _folder(tmp_path, ("store_status.csv", "menu_hours.csv", "timezones.csv"))
    with pytest.raises(CommandError) as refused:
        call_command("load_data", str(folder), "--strict", stdout=io.StringIO(), stderr=io.StringIO())
    rejects = folder / "store_status.rejects.csv"  # <input name without .csv>.rejects.csv
    assert str(refused.value) == f"--strict: 1 row rejected (see {rejects}); the other rows are loaded"
    assert polls() == [("a", datetime(2023, 1, 22, 12, tzinfo=UTC), True)]
    assert "unparsable '" in rejects.read_text()
    # Nothing rejected: --strict is silent.
    clean = tmp_path / "clean"
    clean.mkdir()
    write(clean, "store_status.csv", PLAIN)
    call_command("load_data", str(clean), "--strict", stdout=io.StringIO(), stderr=io.StringIO())


@pytest.mark.slow
def test_load_data_into_an_unmigrated_database_migrates_first(tmp_path):
    """A fresh database (e.g. after `rm -rf .data`): one line, then the data, exit 0 and
    no traceback."""
    import psycopg2
    from django.conf import settings

    conf = settings.DATABASES["default"]
    name = f"load_unmigrated_{uuid.uuid4().hex[:12]}"
    admin = psycopg2.connect(
        dbname="postgres", user=conf["USER"], password=conf["PASSWORD"], host=conf["HOST"], port=conf["PORT"] or 5432
    )
    admin.autocommit = True
    with admin.cursor() as cursor:
        cursor.execute(f'CREATE DATABASE "{name}"')
    try:
        url = f"postgres://{conf['USER']}@{conf['HOST']}:{conf['PORT'] or 5432}/{name}"
        if conf["PASSWORD"]:
            url = f"postgres://{conf['USER']}:{conf['PASSWORD']}@{conf['HOST']}:{conf['PORT'] or 5432}/{name}"
        env = {**os.environ, "DATABASE_URL": url}
        done = subprocess.run(
            [sys.executable, "manage.py", "load_data", "csv_data", "--no-rejects-file"],
            cwd=ROOT, capture_output=True, text=True, timeout=300, env=env,
        )
        assert done.returncode == 0, done.stderr[-3000:]
        assert "Traceback" not in done.stderr
        assert "database not migrated: migrating first…" in done.stderr.splitlines()
        assert "store_status.csv (status):" in done.stdout
        check = psycopg2.connect(dbname=name, user=conf["USER"], password=conf["PASSWORD"], host=conf["HOST"],
                                 port=conf["PORT"] or 5432)
        try:
            with check.cursor() as cursor:
                cursor.execute("SELECT count(*) FROM monitoring_store")
                assert cursor.fetchone()[0] > 0
                cursor.execute("SELECT count(*) FROM monitoring_statuspoll")
                assert cursor.fetchone()[0] > 0
                cursor.execute("SELECT to_regclass('graphql_read_cache') IS NOT NULL")
                assert cursor.fetchone()[0]  # the GraphQL read cache's table, made by migrate too
        finally:
            check.close()
        # Migrated now: a second load says nothing about migrations.
        again = subprocess.run(
            [sys.executable, "manage.py", "load_data", "csv_data", "--no-rejects-file"],
            cwd=ROOT, capture_output=True, text=True, timeout=300, env=env,
        )
        assert again.returncode == 0 and "migrating" not in again.stderr
    finally:
        with admin.cursor() as cursor:
            cursor.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.close()


def _distinct(path: Path, *columns: str) -> set[tuple]:
    with path.open(newline="", encoding="utf-8-sig") as handle:
        return {tuple(row[c].strip() for c in columns) for row in csv.DictReader(handle)}


def test_public_sample_files(db, tmp_path, shared_data):
    status, hours_file, zones_file = (
        shared_data / "store_status_sample.csv",
        shared_data / "menu_hours.csv",
        shared_data / "timezones.csv",
    )
    out = io.StringIO()
    call_command(
        "load_data", "--status", str(status), "--hours", str(hours_file), "--timezones", str(zones_file),
        "--rejects", str(tmp_path), stdout=out,
    )
    assert " rejected 0," in out.getvalue() and out.getvalue().count(" rejected 0,") == 3
    store_ids = {s for (s,) in _distinct(status, "store_id") | _distinct(hours_file, "store_id") | _distinct(zones_file, "store_id")}
    assert Store.objects.count() == len(store_ids)
    assert StatusPoll.objects.count() == len(_distinct(status, "store_id", "timestamp_utc"))
    assert BusinessHours.objects.count() == len(_distinct(hours_file, "store_id", "day", "start_time_local", "end_time_local"))
    with_zone = {s: z for s, z in _distinct(zones_file, "store_id", "timezone_str") if z}
    assert dict(Store.objects.exclude(timezone_name=None).values_list("store_id", "timezone_name")) == with_zone
    sid, stamp, state = next(iter(_distinct(status, "store_id", "timestamp_utc", "status")))
    poll = StatusPoll.objects.get(store__store_id=sid, timestamp_utc=values.instant(stamp, field="t", naive_utc=True))
    assert poll.is_active == (state == "active")
    # Loading everything again changes nothing.
    out = io.StringIO()
    call_command(
        "load_data", "--status", str(status), "--hours", str(hours_file), "--timezones", str(zones_file),
        "--no-rejects-file", stdout=out,
    )
    assert out.getvalue().count("loaded 0, replaced 0") == 3


def test_load_data_special_option(db, tmp_path):
    special = write(tmp_path, "holidays.csv", "store_id,date,start_time_local,end_time_local\na,2023-12-25,,\na,2023-12-26,x,\n")
    out, err = io.StringIO(), io.StringIO()
    call_command("load_data", "--special", str(special), "--no-rejects-file", stdout=out, stderr=err)
    assert out.getvalue().startswith("holidays.csv (special_hours): 2 rows: loaded 1, replaced 0, unchanged 0,")
    assert "removed 0, rejected 1" in out.getvalue()
    assert "holidays.csv:3: end_time_local: missing (a day closed all day" in err.getvalue()
    assert specials() == [("a", date(2023, 12, 25), None, None)]
    with pytest.raises(CommandError, match="no such file"):
        call_command("load_data", "--special", str(tmp_path / "missing.csv"))
