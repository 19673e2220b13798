"""Command output agrees in number: '1 store', '1 row', '1 poll', never '1 stores'."""

import io
from datetime import datetime, timedelta, timezone

import pytest
from django.core.management import call_command

from tests.factories import add_polls, make_store, worked_example_store

pytestmark = pytest.mark.django_db

UTC = timezone.utc


def test_one_store_written(tmp_path):
    worked_example_store()
    err = io.StringIO()
    call_command("generate_report", "--output", str(tmp_path / "r.csv"), stderr=err)
    assert err.getvalue().splitlines()[-1].startswith("wrote 1 store to ")


def test_one_row_loaded(tmp_path):
    (tmp_path / "timezones.csv").write_text("store_id,timezone_str\ns1,UTC\n")
    out = io.StringIO()
    call_command("load_data", "--timezones", str(tmp_path / "timezones.csv"), stdout=out, stderr=io.StringIO())
    assert out.getvalue().startswith("timezones.csv (timezones): 1 row: loaded 1,")


def test_one_store_already_there(tmp_path):
    make_store("s1")
    (tmp_path / "timezones.csv").write_text("store_id,timezone_str\ns1,UTC\n")
    out = io.StringIO()
    call_command("load_data", str(tmp_path), "--if-empty", stdout=out, stderr=io.StringIO())
    assert "the database already has 1 store\n" in out.getvalue()


def test_one_poll_deleted():
    add_polls(make_store("s1", zone="UTC"), [(datetime(2023, 1, 2, tzinfo=UTC), True), (datetime(2023, 3, 2, tzinfo=UTC), True)])
    out = io.StringIO()
    call_command("prune_polls", "--before", "2023-02-01T00:00:00Z", stdout=out)
    assert out.getvalue().startswith("deleted 1 poll stamped before ")
