"""Two organizations, each with a group: for every caller (each role, organization-wide
and on a group, and each single-scope token), nothing of the other organization, nor of
its own outside its group, is visible or writable, on any path (GraphQL, REST, pages,
live audiences, the audit log)."""

import pytest
from django.test import override_settings

from monitoring.audit.models import AuditEntry
from monitoring.models import Report, SpecialHours, StatusPoll, Store
from monitoring.reports import report_run
from monitoring.stores.access import (
    audiences_visible,
    polls_visible,
    reports_visible,
    store_audiences,
    stores_visible,
    token_access,
)
from monitoring.organizations.models import Group

from tests.graphql_client import graphql
from tests.organizations.world import LAYOUT, build_world

pytestmark = [pytest.mark.django_db]


@pytest.fixture(autouse=True)
def _settings():
    with override_settings(
        API_ANONYMOUS_ACCESS=False, RATE_LIMIT_WRITES=100_000, RATE_LIMIT_REPORTS=100_000, RATE_LIMIT_POLLS=100_000
    ):
        yield


def _reach(caller) -> set[str]:
    """The stores a caller may see, from the layout alone (the reference)."""
    stores, _group, group_stores = LAYOUT[caller.organization]
    return set(group_stores if caller.group else stores)


def _all_stores() -> set[str]:
    return {store for stores, _, _ in LAYOUT.values() for store in stores}


def test_each_caller_sees_exactly_its_reach_through_the_selectors(client):
    world = build_world()
    for caller in world["callers"]:
        access = token_access(raw=caller.token)
        reach = _reach(caller)
        assert set(stores_visible(access=access).values_list("store_id", flat=True)) == reach, caller.label
        assert set(polls_visible(access=access).values_list("store__store_id", flat=True)) == reach, caller.label
        reports = world["reports"][caller.organization]
        expected_reports = {reports["group"].pk} | (set() if caller.group else {reports["organization"].pk})
        assert set(reports_visible(access=access).values_list("pk", flat=True)) == expected_reports, caller.label
        # Live updates: a caller hears a store's events exactly when it sees the store.
        for store in Store.objects.all():
            groups = Group.stores.through.objects.filter(store_id=store.pk).values_list("group_id", flat=True)
            hears = bool(set(audiences_visible(access=access)) & set(store_audiences(owner_id=store.owner_id, group_ids=groups)))
            assert hears == (store.store_id in reach), (caller.label, store.store_id)


def test_nothing_outside_a_callers_reach_is_readable_or_writable_on_any_path(client):
    world = build_world()
    for caller in world["callers"]:
        reach = _reach(caller)
        headers = {"Authorization": f"Bearer {caller.token}"}
        for store_id in sorted(_all_stores() - reach):
            before = (SpecialHours.objects.count(), StatusPoll.objects.count(), Report.objects.count())
            if "read" in caller.scopes:
                answer = graphql(client, f'{{ store(id: "{store_id}") {{ id }} }}', token=caller.token)
                assert answer["errors"][0]["extensions"]["code"] == "NOT_FOUND", caller.label
                page = client.get(f"/stores/{store_id}/", headers={**headers, "Accept": "text/html"})
                assert page.status_code == 404, caller.label
            answer = graphql(
                client,
                f'mutation {{ setSpecialHours(storeId: "{store_id}", date: "2023-01-26", shifts: []) '
                "{ userErrors { code } } }",
                token=caller.token,
            )
            assert answer["data"]["setSpecialHours"]["userErrors"][0]["code"] in ("NOT_FOUND", "FORBIDDEN"), caller.label
            answer = graphql(
                client,
                f'mutation {{ recordPolls(polls: [{{storeId: "{store_id}", timestampUtc: "2023-01-25T19:00:00Z", '
                'status: "active"}]) { loaded rejections { reason } } }',
                token=caller.token,
            )
            if answer.get("errors"):
                assert answer["errors"][0]["extensions"]["code"] == "FORBIDDEN", caller.label
            else:
                assert answer["data"]["recordPolls"]["loaded"] == 0, caller.label
                assert answer["data"]["recordPolls"]["rejections"] == [{"reason": "store not found"}]
            answer = graphql(
                client, f'mutation {{ triggerReport(storeIds: ["{store_id}"]) {{ userErrors {{ code message }} }} }}',
                token=caller.token,
            )
            (error,) = answer["data"]["triggerReport"]["userErrors"]
            # Outside its reach, a store is as unknown as one that does not exist.
            assert error["code"] == "FORBIDDEN" or error["message"] == f"storeIds: no such store: {store_id}", (
                caller.label, error,
            )
            response = client.post(
                f"/store/{store_id}/trigger_report/", headers=headers
            )
            assert response.status_code in (403, 404), caller.label
            assert (SpecialHours.objects.count(), StatusPoll.objects.count(), Report.objects.count()) == before
        # Reports of the other organization (and, on a group, the organization-wide one).
        for name, reports in world["reports"].items():
            for kind, report in reports.items():
                if name == caller.organization and (kind == "group" or caller.group is None):
                    continue
                response = client.get("/get_report/", {"report_id": str(report.pk)}, headers=headers)
                assert response.status_code in (403, 404), (caller.label, name, kind)
                answer = graphql(client, f'{{ report(id: "{report.pk}") {{ id }} }}', token=caller.token)
                assert answer["errors"][0]["extensions"]["code"] in ("NOT_FOUND", "FORBIDDEN"), caller.label


