"""The `generate_report` command: the same report as the service, its arguments read by
the grammar, and a warning when --as-of misses the stored polls."""

import io
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from monitoring.reports import report_compute, report_create, report_csv, report_run

from tests.factories import make_store, worked_example_store
from tests.report_rows import rows_by_store


@pytest.mark.parametrize(
    ("as_of", "warning"),
    [
        ("2030-01-01T00:00:00Z", "--as-of 2030-01-01T00:00:00Z is after the latest poll stored "
                                 "(2023-01-25 16:15:00 UTC): the windows hold no polls"),
        ("2020-01-01T00:00:00Z", "--as-of 2020-01-01T00:00:00Z is before the earliest poll stored "
                                 "(2023-01-25 15:14:00 UTC): the windows hold no polls"),
        ("2023-01-27T00:00:00Z", "--as-of 2023-01-27T00:00:00Z is after the latest poll stored "
                                 "(2023-01-25 16:15:00 UTC): the last hour and the last day hold no polls (all 0)"),
        ("2023-01-25T17:00:00Z", None),  # within the horizon of the last poll
        ("2023-01-25T17:00:00+01:00", None),
    ],
)
def test_generate_report_warns_when_as_of_misses_the_stored_polls(db, tmp_path, as_of, warning):
    from tests.factories import worked_example_store

    worked_example_store()
    err = io.StringIO()
    call_command("generate_report", "--as-of", as_of, "--output", str(tmp_path / "r.csv"), stderr=err)
    lines = err.getvalue().splitlines()
    assert lines[-1].startswith("wrote 1 store to")
    assert lines[:-1] == ([f"warning: {warning}"] if warning else [])


pytestmark = pytest.mark.django_db


def test_special_hours_file_through_the_report_and_generate_report(tmp_path):
    """docs/rules.md §9 end to end: a special-hours file loaded, then the report (service, worker and
    command) honours it; the selector reads only the dates the report's range needs."""
    from datetime import date, time

    from monitoring.engine import SpecialShift
    from monitoring.ingest import load_special_hours_file
    from monitoring.stores.selectors import store_schedules

    store, noon = worked_example_store()  # 09:00–12:00 every day (New York); outage on 2023-01-25
    make_store("only-special")  # no weekly rows: 24x7 except its special date
    path = tmp_path / "special_hours.csv"
    path.write_text(
        "store_id,date,start_time_local,end_time_local\n"
        "worked-example,2023-01-25,10:00,11:00\n"  # a short day: the 11:15 poll is outside it
        "worked-example,2023-01-24,,\n"  # closed
        "worked-example,2022-06-01,,\n"  # far outside the report's range
        "only-special,2023-01-25,,\n"
    )
    assert load_special_hours_file(path=path).loaded == 4
    computed = {row["store_id"]: row for row in report_compute(as_of=noon).rows}
    row = computed["worked-example"]
    assert row["uptime_last_day"] == pytest.approx(1)  # 10:00–11:00, all near the 10:14 active poll
    assert row["downtime_last_day"] == pytest.approx(0)
    assert row["uptime_last_hour"] == row["downtime_last_hour"] == pytest.approx(0)  # closed 11:00–12:00
    # the week: 19th..23rd 3 h each (unknown: no polls), 24th closed, 25th 1 h up
    assert row["unknown_last_week"] == pytest.approx(5 * 3)
    # no zone: Chicago; closed from 2023-01-25 00:00 there (06:00 UTC) to as_of (17:00 UTC): 11 h
    only = computed["only-special"]
    assert only["unknown_last_week"] == pytest.approx(7 * 24 - 11)

    stores = [(store.pk, store.store_id, store.timezone_name)]
    (schedule,) = store_schedules(stores=stores, start=noon - timedelta(days=7, hours=2), end=noon)
    assert sorted(schedule.special_shifts) == [
        SpecialShift(date(2023, 1, 24), None, None), SpecialShift(date(2023, 1, 25), time(10), time(11))
    ]
    (everything,) = store_schedules(stores=stores)
    assert len(everything.special_shifts) == 3

    report = report_run(report_id=report_create(as_of=noon).id)
    assert float(rows_by_store(report.csv)["worked-example"]["uptime_last_day"]) == 1.0
    out = io.StringIO()
    call_command("generate_report", "--as-of", noon.isoformat(), stdout=out)
    assert float(rows_by_store(out.getvalue())["worked-example"]["uptime_last_day"]) == 1.0


def test_generate_report_command_matches_service(tmp_path):
    store, noon = worked_example_store()
    make_store("zz-24x7")
    out = io.StringIO()
    call_command("generate_report", stdout=out)
    assert out.getvalue() == report_csv(rows=report_compute().rows)

    target = tmp_path / "report.csv"
    call_command("generate_report", "--as-of", noon.isoformat(), "--store", store.store_id, "--output", str(target))
    assert list(rows_by_store(target.read_text())) == [store.store_id]


def test_generate_report_command_refuses_bad_input():
    worked_example_store()
    with pytest.raises(CommandError, match="--as-of: .*'yesterday'.*2023-01-25T18:13:22Z"):
        call_command("generate_report", "--as-of", "yesterday")
    with pytest.raises(CommandError, match="store_ids: no such store: no-such-store"):
        call_command("generate_report", "--store", "no-such-store")


@pytest.mark.parametrize(
    "as_of, message",
    [
        ("2023-01-25T10:00:00", "no offset: say which zone"),  # no longer read as UTC
        ("0001-01-01T00:00:00Z", "years 2000–2100"),
        ("9999-12-31T23:59:59Z", "years 2000–2100"),
        ("2023-02-30T10:00:00Z", "out of range"),
    ],
)
def test_generate_report_as_of_by_the_grammar(as_of, message):
    worked_example_store()
    with pytest.raises(CommandError, match=f"--as-of: .*{message}"):
        call_command("generate_report", "--as-of", as_of, stdout=io.StringIO())


def test_generate_report_as_of_with_an_offset_or_utc():
    store, noon = worked_example_store()
    expected = report_csv(rows=report_compute(as_of=noon).rows)
    for text in ("2023-01-25T17:00:00Z", "2023-01-25 17:00:00 UTC", "2023-01-25T12:00:00-05:00"):
        out = io.StringIO()
        call_command("generate_report", "--as-of", text, stdout=out)
        assert out.getvalue() == expected, text


@pytest.mark.parametrize("bad_id", ["a\rb", "tab\there", " lead", "nul\x00", "x" * 256, "bidi\u202e"])
def test_generate_report_store_ids_by_the_grammar(bad_id):
    worked_example_store()
    with pytest.raises(CommandError, match="--store .*: (holds|starts|longer)"):
        call_command("generate_report", "--store", bad_id, stdout=io.StringIO())
