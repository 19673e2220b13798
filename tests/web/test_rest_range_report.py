"""POST /trigger_report/ with `from` and `to` (docs/rules.md §11), as GraphQL's
triggerReport(from:, to:): a range report whose CSV is the range CSV; a refusal is a 400
whose error names the field, and queues nothing."""

import io
from datetime import datetime, timedelta, timezone

import pytest
from monitoring.history import range_csv_write
from monitoring.models import Owner, Report
from monitoring.reports import report_run
from monitoring.stores.access import token_create

from tests.factories import add_polls, make_store, worked_example_store

pytestmark = pytest.mark.django_db

UTC = timezone.utc
RANGE_HEADER = "store_id,uptime_minutes,downtime_minutes,unknown_minutes,business_minutes"


def test_a_range_report_over_rest(client):
    store, noon = worked_example_store()
    start, end = noon - timedelta(days=3), noon
    response = client.post(
        "/trigger_report/", {"from": "2023-01-22T17:00:00Z", "to": "2023-01-25 17:00:00 UTC"},
        content_type="application/json",
    )
    assert response.status_code == 200, response.content
    report = Report.objects.get(pk=response.json()["report_id"])
    assert report.range_start == start and report.requested_as_of == end
    report_run(report_id=report.id)
    csv_text = client.get("/get_report/", {"report_id": str(report.id)}).content.decode()
    expected = io.StringIO()
    range_csv_write(out=expected, start=start, end=end)
    assert csv_text.splitlines()[0] == RANGE_HEADER and csv_text == expected.getvalue()
    # The store's own trigger takes the same body; `to` defaults to the latest poll when it runs.
    response = client.post(
        f"/store/{store.store_id}/trigger_report/", {"from": "2023-01-25T00:00:00Z"}, content_type="application/json"
    )
    report = Report.objects.get(pk=response.json()["report_id"])
    assert report.store_ids == [store.store_id] and report.requested_as_of is None
    assert report.range_start == datetime(2023, 1, 25, tzinfo=UTC)
    # Form fields (curl -d from=…) work as a JSON body does.
    response = client.post("/trigger_report/", {"from": "2023-01-24T00:00:00Z"})
    assert response.status_code == 200 and Report.objects.get(pk=response.json()["report_id"]).is_range


@pytest.mark.parametrize(
    "body, error",
    [
        ({"from": "last monday"}, "from: unparsable"),
        ({"from": "2023-01-20T00:00:00"}, "from: '2023-01-20T00:00:00' has no offset"),
        ({"from": 20230120}, "from: must be text"),
        ({"from": "1999-01-01T00:00:00Z"}, "from: must be in the years 2000–2100"),
        ({"from": "2023-01-20T00:00:00Z", "to": "tomorrow"}, "to: unparsable"),
        ({"from": "2023-01-20T00:00:00Z", "to": "2023-01-19T00:00:00Z"}, "to: must be after from"),
        ({"from": "2021-01-01T00:00:00Z", "to": "2023-01-19T00:00:00Z"}, "from: is 748 days before to"),
        ({"to": "2023-01-19T00:00:00Z"}, "from: missing"),
        ({"from": "2023-01-18T00:00:00Z", "as_of": "2023-01-25T00:00:00Z"}, "as_of: "),
    ],
)
def test_range_refusals_name_the_field(client, body, error):
    make_store("s")
    response = client.post("/trigger_report/", body, content_type="application/json")
    assert response.status_code == 400
    assert response.json()["error"].startswith(error), response.json()
    assert Report.objects.count() == 0


def test_an_owner_s_range_report_covers_their_stores(client):
    alice = Owner.objects.create(name="alice")
    mine, other = make_store("mine", zone="UTC"), make_store("other", zone="UTC")
    mine.owner = alice
    mine.save()
    add_polls(mine, [(datetime(2023, 3, 1, hour, tzinfo=UTC), True) for hour in range(6)])
    add_polls(other, [(datetime(2023, 3, 9, hour, tzinfo=UTC), False) for hour in range(6)])
    _, token = token_create(name="t", owner=alice)
    auth = {"Authorization": f"Bearer {token}"}
    response = client.post(
        "/trigger_report/", {"from": "2023-03-01T00:00:00Z"}, content_type="application/json", headers=auth
    )
    report = report_run(report_id=response.json()["report_id"])
    assert report.as_of == datetime(2023, 3, 1, 5, tzinfo=UTC)  # her latest poll, not the other store's
    csv_text = client.get("/get_report/", {"report_id": str(report.id)}, headers=auth).content.decode()
    assert [line.split(",")[0] for line in csv_text.splitlines()[1:]] == ["mine"]
    refused = client.post(
        "/trigger_report/", {"from": "2023-03-01T00:00:00Z", "store_ids": ["other"]},
        content_type="application/json", headers=auth,
    )
    assert refused.status_code == 400 and "other" in refused.json()["error"]
