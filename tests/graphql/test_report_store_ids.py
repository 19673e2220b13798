"""`Report.storeIds` is a bounded page of the stores a report was asked for (first /
after, by id), `storeIdsTotal` counts them, and the query price counts what the page can
really hold: a report naming thousands of stores never answers more ids than priced."""


import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from monitoring.models import Report

from tests.graphql_client import graphql

pytestmark = pytest.mark.django_db

STORE_IDS = sorted(f"store-{index:04d}" for index in range(1234))


@pytest.fixture
def big_report() -> Report:
    return Report.objects.create(store_ids=STORE_IDS, horizon_minutes=120)


def test_a_page_of_reports_answers_no_more_ids_than_it_is_priced_at(client, big_report):
    Report.objects.create(store_ids=None, horizon_minutes=120)  # all stores: null
    with CaptureQueriesContext(connection) as queries:
        answer = graphql(client, "{ reports(pagination: {limit: 5}) { results { storeIds storeIdsTotal } } }")
    results = answer["data"]["reports"]["results"]
    returned = 5 + sum(len(result["storeIds"] or []) for result in results)
    assert returned <= answer["extensions"]["cost"]["nodes"] == 1 + 5 + 5 * 100
    by_total = {result["storeIdsTotal"]: result["storeIds"] for result in results}
    assert by_total == {len(STORE_IDS): STORE_IDS[:100], None: None}
    # The page of reports reads a bounded head of each list, not the whole array.
    report_reads = [q["sql"] for q in queries.captured_queries if "monitoring_report" in q["sql"]]
    whole = ('"monitoring_report"."store_ids",', '"monitoring_report"."store_ids" FROM')
    assert report_reads and not any(column in sql for sql in report_reads for column in whole), report_reads


def test_store_ids_page_through_by_first_and_after(client, big_report):
    query = """query($id: ID!, $first: Int, $after: ID) {
      report(id: $id) { storeIds(first: $first, after: $after) storeIdsTotal } }"""
    seen, after = [], None
    while True:
        answer = graphql(client, query, {"id": str(big_report.id), "first": 500, "after": after})
        page = answer["data"]["report"]["storeIds"]
        assert answer["data"]["report"]["storeIdsTotal"] == len(STORE_IDS)
        assert answer["extensions"]["cost"]["nodes"] == 1 + 500
        if not page:
            break
        seen += page
        after = page[-1]
    assert seen == STORE_IDS
    # The same from a page of reports (the annotated head, then a cursor query).
    paged = graphql(client, '{ reports { results { a: storeIds(first: 3) b: storeIds(first: 2, after: "store-0002") } } }')
    [result] = paged["data"]["reports"]["results"]
    assert result == {"a": STORE_IDS[:3], "b": ["store-0003", "store-0004"]}


@pytest.mark.parametrize("first", [-1, 501])
def test_a_page_size_out_of_range_is_refused(client, big_report, first):
    answer = graphql(client, "query($id: ID!, $f: Int) { report(id: $id) { storeIds(first: $f) } }", {"id": str(big_report.id), "f": first})
    [error] = answer["errors"]
    assert error["extensions"]["code"] == "INVALID_ARGUMENT" and error["extensions"]["argument"] == "first"
