"""Reports over GraphQL: triggerReport, its validation, and reading a report by id."""

import pytest
from monitoring.models import Report
from monitoring.reports import report_compute, report_run

from tests.factories import make_store, worked_example_store

pytestmark = pytest.mark.django_db


def test_trigger_report_then_read_it(gql):
    store, noon = worked_example_store()
    triggered = gql.query(
        "mutation($asOf: DateTime) { triggerReport(asOf: $asOf) { id status } }", {"asOf": noon.isoformat()}
    ).data["triggerReport"]
    assert triggered["status"] == "PENDING"
    query = """query($id: ID!) { report(id: $id) { id status asOf storeCount downloadUrl
                 rows(filters: {storeId: "worked-example"}) { totalCount results { storeId uptimeLastDay unknownLastWeek incidentsLastHour incidentsLastDay } } } }"""
    pending = gql.query(query, {"id": triggered["id"]}).data["report"]
    assert pending["downloadUrl"] is None and pending["rows"]["totalCount"] == 0

    report_run(report_id=triggered["id"])
    done = gql.query(query, {"id": triggered["id"]}).data["report"]
    assert done["status"] == "COMPLETE" and done["storeCount"] == 1
    expected = report_compute(as_of=noon).rows[0]
    # The deprecated fields keep docs/rules.md §5's units (hours for the day), rounded as every Float.
    assert done["rows"]["results"] == [
        {"storeId": "worked-example", "uptimeLastDay": round(expected["uptime_last_day"], 2),
         "unknownLastWeek": round(expected["unknown_last_week"], 2),
         # One outage: 10:44:30 to closing at 12:00, inside both windows.
         "incidentsLastHour": 1, "incidentsLastDay": 1}
    ]
    assert done["downloadUrl"].startswith("http://testserver/reports/download/")
    listed = gql.query("query { reports { totalCount results { id status } } }").data["reports"]
    assert listed["results"] == [{"id": triggered["id"], "status": "COMPLETE"}]


def test_trigger_report_validation_errors(gql):
    make_store("known")
    result = gql.query('mutation { triggerReport(storeIds: ["known", "ghost"]) { id } }', assert_no_errors=False)
    # The service's fields are named as the client wrote them.
    assert result.errors[0]["message"] == "storeIds: no such store: ghost"
    result = gql.query("mutation { triggerReport(horizonMinutes: 0) { id } }", assert_no_errors=False)
    assert "horizonMinutes: must be between" in result.errors[0]["message"]
    result = gql.query('mutation { triggerReport(storeIds: ["known", "a\\r"]) { id } }', assert_no_errors=False)
    assert result.errors[0]["message"] == "storeIds[1]: holds a control character (U+000D) at character 2"
    result = gql.query(
        "mutation($asOf: DateTime) { triggerReport(asOf: $asOf) { id } }", {"asOf": "2101-01-01T00:00:00Z"},
        assert_no_errors=False,
    )
    assert result.errors[0]["message"].startswith("asOf: must be in the years 2000")
    assert Report.objects.count() == 0


def test_unknown_and_malformed_report_ids(gql):
    result = gql.query('query { report(id: "not-a-uuid") { id } }', assert_no_errors=False)
    assert result.errors[0]["message"] == "report not found: not-a-uuid"
