"""A report computed chunk by chunk in store_id order makes the same CSV as one computed
whole."""

import pytest
from monitoring.models import ReportChunk
from monitoring.reports import report_create, report_run

from tests.factories import _stores_out_of_order

pytestmark = pytest.mark.django_db


def test_chunks_follow_store_id_order_and_make_the_same_csv(settings):
    noon = _stores_out_of_order()
    single = report_run(report_id=report_create(as_of=noon).id)
    settings.REPORT_CHUNK_SIZE = 2
    chunked = report_create(as_of=noon)
    report_run(report_id=chunked.id)  # queued chunks (no worker here): run them by hand, last first
    from monitoring.reports import report_chunk_run

    chunks = list(ReportChunk.objects.filter(report=chunked).order_by("index"))
    assert len(chunks) == 5
    for chunk in reversed(chunks):
        report_chunk_run(chunk_id=chunk.pk)
    chunked.refresh_from_db()
    assert chunked.csv == single.csv
    ids_by_chunk = [
        sorted(chunked.rows.filter(store_id__in=_ids(chunk)).values_list("store_id", flat=True))
        for chunk in chunks
    ]
    flat = [store_id for ids in ids_by_chunk for store_id in ids]
    assert flat == sorted(flat)  # each chunk a run of consecutive store ids


def _ids(chunk):
    from monitoring.models import Store

    return list(Store.objects.filter(pk__in=chunk.store_pks).values_list("store_id", flat=True))