def test_a_group_callers_report_covers_only_its_group(client):
    world = build_world()
    caller = next(c for c in world["callers"] if c.role == "OPERATOR" and c.group == "east" and len(c.scopes) > 1)
    answer = graphql(client, "mutation { triggerReport { report { id } userErrors { message } } }", token=caller.token)
    report = report_run(report_id=answer["data"]["triggerReport"]["report"]["id"])
    assert sorted(report.rows.values_list("store_id", flat=True)) == sorted(LAYOUT["north"][2])
    store_list = graphql(client, "{ stores { results { id } } }", token=caller.token)["data"]["stores"]["results"]
    assert [row["id"] for row in store_list] == sorted(LAYOUT["north"][2])


def test_an_organizations_admins_read_only_their_audit_log(client):
    world = build_world()
    north_admin = next(c for c in world["callers"] if c.organization == "north" and c.role == "ADMIN" and c.group is None and len(c.scopes) > 1)
    south_admin = next(c for c in world["callers"] if c.organization == "south" and c.role == "ADMIN" and c.group is None and len(c.scopes) > 1)
    graphql(
        client, 'mutation { setSpecialHours(storeId: "n1", date: "2023-01-26", shifts: []) { specialHours { date } } }',
        token=north_admin.token,
    )
    query = "{ auditLog(first: 500) { nodes { action objectId } } }"
    north = graphql(client, query, token=north_admin.token)["data"]["auditLog"]["nodes"]
    south = graphql(client, query, token=south_admin.token)["data"]["auditLog"]["nodes"]
    assert {"action": "special_hours.set", "objectId": "n1 2023-01-26"} in north
    assert not any(node["objectId"].startswith("n") for node in south if node["action"] == "special_hours.set")
    north_ids = set(Store.objects.filter(owner__name="north").values_list("owner_id", flat=True))
    assert len(north) == AuditEntry.objects.filter(organization_id__in=north_ids).count()


def test_the_read_cache_never_hands_one_callers_answer_to_another(client):
    world = build_world()
    query = "{ stores { results { id } } }"
    north = [c for c in world["callers"] if c.organization == "north" and len(c.scopes) > 1]
    organization_wide = next(c for c in north if c.group is None)
    on_group = next(c for c in north if c.group is not None)
    reports_only = next(c for c in world["callers"] if c.organization == "north" and c.scopes == ("reports",))
    for _ in range(2):  # the second round is answered from the cache where it may be
        wide = graphql(client, query, token=organization_wide.token)["data"]["stores"]["results"]
        assert [row["id"] for row in wide] == LAYOUT["north"][0]
        narrow = graphql(client, query, token=on_group.token)["data"]["stores"]["results"]
        assert [row["id"] for row in narrow] == LAYOUT["north"][2]
        refused = graphql(client, query, token=reports_only.token)
        assert refused["errors"][0]["extensions"]["code"] == "FORBIDDEN"


