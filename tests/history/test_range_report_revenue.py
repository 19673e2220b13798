"""Range reports with lost revenue (docs/rules.md §13): `lost_revenue,revenue_at_risk` after
the range CSV's columns only when revenue rows are stored (among the stores in the
report's scope), each equal to the reference, an empty cell for a store without rows;
the command and a report computed by the workers' path write the same bytes, in chunks
too; the weekly CSV keeps its header."""

import csv
import io
from datetime import datetime
from decimal import Decimal

import pytest
from django.core.management import call_command

from monitoring.kernel.storage import report_storage
from monitoring.models import Owner, Report, Store
from monitoring.reports import report_chunk_run, report_create, report_run
from monitoring.stores.revenue import store_revenue_set
from tests import reference_revenue as ref
from tests.history.generated import H_US, UTC, generate

pytestmark = pytest.mark.django_db

HEADER = "store_id,uptime_minutes,downtime_minutes,unknown_minutes,business_minutes"
WEEKLY = "store_id,uptime_last_hour,uptime_last_day,uptime_last_week,downtime_last_hour,downtime_last_day,downtime_last_week"
START, END = datetime(2023, 1, 20, tzinfo=UTC), datetime(2023, 4, 20, tzinfo=UTC)  # 90 days
RATES = {
    "a2": {(d, h): Decimal("123.45") for d in range(7) for h in (18, 19, 20, 21, 22, 23, 0, 1)},
    "B": {(d, h): Decimal(10 + h) for d in range(7) for h in range(24)},
}


def range_csv(*args) -> str:
    out = io.StringIO()
    call_command("generate_report", "--from", START.isoformat(), "--to", END.isoformat(), *args, stdout=out)
    return out.getvalue()


def with_revenue():
    data = generate()
    for store_id, rates in RATES.items():
        store_revenue_set(
            store=Store.objects.get(store_id=store_id), rows=[(d, h, amount) for (d, h), amount in rates.items()],
            currency="EUR" if store_id == "B" else "USD",
        )
    return data


def test_without_revenue_rows_the_range_csv_is_unchanged():
    generate()
    text = range_csv()
    assert text.splitlines()[0] == HEADER
    assert all(len(row) == 5 for row in csv.reader(text.splitlines()))


def test_with_revenue_rows_two_more_columns_equal_to_the_reference():
    data = with_revenue()
    lines = range_csv().splitlines()
    assert lines[0] == HEADER + ",lost_revenue,revenue_at_risk"
    rows = {row[0].removeprefix("'"): row for row in csv.reader(lines[1:])}
    assert set(rows) == set(data.schedules)
    for store_id, row in rows.items():
        assert len(row) == 7
        if store_id not in RATES:
            assert row[5:] == ["", ""], store_id  # no estimate: empty cells, never 0
            continue
        lost, at_risk = ref.lost_revenue(
            data.schedules[store_id], data.polls[store_id], RATES[store_id], ref.us(START), ref.us(END), ref.us(END), H_US
        )
        assert row[5:] == [f"{lost:.2f}", f"{at_risk:.2f}"], store_id
        assert lost > 0 and at_risk > 0  # polls over six weeks of the 90 days: both parts


def test_a_range_report_writes_the_same_csv_in_chunks(settings):
    with_revenue()
    expected = range_csv()
    settings.REPORT_CHUNK_SIZE = 8  # a 90-day range: one store per chunk
    report = report_create(range_start=START, as_of=END)
    report = report_run(report_id=report.id)
    assert report.revenue_columns and report.chunks.count() > 1
    for chunk in report.chunks.all():
        report_chunk_run(chunk_id=chunk.pk)
    report.refresh_from_db()
    assert report.status == Report.Status.COMPLETE
    with report_storage().open(report.csv_file.name, "rb") as handle:
        assert handle.read().decode() == expected
    stored = report.range_rows.get(store_id="a2")
    assert stored.revenue_currency == "USD" and stored.lost_revenue_cents > 0
    assert report.range_rows.get(store_id="b").lost_revenue_cents is None


def test_an_owners_report_has_the_columns_only_for_revenue_of_their_own_stores():
    with_revenue()
    alice = Owner.objects.create(name="alice")
    Store.objects.filter(store_id__in=["a10", "b"]).update(owner=alice)  # neither has rows
    report = report_run(report_id=report_create(range_start=START, as_of=END, owner_id=alice.pk).id)
    assert not report.revenue_columns
    assert report.csv.splitlines()[0] == HEADER
    Store.objects.filter(store_id="B").update(owner=alice)
    report = report_run(report_id=report_create(range_start=START, as_of=END, owner_id=alice.pk).id)
    assert report.csv.splitlines()[0] == HEADER + ",lost_revenue,revenue_at_risk"


def test_the_weekly_csv_keeps_its_header():
    with_revenue()
    out = io.StringIO()
    call_command("generate_report", "--as-of", "2023-03-15T00:00:00Z", stdout=out)
    assert out.getvalue().splitlines()[0] == WEEKLY
