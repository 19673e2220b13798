import csv
import io
import json
import uuid

import pytest
from django.test import override_settings
from monitoring.models import Report
from monitoring.reports import report_compute, report_csv, report_run
from monitoring.web.links import report_download_path

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
    assert missing.status_code == 404 and missing.json()["error"] == "store not found: ghost"


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
    """docs/rules.md §7: store ids exactly as given (never stripped), instants with an offset,
    `as_of` in 2000–2100; a refusal is a 400 naming the field."""
    make_store("x")
    response = client.post("/trigger_report/", {"store_ids": ["a\r"]}, content_type="application/json")
    assert response.status_code == 400
    assert response.json()["error"] == "store_ids[0]: holds a control character (U+000D) at character 2"
    response = client.post("/trigger_report/", {"store_ids": ["x", 7]}, content_type="application/json")
    assert response.status_code == 400 and response.json()["error"] == "store_ids[1]: must be text"
    response = client.post("/trigger_report/", {"store_ids": ["x "]}, content_type="application/json")
    assert response.status_code == 400 and response.json()["error"].startswith("store_ids[0]: ends with a space")
    response = client.post("/trigger_report/", {"as_of": "2023-01-25T12:00:00"}, content_type="application/json")
    assert response.status_code == 400
    assert response.json()["error"].startswith("as_of: '2023-01-25T12:00:00' has no offset")
    response = client.post("/trigger_report/", {"as_of": "2200-01-01T00:00:00Z"}, content_type="application/json")
    assert response.status_code == 400 and response.json()["error"].startswith("as_of: must be in the years")
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
    """monitoring.web.middleware.MalformedRequestMiddleware: JSON on API paths, a short
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


# --------------------------------------------------------------------------- errors for people, logs for operators

#: Every API URL with a wrong method, a wrong body or an unknown resource: (method, path,
#: body, content type, status). Each answers JSON {"error": ...}, never an HTML page.
API_REFUSALS = [
    ("GET", "/graphql/", None, None, 400),  # no query (a program, not a browser)
    ("PUT", "/graphql/", None, None, 405),
    ("DELETE", "/graphql/", None, None, 405),
    ("POST", "/graphql/", "query { stores { totalCount } }", "text/plain", 400),  # wrong content type
    ("POST", "/graphql/", "{", "application/json", 400),
    ("POST", "/graphql/", "{}", "application/json", 400),  # no query in it
    ("GET", "/trigger_report/", None, None, 405),
    ("PUT", "/trigger_report/", None, None, 405),
    ("PUT", "/get_report/", None, None, 405),
    ("DELETE", "/get_report/", None, None, 405),
    ("GET", "/get_report/", None, None, 400),  # no report_id
    ("GET", "/get_report/?report_id=00000000-0000-4000-8000-000000000000", None, None, 404),
    ("PATCH", "/store/get_report/", None, None, 405),
    ("DELETE", "/store/x/trigger_report/", None, None, 405),
    ("PUT", "/store/x/trigger_report/", None, None, 405),
    ("GET", "/store/ghost/trigger_report/", None, None, 404),
    ("GET", "/store/", None, None, 404),
    ("GET", "/store/x/", None, None, 404),
    ("GET", "/reports/download/bad/", None, None, 403),
    ("PUT", "/reports/download/bad/", None, None, 405),
    ("POST", "/reports/download/bad/", "{}", "application/json", 405),
    ("DELETE", "/reports/download/bad/", None, None, 405),
    ("GET", "/reports/download/", None, None, 404),
    ("GET", "/reports/download/a/b/", None, None, 404),
]


@pytest.mark.parametrize(("method", "path", "body", "content_type", "status"), API_REFUSALS)
def test_every_api_refusal_answers_json(client, method, path, body, content_type, status):
    make_store("x")
    kwargs = {"content_type": content_type} if content_type else {}
    response = client.generic(method, path, body or "", **kwargs)
    assert response.status_code == status, (method, path, response.content[:200])
    assert response["Content-Type"].startswith("application/json"), (method, path, response.content[:200])
    assert response.json()["error"]
    if status == 405:
        assert response.has_header("Allow") or "GraphQL only supports" in response.json()["error"]


def _operator_lines(records) -> list[str]:
    """The records as the server log writes them (settings.LOGGING's console handler)."""
    import logging

    from config.log_format import RequestLineFormatter

    (handler,) = [h for h in logging.getLogger().handlers if isinstance(h.formatter, RequestLineFormatter)]
    return [handler.format(record) for record in records]


def test_the_server_log_writes_through_the_operator_formatter():
    import logging

    from config.log_format import RequestLineFormatter

    assert any(isinstance(h.formatter, RequestLineFormatter) for h in logging.getLogger().handlers)


def test_client_errors_are_logged_in_one_line(client, caplog):
    make_store("x")
    with caplog.at_level("WARNING"):
        client.get("/store/ghost/trigger_report/")
        client.put("/get_report/")
        client.get("/reports/download/bad/")
        client.get("/get_report/", HTTP_HOST="evil.example")  # DisallowedHost: logged with its exception
    lines = _operator_lines([r for r in caplog.records if getattr(r, "status_code", None)])
    assert len(lines) == 4, lines
    for line in lines:
        assert "\n" not in line and "Traceback" not in line, line
    assert lines[0].endswith("WARNING django.request: GET /store/ghost/trigger_report/ 404 Not Found")
    assert lines[1].endswith("django.request: PUT /get_report/ 405 Method Not Allowed")
    assert lines[2].endswith("django.request: GET /reports/download/bad/ 403 Forbidden")
    assert "django.security.DisallowedHost: GET /get_report/ 400 Bad Request: Invalid HTTP_HOST header: 'evil.example'" in lines[3]


def test_server_errors_keep_their_traceback(client, caplog, monkeypatch):
    from monitoring.web import rest as views

    def broken(**kwargs):
        raise RuntimeError("the database fell over")

    monkeypatch.setattr(views, "report_create", broken)
    client.raise_request_exception = False
    with caplog.at_level("ERROR"):
        response = client.post("/trigger_report/")
    assert response.status_code == 500
    (line,) = _operator_lines([r for r in caplog.records if getattr(r, "status_code", None) == 500])
    first, *rest = line.splitlines()
    assert first.endswith("ERROR django.request: POST /trigger_report/ 500 Internal Server Error: the database fell over")
    assert "Traceback (most recent call last)" in line and "RuntimeError: the database fell over" in line
