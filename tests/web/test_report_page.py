"""A report's page: its states and download link; an unknown report."""

import re
import uuid

import pytest
from monitoring.models import Report
from monitoring.reports import report_run
from monitoring.web.links import report_download_path

from tests.factories import worked_example_store

pytestmark = pytest.mark.django_db


def test_report_page_states_and_link(client):
    store, noon = worked_example_store()
    report = Report.objects.create(store_ids=[store.store_id], requested_as_of=noon)
    url = f"/reports/{report.id}/"

    html = client.get(url).content.decode()
    assert 'id="report-status">PENDING<' in html
    assert '<meta http-equiv="refresh" content="2">' in html
    assert "Download CSV" not in html

    Report.objects.filter(pk=report.pk).update(status=Report.Status.RUNNING, started_at=noon)
    html = client.get(url).content.decode()
    assert 'id="report-status">RUNNING<' in html and 'http-equiv="refresh"' in html

    Report.objects.filter(pk=report.pk).update(status=Report.Status.PENDING, started_at=None)
    report_run(report_id=report.id)
    html = client.get(url).content.decode()
    assert 'id="report-status">COMPLETE<' in html
    assert 'http-equiv="refresh"' not in html
    link = re.search(r'<a class="download" id="download" href="([^"]+)"', html).group(1)
    assert link.startswith(report_download_path(report_id=report.id).rsplit(":", 2)[0])
    download = client.get(link)
    assert download.status_code == 200 and download["Content-Type"].startswith("text/csv")
    assert download.content.decode().splitlines()[1] == "worked-example,0.00,1.74,1.74,60.00,1.26,1.26"
    assert 'id="store-count">1' in html
    assert 'href="/stores/worked-example/"' in html  # the preview links to the store page

    failed = Report.objects.create(status=Report.Status.FAILED, error="the report could not be computed")
    html = client.get(f"/reports/{failed.id}/").content.decode()
    assert "the report could not be computed" in html and "Download CSV" not in html
    assert 'http-equiv="refresh"' not in html


def test_report_page_unknown_and_download_route_still_matches(client):
    assert client.get(f"/reports/{uuid.uuid4()}/").status_code == 404
    # /reports/download/<token>/ is the signed link, not a report page.
    response = client.get("/reports/download/not-a-token/")
    assert response.status_code == 403
    assert response.json()["error"] == "this download link is not valid"
