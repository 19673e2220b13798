"""The expected-revenue file (docs/rules.md §13): its grammar, rejects with line numbers,
one currency per store, authoritative per store, idempotent, found in a folder by
`load_data`."""

import io
from decimal import Decimal

import pytest
from django.core.management import call_command

from monitoring.ingest import LoadError, find_input_files, load_files, load_store_revenue_file
from monitoring.models import Store, StoreRevenue

from tests.ingest_data import rejections, write, zones

REVENUE_FILE = (
    "\ufeffstore_id , dayOfWeek,hour,expected_revenue,currency\r\n"
    "1,0,11,120.50,usd\r\n"  # 2 any case: USD
    "1,0,12,240,\r\n"  # 3 empty currency: USD
    "1,6,23,0.05,USD\r\n"  # 4
    "2,4,18,99.99,EUR\r\n"  # 5
    "2,4,19,100,EUR\r\n"  # 6
    "2,4,20,80,USD\r\n"  # 7 a second currency for store 2: rejected, naming line 5
    "3,7,10,10,USD\r\n"  # 8 no such day
    "3,0,24,10,USD\r\n"  # 9 no such hour
    "3,0,10,-1,USD\r\n"  # 10 negative
    "3,0,10,1.005,USD\r\n"  # 11 three decimals
    "3,0,10,1e3,USD\r\n"  # 12 exponent
    "3,0,10,10,XYZ\r\n"  # 13 not ISO 4217
    "\r\n"  # 14 blank
    "1,0,11,130,USD\r\n"  # 15 the same hour again: the later wins
    "4,1,07,55,EUR\r\n"  # 16 a two-digit hour
)


def revenue() -> list[tuple]:
    return sorted(StoreRevenue.objects.values_list("store__store_id", "day_of_week", "hour", "expected_revenue", "currency"))


def test_revenue_file(db, tmp_path):
    result = load_store_revenue_file(path=write(tmp_path, "store_revenue.csv", REVENUE_FILE))
    assert revenue() == [
        ("1", 0, 11, Decimal("130.00"), "USD"),
        ("1", 0, 12, Decimal("240.00"), "USD"),
        ("1", 6, 23, Decimal("0.05"), "USD"),
        ("2", 4, 18, Decimal("99.99"), "EUR"),
        ("2", 4, 19, Decimal("100.00"), "EUR"),
        ("4", 1, 7, Decimal("55.00"), "EUR"),
    ]
    assert rejections(result) == [
        (8, "dayOfWeek"), (9, "hour"), (10, "expected_revenue"), (11, "expected_revenue"),
        (12, "expected_revenue"), (13, "currency"), (7, "currency"),
    ]
    conflict = result.rejections[-1]
    assert conflict.reason == "USD differs from EUR, given for this store on line 5: a store's rows have one currency"
    assert conflict.raw == "2,4,20,80,USD"
    assert "unknown currency 'XYZ'" in result.rejections[5].reason
    assert (result.rows, result.loaded, result.superseded, result.skipped, result.rejected) == (15, 6, 1, 1, 7)
    assert set(zones()) == {"1", "2", "3", "4"}  # store 3 exists though all its rows were rejected
    assert "removed 0" in result.summary()


def test_rejects_file_names_every_line(db, tmp_path):
    rejects = tmp_path / "store_revenue.rejects.csv"
    load_store_revenue_file(path=write(tmp_path, "store_revenue.csv", REVENUE_FILE), rejects_path=rejects)
    lines = rejects.read_text().splitlines()
    assert lines[0] == "file,line,field,reason,raw"
    assert [line.split(",")[1] for line in lines[1:]] == ["8", "9", "10", "11", "12", "13", "7"]


def test_without_a_currency_column_every_row_is_usd(db, tmp_path):
    load_store_revenue_file(path=write(tmp_path, "r.csv", "store_id,day,hour,expected_revenue\nx,4,0,12.3\n"))
    assert revenue() == [("x", 4, 0, Decimal("12.30"), "USD")]


def test_a_missing_required_column_refuses_the_file(db, tmp_path):
    with pytest.raises(LoadError, match="missing required column 'hour'"):
        load_store_revenue_file(path=write(tmp_path, "r.csv", "store_id,dayOfWeek,expected_revenue\nx,0,1\n"))
    assert not Store.objects.exists()