def test_a_group_callers_default_as_of_is_the_latest_poll_of_its_group(client):
    from datetime import UTC, datetime

    from tests.factories import add_polls

    world = build_world()
    later = datetime(2023, 1, 25, 20, 0, tzinfo=UTC)  # after every worked-example poll
    add_polls(Store.objects.get(store_id="n2"), [(later, True)])  # in north, outside group east
    query = '{ store(id: "n1") { uptime { asOf } } }'
    north = [c for c in world["callers"] if c.organization == "north" and c.role == "VIEWER" and len(c.scopes) > 1]
    wide = next(c for c in north if c.group is None)
    narrow = next(c for c in north if c.group is not None)
    assert graphql(client, query, token=wide.token)["data"]["store"]["uptime"]["asOf"].startswith("2023-01-25T20:00:00")
    latest_in_group = StatusPoll.objects.filter(store__store_id="n1").order_by("-timestamp_utc").first().timestamp_utc
    assert graphql(client, query, token=narrow.token)["data"]["store"]["uptime"]["asOf"].startswith(
        latest_in_group.strftime("%Y-%m-%dT%H:%M:%S")
    )
    assert latest_in_group < later


def test_a_group_callers_polls_for_its_organizations_other_stores_are_refused_as_unknown(client):
    world = build_world()
    caller = next(c for c in world["callers"] if c.role == "OPERATOR" and c.group == "east" and len(c.scopes) > 1)
    inside, outside = LAYOUT["north"][2][0], next(s for s in LAYOUT["north"][0] if s not in LAYOUT["north"][2])
    before = StatusPoll.objects.filter(store__store_id=outside).count()
    polls = [
        {"storeId": store_id, "timestampUtc": "2023-01-25T19:00:00Z", "status": "active"}
        for store_id in (inside, outside, "nowhere")
    ]
    answer = graphql(
        client,
        "mutation($polls: [PollInput!]!) { recordPolls(polls: $polls) { loaded rejections { index field reason } } }",
        {"polls": polls}, token=caller.token,
    )["data"]["recordPolls"]
    # The store of its organization outside its group is answered as a store that does not exist.
    assert answer == {
        "loaded": 1,
        "rejections": [
            {"index": 1, "field": "storeId", "reason": "store not found"},
            {"index": 2, "field": "storeId", "reason": "store not found"},
        ],
    }
    assert StatusPoll.objects.filter(store__store_id=outside).count() == before
    assert StatusPoll.objects.filter(store__store_id=inside, timestamp_utc="2023-01-25T19:00:00Z").exists()


def test_the_audit_logs_total_count_is_the_whole_filtered_log_on_every_page(client):
    world = build_world()
    north_admin = next(c for c in world["callers"] if c.organization == "north" and c.role == "ADMIN" and c.group is None and len(c.scopes) > 1)
    for day in ("2023-01-26", "2023-01-27", "2023-01-28"):
        graphql(
            client, f'mutation {{ setSpecialHours(storeId: "n1", date: "{day}", shifts: []) {{ specialHours {{ date }} }} }}',
            token=north_admin.token,
        )
    query = """query($after: String, $type: String) {
      auditLog(first: 2, after: $after, objectType: $type) { totalCount nodes { objectType } pageInfo { endCursor hasNextPage } } }"""
    north_ids = set(Store.objects.filter(owner__name="north").values_list("owner_id", flat=True))
    everything = AuditEntry.objects.filter(organization_id__in=north_ids)
    for object_type, expected in ((None, everything.count()), ("special_hours", everything.filter(object_type="special_hours").count())):
        assert expected >= 3
        seen, after = 0, None
        while True:
            page = graphql(client, query, {"after": after, "type": object_type}, token=north_admin.token)["data"]["auditLog"]
            assert page["totalCount"] == expected  # the whole list, not what is left after the cursor
            seen += len(page["nodes"])
            if not page["pageInfo"]["hasNextPage"]:
                break
            after = page["pageInfo"]["endCursor"]
        assert seen == expected
