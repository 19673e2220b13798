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
    response = client.get("/get_report/", {"report_id": str(uuid.uuid4())})
    assert response.status_code == 404 and "not found" in response.json()["error"]
    # A report id is a UUID and a string: anything else is refused, naming the field.
    response = client.get("/get_report/", {"report_id": "not-a-uuid"})
    assert response.status_code == 400 and response.json()["error"].startswith("report_id is not a report id")
    response = client.post("/get_report/", {"report_id": 5}, content_type="application/json")
    assert response.status_code == 400 and "report_id must be a string" in response.json()["error"]
    response = client.post("/trigger_report/", {"store_ids": "x"}, content_type="application/json")
    assert response.status_code == 400
    response = client.post("/trigger_report/", {"as_of": "tomorrow"}, content_type="application/json")
    assert response.status_code == 400 and "as_of" in response.json()["error"]
    response = client.put("/trigger_report/")
    assert response.status_code == 405 and "PUT" in response.json()["error"]


def test_values_go_through_the_shared_grammar(client):
    """SPEC §7: store ids exactly as given (never stripped), instants with an offset,
    `as_of` in 2000–2100; a refusal is a 400 naming the field."""
    make_store("x")
    response = client.post("/trigger_report/", {"store_ids": ["a\r"]}, content_type="application/json")
    assert response.status_code == 400
    assert response.json() == {"error": "store_ids[0]: store_id holds a control character (U+000D) at character 2"}
    response = client.post("/trigger_report/", {"store_ids": ["x", 7]}, content_type="application/json")
    assert response.status_code == 400 and response.json()["error"] == "store_ids[1]: store_id must be text"
    response = client.post("/trigger_report/", {"store_ids": ["x "]}, content_type="application/json")
    assert response.status_code == 400 and response.json()["error"].startswith("store_ids[0]: store_id ends with a space")
    response = client.post("/trigger_report/", {"as_of": "2023-01-25T12:00:00"}, content_type="application/json")
    assert response.status_code == 400
    assert response.json()["error"].startswith("as_of: as_of '2023-01-25T12:00:00' has no offset")
    response = client.post("/trigger_report/", {"as_of": "2200-01-01T00:00:00Z"}, content_type="application/json")
    assert response.status_code == 400 and response.json()["error"].startswith("as_of: as_of must be in the years")
    response = client.post("/trigger_report/", {"as_of": "2023-01-25 12:00:00 UTC"}, content_type="application/json")
    assert response.status_code == 200
    response = client.post("/trigger_report/", {"horizon_minutes": "60"}, content_type="application/json")
    assert response.status_code == 400 and response.json()["error"] == "horizon_minutes must be an integer"
    assert Report.objects.count() == 1


def test_store_path_ids_are_checked(client):
    make_store("x")
    for path, status in (
        ("/store/x%0D/trigger_report/", 400),
        ("/store/%00/trigger_report/", 400),
        ("/store/%EF%BB%BFx/trigger_report/", 400),
        ("/store/%FF/trigger_report/", 400),
        ("/store/x%20/trigger_report/", 400),
        ("/store/X/trigger_report/", 404),
        ("/store/a/b/trigger_report/", 404),
    ):
        response = client.get(path)
        assert response.status_code == status, path
        assert response["Content-Type"] == "application/json" and response.json()["error"]


@pytest.mark.parametrize(
    "body, content_type",
    [
        (b"[" * 100_000, "application/json"),
        (b"\xff\xfe", "application/json"),
        (b"1", "application/json"),
        (b"null", "application/json"),
        (b'"abc"', "application/json"),
        (b'{"store_ids": ["\\u0000"]}', "application/json"),
        (b'{"store_ids": ["\\ud800"]}', "application/json"),
        (b'{"store_ids": {"a": 1}}', "application/json"),
        (b'{"as_of": ["2023"]}', "application/json"),
        (b"--x\r\ngarbage", "multipart/form-data"),
        (b"{" * 100_000, "application/x-www-form-urlencoded"),
    ],
)
def test_malformed_bodies_answer_400_json(client, body, content_type):
    for path in ("/trigger_report/", "/get_report/"):
        response = client.post(path, body, content_type=content_type)
        assert response.status_code == 400, (path, response.content)
        assert response.json()["error"]


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


@override_settings(DATA_UPLOAD_MAX_MEMORY_SIZE=1000)
def test_oversized_bodies_answer_413_json(client):
    body = json.dumps({"store_ids": ["x" * 2000]})
    for path in ("/trigger_report/", "/get_report/", "/graphql/"):
        response = client.post(path, body, content_type="application/json")
        assert response.status_code == 413 and "too large" in response.json()["error"], path


def test_unknown_api_paths_and_methods_answer_json(client):
    for response, status in (
        (client.get("/store/"), 404),
        (client.get("/store/x/nothing/"), 404),
        (client.delete("/get_report/"), 405),
        (client.post("/store/x/trigger_report/", "{", content_type="application/json"), 404),
    ):
        assert response.status_code == status
        assert response["Content-Type"] == "application/json" and response.json()["error"]


def test_bad_path_or_query_encoding_answers_400(client):
    """monitoring.middleware.MalformedRequestMiddleware: JSON on API paths, a short
    plain page elsewhere; never a 500."""
    for path in ("/get_report/?report_id=%00", "/get_report/?report_id=%FF%FE", "/store/%00/trigger_report/",
                 "/graphql/?query=%00"):
        response = client.get(path)
        assert response.status_code == 400 and response.json()["error"], path
    for path in ("/?q=%00", "/stores/%00/", "/stores/%C3%28/", "/admin/login/?next=%00", "/sign-in/?next=%FF"):
        response = client.get(path)
        assert response.status_code == 400, path
        assert response["Content-Type"].startswith("text/plain")
    # Percent-encoded UTF-8 is fine.
    assert client.get("/get_report/?report_id=%E2%98%83").status_code == 400  # not a UUID, but read
    assert "UUID" in client.get("/get_report/?report_id=%E2%98%83").json()["error"]
