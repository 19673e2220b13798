"""docs/rules.md §8: the default as_of of anything a caller asks for is the latest poll
among the stores that caller can see. A role held on a group sees its group's stores,
so a later poll elsewhere in its organization moves the organization-wide caller's
default as_of and never the group's, on every surface: GraphQL uptime, ranges, the
fleet and reports, the REST triggers and get_report, the pages, and fleetLostRevenue."""

from datetime import UTC, datetime

import pytest
from django.db.models import Max
from django.test import override_settings

from monitoring.fleet.revenue import fleet_lost_revenue
from monitoring.models import Report, StatusPoll, Store
from monitoring.reports import report_run
from monitoring.stores.access import token_access

from tests.factories import add_polls
from tests.graphql_client import graphql
from tests.organizations.world import LAYOUT, build_world

pytestmark = [pytest.mark.django_db]

LATER = datetime(2023, 1, 25, 20, 0, tzinfo=UTC)  # after every worked-example poll
RANGE_FROM = "2023-01-24T00:00:00+00:00"


@pytest.fixture(autouse=True)
def _settings():
    with override_settings(API_ANONYMOUS_ACCESS=False, RATE_LIMIT_REPORTS=100_000):
        yield


@pytest.fixture
def callers():
    """North's two OPERATORs with every scope, organization-wide and on group east (n1),
    with a poll of n2 (north, outside east) later than any of east's; each with the
    default as_of the rule gives it, read from the polls."""
    world = build_world()
    add_polls(Store.objects.get(store_id="n2"), [(LATER, True)])
    north = [c for c in world["callers"] if c.organization == "north" and c.role == "OPERATOR" and len(c.scopes) > 1]

    def latest(store_ids):
        return StatusPoll.objects.filter(store__store_id__in=store_ids).aggregate(latest=Max("timestamp_utc"))["latest"]

    wide = next(c for c in north if c.group is None)
    narrow = next(c for c in north if c.group is not None)
    expected = {wide.token: latest(LAYOUT["north"][0]), narrow.token: latest(LAYOUT["north"][2])}
    assert expected[narrow.token] < expected[wide.token] == LATER
    return [(wide, expected[wide.token]), (narrow, expected[narrow.token])]


def _instant(text: str) -> datetime:
    return datetime.fromisoformat(text).astimezone(UTC)


def _bearer(caller) -> dict:
    return {"Authorization": f"Bearer {caller.token}"}


def test_graphql_uptime_and_fleet_default_to_the_callers_latest_poll(client, callers):
    query = '{ store(id: "n1") { uptime { asOf } } fleet { asOf } }'
    for caller, expected in callers:
        data = graphql(client, query, token=caller.token)["data"]
        assert _instant(data["store"]["uptime"]["asOf"]) == expected, caller.label
        assert _instant(data["fleet"]["asOf"]) == expected, caller.label


def test_graphql_reports_weekly_and_range_default_to_the_callers_latest_poll(client, callers):
    for caller, expected in callers:
        for arguments in ("", f'(from: "{RANGE_FROM}")'):
            answer = graphql(
                client, f"mutation {{ triggerReport{arguments} {{ report {{ id }} userErrors {{ message }} }} }}",
                token=caller.token,
            )["data"]["triggerReport"]
            assert answer["userErrors"] == [], (caller.label, answer)
            report = report_run(report_id=answer["report"]["id"])
            assert report.status == Report.Status.COMPLETE, (caller.label, report.error)
            assert report.as_of == expected, (caller.label, arguments)
            shown = graphql(client, f'{{ report(id: "{report.pk}") {{ asOf }} }}', token=caller.token)
            assert _instant(shown["data"]["report"]["asOf"]) == expected, caller.label


def test_rest_triggers_and_get_report_answer_the_callers_latest_poll(client, callers):
    for caller, expected in callers:
        for path, body in (
            ("/trigger_report/", {}),
            ("/trigger_report/", {"from": RANGE_FROM}),
            ("/store/n1/trigger_report/", {}),
        ):
            response = client.post(path, body, content_type="application/json", headers=_bearer(caller))
            assert response.status_code == 200, (caller.label, path, response.content)
            report_run(report_id=response.json()["report_id"])
            answer = client.get("/get_report/", {"report_id": response.json()["report_id"]}, headers=_bearer(caller))
            assert answer.status_code == 200, (caller.label, path)
            # The CSV's file name is stamped with the report's as_of.
            assert expected.strftime("%Y%m%dT%H%M%SZ") in answer["Content-Disposition"], (caller.label, path, body)


def test_pages_default_to_the_callers_latest_poll(client, callers):
    for caller, expected in callers:
        fleet = client.get("/", headers=_bearer(caller))
        assert fleet.status_code == 200 and fleet.context["as_of"] == expected, caller.label
        over_range = client.get("/", {"from": RANGE_FROM}, headers=_bearer(caller))
        assert over_range.status_code == 200 and over_range.context["as_of"] == expected, caller.label
        store = client.get("/stores/n1/", headers=_bearer(caller))
        assert store.status_code == 200 and store.context["as_of"] == expected, caller.label
        generated = client.post("/reports/generate/", headers={**_bearer(caller), "Sec-Fetch-Site": "same-origin"})
        assert generated.status_code == 302, caller.label
        report = report_run(report_id=generated["Location"].rstrip("/").rsplit("/", 1)[-1])
        assert report.as_of == expected, caller.label


def test_fleet_lost_revenue_ends_at_the_callers_latest_poll(callers):
    for caller, expected in callers:
        _start, end, _totals = fleet_lost_revenue(access=token_access(raw=caller.token), start=_instant(RANGE_FROM))
        assert end == expected, caller.label
