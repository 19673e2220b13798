"""Two organizations with groups, on a real web server: for every caller (each role,
organization-wide and on a group, each single-scope token), the stores, reports and
store pages it reaches over HTTP are exactly its own, and it can write nothing else."""

import json

import pytest

from monitoring.models import SpecialHours, StatusPoll

from tests.graphql_client import live_request
from tests.organizations.world import LAYOUT, build_world
from tests.processes import free_port, running_web_server


def _graphql(base: str, token: str, query: str) -> dict:
    status, _, text = live_request(f"{base}/graphql/", token=token, body={"query": query})
    assert status == 200, text
    return json.loads(text)


@pytest.mark.django_db(transaction=True)
def test_nothing_of_another_organization_or_group_crosses_over_http(tmp_path):
    world = build_world()
    everything = {store for stores, _, _ in LAYOUT.values() for store in stores}
    with running_web_server(tmp_path / "web.log", free_port(), API_ANONYMOUS_ACCESS="0") as base:
        for caller in world["callers"]:
            stores, _, group_stores = LAYOUT[caller.organization]
            reach = set(group_stores if caller.group else stores)
            answer = _graphql(base, caller.token, "{ stores(pagination: {limit: 100}) { results { id } } }")
            if "read" in caller.scopes:
                assert {row["id"] for row in answer["data"]["stores"]["results"]} == reach, caller.label
            else:
                assert answer["errors"][0]["extensions"]["code"] == "FORBIDDEN", caller.label
            for store_id in sorted(everything - reach):
                status, _, _ = live_request(f"{base}/stores/{store_id}/", token=caller.token, accept="text/html")
                assert status in (403, 404), (caller.label, store_id)
                status, _, _ = live_request(f"{base}/store/{store_id}/trigger_report/", token=caller.token, body={})
                assert status in (403, 404), (caller.label, store_id)
                answer = _graphql(
                    base, caller.token,
                    f'mutation {{ setSpecialHours(storeId: "{store_id}", date: "2023-01-26", shifts: []) '
                    "{ userErrors { code } } }",
                )
                assert answer["data"]["setSpecialHours"]["userErrors"][0]["code"] in ("NOT_FOUND", "FORBIDDEN")
                answer = _graphql(
                    base, caller.token,
                    f'mutation {{ recordPolls(polls: [{{storeId: "{store_id}", timestampUtc: "2023-01-25T19:00:00Z", '
                    'status: "active"}]) { loaded } }',
                )
                assert "errors" in answer or answer["data"]["recordPolls"]["loaded"] == 0, caller.label
            for name, reports in world["reports"].items():
                for kind, report in reports.items():
                    own = name == caller.organization and (kind == "group" or caller.group is None)
                    status, _, _ = live_request(f"{base}/get_report/?report_id={report.pk}", token=caller.token)
                    readable = own and bool({"read", "reports"} & set(caller.scopes))
                    assert (status == 200) == readable, (caller.label, name, kind, status)
    assert SpecialHours.objects.count() == 0
    assert not StatusPoll.objects.filter(timestamp_utc="2023-01-25T19:00:00Z").exists()
