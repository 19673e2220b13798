"""HEAD wherever GET reads a report: the signed download link and get_report answer
the GET's status and headers (Content-Length included), without a body; a streamed
CSV is not read."""

import pytest
from monitoring.reports import report_create, report_run
from monitoring.web.links import report_download_path

from tests.factories import worked_example_store

pytestmark = pytest.mark.django_db


@pytest.fixture
def complete_report():
    _, noon = worked_example_store("s1")
    worked_example_store("s2")
    report = report_create(as_of=noon)
    report_run(report_id=report.id)
    return report


def _same_but_body(head, get) -> None:
    assert head.status_code == get.status_code == 200
    for header in ("Content-Type", "Content-Disposition", "X-Report-Status"):
        assert head[header] == get[header], header
    body = get.getvalue() if get.streaming else get.content
    assert int(head["Content-Length"]) == len(body) > 0
    assert head.content == b""


@pytest.mark.parametrize("stream_above", [10**9, 10])
def test_head_on_the_download_link(client, complete_report, settings, stream_above):
    settings.REPORT_DOWNLOAD_STREAM_ABOVE = stream_above  # in one piece, then streamed
    path = report_download_path(report_id=complete_report.id)
    _same_but_body(client.head(path), client.get(path))
    # Refusals answer HEAD as GET does.
    assert client.head("/reports/download/not-a-token/").status_code == 403


def test_head_on_get_report(client, complete_report):
    query = {"report_id": str(complete_report.id)}
    _same_but_body(client.head("/get_report/", query), client.get("/get_report/", query))
    assert client.head("/get_report/", {"report_id": "00000000-0000-0000-0000-000000000000"}).status_code == 404
    assert client.head("/get_report/").status_code == 400
    # A method still refused names what is allowed.
    refused = client.put("/get_report/")
    assert refused.status_code == 405 and refused["Allow"] == "GET, HEAD, POST"
