"""Live polls (`polls_record`): validated and merged like the files' rows, inside a
transaction too, and read the same way as the file's fast path reads them."""

from datetime import datetime, timedelta

from django.db import transaction
from hypothesis import given, settings
from hypothesis import strategies as st
from monitoring.ingest import (
    load_status_file,
    polls_record,
)
from monitoring.ingest.fast_parse import StoreIdCodes, parse_lines
from monitoring.kernel import values
from monitoring.models import StatusPoll, Store
from monitoring.stores.access import EVERYTHING

from tests.ingest_data import T0, UTC, polls


def test_record_polls_validates_and_upserts_like_the_files(db):
    result = polls_record(
        access=EVERYTHING,
        polls=[
            ("s1", "2023-01-22 12:09:39.388884 UTC", "active"),  # 0
            ("s1", "2023-01-22T12:09:39.388884Z", "INACTIVE"),  # 1 same key: later wins
            ("s2", "2023-02-30 00:00:00 UTC", "active"),  # 2
            ("s3", "2023-01-22 12:00:00 UTC", "down"),  # 3
            ("", "2023-01-22 12:00:00 UTC", "active"),  # 4
            ("s4", "2023-01-22 12:00:00 UTC"),  # 5
            (" s5 ", "2023-01-22 12:00:00+01:00", "Active"),  # 6: not trimmed (only CSV cells are)
            ("s6", None, "active"),  # 7
            ("s7", "2023-01-22 12:00:00", "active"),  # 8: no offset
            ("s8", "2023-01-22 12:00:00+01:00", "Active"),  # 9
        ],
    )
    assert [(r.index, r.line, r.field) for r in result.rejections] == [
        (2, None, "timestamp_utc"),
        (3, None, "status"),
        (4, None, "store_id"),
        (5, None, ""),
        (6, None, "store_id"),
        (7, None, "timestamp_utc"),
        (8, None, "timestamp_utc"),
    ]
    assert result.rejections[1].reason == "unknown 'down' (expected active or inactive)"
    assert result.rejections[4].reason == "starts with a space (U+0020)"
    assert "has no offset" in result.rejections[6].reason
    assert polls() == [("s1", T0, False), ("s8", datetime(2023, 1, 22, 11, tzinfo=UTC), True)]
    assert (result.rows, result.loaded, result.superseded, result.rejected) == (10, 2, 1, 7)
    # A refused poll stores nothing, not even its store.
    assert not Store.objects.filter(store_id__in=["s2", "s3", "s6", "s7"]).exists()
    again = polls_record(access=EVERYTHING, polls=[("s1", "2023-01-22 12:09:39.388884 UTC", "active")])
    assert (again.loaded, again.replaced) == (0, 1) and polls()[0] == ("s1", T0, True)
    assert polls_record(access=EVERYTHING, polls=[]).rows == 0


def test_record_polls_inside_a_transaction_twice(db):
    with transaction.atomic():
        polls_record(access=EVERYTHING, polls=[("a", "2023-01-22 12:00:00 UTC", "active")])
        polls_record(access=EVERYTHING, polls=[("a", "2023-01-22 13:00:00 UTC", "active")])
    assert len(polls()) == 2


@settings(max_examples=25)
@given(
    moments=st.lists(
        st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2025, 12, 31)), min_size=1, max_size=20
    ),
    style=st.sampled_from(["{d:%Y-%m-%d %H:%M:%S}.{f} UTC", "{d:%Y-%m-%dT%H:%M:%S}.{f}Z", "{d:%Y-%m-%d %H:%M:%S}", "{d:%Y-%m-%dT%H:%M:%S}.{f}-05:30"]),
    digits=st.integers(min_value=1, max_value=6),
)
def test_fast_path_and_python_path_agree(db, tmp_path_factory, moments, style, digits):
    """The vectorised path (canonical lines) and the Python path (live polls,
    non-canonical lines) read every timestamp the same way (a live poll must say its
    offset: a text without one is given ' UTC')."""
    texts = [style.format(d=m, f=f"{m.microsecond:06d}"[:digits]) for m in moments]
    path = tmp_path_factory.mktemp("agree") / "s.csv"
    path.write_text("store_id,timestamp_utc,status\n" + "".join(f"f{i},{t},active\n" for i, t in enumerate(texts)))
    lines = "".join(f"f{i},{t},active\n" for i, t in enumerate(texts)).encode()
    columns = {"width": 3, "store_id": 0, "timestamp": 1, "status": 2, "crlf": False,
               "latest_us": (datetime(2026, 1, 1, tzinfo=UTC) - datetime(2000, 1, 1, tzinfo=UTC)) // timedelta(microseconds=1)}
    assert parse_lines(lines, len(lines), store_codes=StoreIdCodes(), **columns).canonical.all()
    load_status_file(path=path)
    live = [t if t.endswith(("UTC", "Z", "-05:30")) else t + " UTC" for t in texts]
    polls_record(access=EVERYTHING, polls=[(f"p{i}", t, "active") for i, t in enumerate(live)])
    stored = dict(((s, w) for s, w, _ in polls()))
    for i, text in enumerate(texts):
        assert stored[f"f{i}"] == stored[f"p{i}"] == values.instant(text, field="t", naive_utc=True), text
    StatusPoll.objects.all().delete()