def test_the_file_is_authoritative_per_store_and_idempotent(db, tmp_path):
    load_store_revenue_file(path=write(tmp_path, "a.csv", REVENUE_FILE))
    second = write(
        tmp_path,
        "b.csv",
        "store_id,dayOfWeek,hour,expected_revenue,currency\n"
        "1,0,11,130,USD\n"  # unchanged
        "1,0,12,250,USD\n"  # changed
        "1,2,9,10,USD\n"  # new; store 1's other hour (6, 23) goes
        "4,1,7,55,GBP\n"  # store 4 changes currency: replaced
        "3,9,9,9,USD\n",  # store 3: nothing valid, nothing replaced
    )
    result = load_store_revenue_file(path=second)
    assert revenue() == [
        ("1", 0, 11, Decimal("130.00"), "USD"),
        ("1", 0, 12, Decimal("250.00"), "USD"),
        ("1", 2, 9, Decimal("10.00"), "USD"),
        ("2", 4, 18, Decimal("99.99"), "EUR"),  # not in the file: untouched
        ("2", 4, 19, Decimal("100.00"), "EUR"),
        ("4", 1, 7, Decimal("55.00"), "GBP"),
    ]
    assert (result.loaded, result.replaced, result.unchanged, result.removed, result.rejected) == (1, 2, 1, 1, 1)
    before = sorted(StoreRevenue.objects.values_list("id", "store_id", "day_of_week", "hour", "expected_revenue", "currency"))
    again = load_store_revenue_file(path=second)
    assert (again.loaded, again.replaced, again.removed, again.unchanged) == (0, 0, 0, 4)
    assert sorted(StoreRevenue.objects.values_list("id", "store_id", "day_of_week", "hour", "expected_revenue", "currency")) == before


def test_a_store_whose_rows_all_conflict_keeps_its_stored_rows(db, tmp_path):
    load_store_revenue_file(path=write(tmp_path, "a.csv", "store_id,dayOfWeek,hour,expected_revenue,currency\nz,0,1,5,EUR\n"))
    result = load_store_revenue_file(
        path=write(tmp_path, "b.csv", "store_id,dayOfWeek,hour,expected_revenue,currency\nz,0,1,x,USD\nz,0,2,5,\u00a0\n")
    )
    assert revenue() == [("z", 0, 1, Decimal("5.00"), "EUR")]
    assert rejections(result) == [(2, "expected_revenue"), (3, "currency")]


def test_load_data_finds_the_file_in_a_folder(db, tmp_path):
    write(tmp_path, "store_revenue.csv", REVENUE_FILE)
    write(tmp_path, "timezones.csv", "store_id,timezone_str\n1,Europe/Berlin\n")
    files = find_input_files(directory=tmp_path)
    assert set(files) == {"revenue", "timezones"}
    results = load_files(files=files)
    assert [result.kind for result in results] == ["timezones", "revenue"]
    assert len(revenue()) == 6


def test_load_data_command_loads_and_describes_it(db, tmp_path):
    write(tmp_path, "Store Revenue.csv", "store_id,dayOfWeek,hour,expected_revenue\n7,0,12,10\n7,0,30,1\n")
    out, err = io.StringIO(), io.StringIO()
    call_command("load_data", str(tmp_path), "--no-rejects-file", stdout=out, stderr=err)
    assert "revenue        Store Revenue.csv" in err.getvalue()
    assert "Store Revenue.csv (revenue): 2 rows: loaded 1" in out.getvalue()
    assert "Store Revenue.csv:3: hour: invalid '30' (expected an hour 0-23, local time)" in err.getvalue()
    assert revenue() == [("7", 0, 12, Decimal("10.00"), "USD")]


def test_load_data_takes_the_file_as_an_option(db, tmp_path):
    path = write(tmp_path, "mine.csv", "store_id,dayOfWeek,hour,expected_revenue,currency\n8,1,9,1.5,jpy\n")
    call_command("load_data", "--revenue", str(path), "--no-rejects-file", stdout=io.StringIO(), stderr=io.StringIO())
    assert revenue() == [("8", 1, 9, Decimal("1.50"), "JPY")]


def test_the_first_load_takes_the_bulk_path_and_rebuilds_the_keys(db, tmp_path, monkeypatch):
    """Into the empty table, the rows go in without its key and index, rebuilt after:
    the same rows as the ordinary path, and the key holds again."""
    from django.db import IntegrityError, transaction

    from monitoring.ingest import revenue_file

    monkeypatch.setattr(revenue_file, "REVENUE_BULK_MIN_ROWS", 1)
    result = load_store_revenue_file(path=write(tmp_path, "store_revenue.csv", REVENUE_FILE))
    assert "rebuild store_revenue_unique_hour" in result.timings
    assert len(revenue()) == 6 and result.loaded == 6
    again = load_store_revenue_file(path=write(tmp_path, "store_revenue.csv", REVENUE_FILE))
    assert "rebuild store_revenue_unique_hour" not in again.timings  # not empty any more
    assert (again.loaded, again.unchanged) == (0, 6)
    row = StoreRevenue.objects.first()
    with pytest.raises(IntegrityError), transaction.atomic():
        StoreRevenue.objects.create(store_id=row.store_id, day_of_week=row.day_of_week, hour=row.hour, expected_revenue=1)
