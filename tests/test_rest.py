import csv
import io
import json
import uuid

import pytest
from django.test import override_settings

from monitoring.models import Report
from monitoring.links import report_download_path
from monitoring.reports import report_compute, report_csv, report_run
from tests.factories import make_store, worked_example_store

pytestmark = pytest.mark.django_db


def test_trigger_poll_then_csv(client):
    store, noon = worked_example_store()
    # curl -X POST http://127.0.0.1:8000/trigger_report/
    response = client.post("/trigger_report/")
    assert response.status_code == 200
    report_id = response.json()["report_id"]
    assert uuid.UUID(report_id).version == 4

    # curl "http://127.0.0.1:8000/get_report/?report_id=..."
    assert client.get("/get_report/", {"report_id": report_id}).json() == {"status": "Running"}
    report_run(report_id=report_id)
    response = client.get("/get_report/", {"report_id": report_id})
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert response["X-Report-Status"] == "Complete"
    assert "attachment" in response["Content-Disposition"]
    assert response.content.decode() == report_csv(rows=report_compute().rows)

    # curl -X POST -H 'Content-Type: application/json' -d '{"report_id": "..."}' .../get_report/
    posted = client.post("/get_report/", {"report_id": report_id}, content_type="application/json")
    assert posted.content == response.content
    posted = client.post("/store/get_report/", {"report_id": report_id}, content_type="application/json")
    assert posted.content == response.content


def test_trigger_with_options(client):
    store, noon = worked_example_store()
    response = client.post(
        "/trigger_report/", {"as_of": noon.isoformat(), "horizon_minutes": 60}, content_type="application/json"
    )
    report = Report.objects.get(pk=response.json()["report_id"])
    assert report.requested_as_of == noon and report.horizon_minutes == 60


def test_store_trigger_report(client):
    worked_example_store("one")
    worked_example_store("two")
    for method in (client.get, client.post):
        response = method("/store/two/trigger_report/")
        assert response.status_code == 200
        report = Report.objects.get(pk=response.json()["report_id"])
        assert report.store_ids == ["two"]
    missing = client.get("/store/ghost/trigger_report/")
    assert missing.status_code == 404 and missing.json() == {"error": "store not found: ghost"}


def test_bad_requests_get_json_errors(client):
    make_store("x")
    assert client.get("/get_report/").status_code == 400
    bad_json = client.post("/get_report/", "{not json", content_type="application/json")
    assert bad_json.status_code == 400 and "JSON" in bad_json.json()["error"]
    assert client.post("/get_report/", "[1]", content_type="application/json").status_code == 400
    for unknown in (str(uuid.uuid4()), "not-a-uuid"):
        response = client.get("/get_report/", {"report_id": unknown})
        assert response.status_code == 404 and "not found" in response.json()["error"]
    response = client.post("/trigger_report/", {"store_ids": "x"}, content_type="application/json")
    assert response.status_code == 400
    response = client.post("/trigger_report/", {"as_of": "tomorrow"}, content_type="application/json")
    assert response.status_code == 400 and "as_of" in response.json()["error"]
    assert client.put("/trigger_report/").status_code == 405


def test_failed_report_says_so(client):
    make_store("x")
    report = Report.objects.create(status=Report.Status.FAILED, error="boom explained")
    assert client.get("/get_report/", {"report_id": str(report.id)}).json() == {
        "status": "Failed", "error": "boom explained"
    }


def completed_report() -> Report:
    store, noon = worked_example_store()
    report = Report.objects.create(requested_as_of=noon)
    return report_run(report_id=report.id)


def test_signed_link_opens_its_report(client):
    report = completed_report()
    response = client.get(report_download_path(report_id=report.id))
    assert response.status_code == 200
    assert response.content.decode() == report.csv
    assert list(csv.reader(io.StringIO(report.csv)))[1][0] == "worked-example"


def test_tampered_link_is_refused(client):
    report = completed_report()
    other = Report.objects.create()
    path = report_download_path(report_id=report.id)
    token = path.rstrip("/").rsplit("/", 1)[1]
    forged = token.replace(str(report.id), str(other.id))
    assert client.get(f"/reports/download/{forged}/").status_code == 403
    assert client.get(f"/reports/download/{token[:-2]}xx/").status_code == 403
    assert client.get("/reports/download/garbage/").status_code == 403


def test_expired_link_answers_410(client):
    report = completed_report()
    path = report_download_path(report_id=report.id)
    with override_settings(REPORT_LINK_MAX_AGE=-1):
        response = client.get(path)
    assert response.status_code == 410 and "expired" in json.loads(response.content)["error"]
