"""`load_data DIR` says what it found for each kind and what it did not, takes a close
name (`store_status_sample.csv`) when it is the only one, and fails when it stored
nothing at all."""

import io
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from monitoring.models import StatusPoll, Store

pytestmark = pytest.mark.django_db

STATUS = "store_id,timestamp_utc,status\na,2023-01-25 10:00:00 UTC,active\nb,2023-01-25 10:00:00 UTC,inactive\n"
HOURS = "store_id,dayOfWeek,start_time_local,end_time_local\na,2,09:00,17:00\n"
ZONES = "store_id,timezone_str\na,Asia/Tokyo\n"


def folder(tmp_path: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        (tmp_path / name).write_text(text)
    return tmp_path


def load(path: Path) -> tuple[str, str]:
    out, err = io.StringIO(), io.StringIO()
    call_command("load_data", str(path), "--no-rejects-file", stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def test_a_close_name_is_taken_and_said(tmp_path):
    path = folder(tmp_path, {"store_status_sample.csv": STATUS, "menu_hours.csv": HOURS, "timezones.csv": ZONES})
    out, err = load(path)
    assert StatusPoll.objects.count() == 2
    assert "store_status_sample.csv (status): 2 rows: loaded 2" in out
    lines = err.splitlines()
    assert lines[0] == f"load_data: in {path}:"
    assert lines[1:5] == [
        "  status         store_status_sample.csv (taken for store_status.csv: its name starts with it)",
        "  hours          menu_hours.csv",
        "  time zones     timezones.csv",
        "  special hours  not found (expected special_hours.csv; optional)",
    ]


def test_several_close_names_are_named_not_guessed(tmp_path):
    path = folder(
        tmp_path,
        {"store_status_jan.csv": STATUS, "store_status_feb.csv": STATUS, "menu_hours.csv": HOURS, "timezones.csv": ZONES},
    )
    _, err = load(path)
    assert StatusPoll.objects.count() == 0 and Store.objects.filter(store_id="a").exists()
    assert (
        "  status         not found: several names close to store_status.csv"
        " (store_status_feb.csv, store_status_jan.csv); name one with --status"
    ) in err.splitlines()


def test_other_csv_files_are_pointed_at(tmp_path):
    path = folder(tmp_path, {"polls.csv": STATUS, "menu_hours.csv": HOURS, "timezones.csv": ZONES})
    _, err = load(path)
    assert "  status         not found (expected store_status.csv)" in err.splitlines()
    assert "  other CSV files here, not loaded: polls.csv (rename one, or pass --status/--hours/--timezones)" in err


def test_a_load_that_stored_nothing_fails(tmp_path):
    path = folder(tmp_path, {"store_status.csv": "store_id,timestamp_utc,status\n", "timezones.csv": "store_id,timezone_str\n"})
    with pytest.raises(CommandError, match="loaded nothing"):
        load(path)
    (tmp_path / "bad").mkdir()
    bad = folder(tmp_path / "bad", {"store_status.csv": "store_id,timestamp_utc,status\na,not a time,active\n"})
    with pytest.raises(CommandError, match="loaded nothing"):
        load(bad)  # every row rejected
    good = folder(tmp_path / "bad", {"store_status.csv": STATUS})
    load(good)
    out, _ = load(good)  # the same rows again: unchanged, found in the database, no failure
    assert "unchanged 2" in out
