"""Every role (organization-wide and on a group) and every scope × every operation, over
GraphQL, REST and the pages: allowed exactly where SPEC §12 says (tests/organizations/world.py
holds it in its own words), FORBIDDEN otherwise, and nothing changed by a refusal."""

import json
from datetime import UTC, datetime, timedelta

import pytest
from django.contrib.auth.models import User
from django.test import override_settings

from monitoring.alerts.models import Incident, IncidentNote, Webhook
from monitoring.audit.models import AuditEntry
from monitoring.kernel.errors import Forbidden
from monitoring.models import ApiToken, Report, SpecialHours, StatusPoll, Store
from monitoring.organizations.models import Member
from monitoring.schedules.models import ReportSchedule
from monitoring.stores.access import require, token_access

from tests.graphql_client import graphql
from tests.organizations.world import LAYOUT, build_world, expected

pytestmark = [pytest.mark.django_db]


@pytest.fixture(autouse=True)
def _settings():
    with override_settings(
        API_ANONYMOUS_ACCESS=False, RATE_LIMIT_WRITES=100_000, RATE_LIMIT_REPORTS=100_000, RATE_LIMIT_POLLS=100_000,
        WEBHOOK_ALLOW_PRIVATE=True,
    ):
        yield


def _counts() -> dict:
    return {
        **{
            model.__name__: model.objects.count()
            for model in (SpecialHours, Report, StatusPoll, ApiToken, Webhook, ReportSchedule, AuditEntry, Member, User,
                          IncidentNote)
        },
        "acknowledged": Incident.objects.filter(acknowledged_at__isnull=False).count(),
    }


def _open_incident(store_id: str) -> str:
    """A fresh OPEN incident of the store (as a live STORE_DOWN records it), to acknowledge."""
    store = Store.objects.get(store_id=store_id)
    started = datetime(2023, 1, 25, 12, tzinfo=UTC) + timedelta(seconds=Incident.objects.count())
    return str(Incident.objects.create(store=store, started_at=started, status=Incident.Status.OPEN).pk)


def _graphql_outcome(answer: dict, field: str) -> bool:
    """True when done; False when refused with FORBIDDEN (top-level or in userErrors); any
    other error fails the test."""
    codes = [error["extensions"]["code"] for error in answer.get("errors") or []]
    payload = (answer.get("data") or {}).get(field)
    if isinstance(payload, dict):
        codes += [error["code"] for error in payload.get("userErrors") or []]
    assert set(codes) <= {"FORBIDDEN"}, answer
    return not codes


def _store_of(caller) -> str:
    """A store inside the caller's reach: its group's, or its organization's first."""
    return LAYOUT[caller.organization][2][0]


def _gql(client, caller, operation):
    store = _store_of(caller)
    documents = {
        "read store": ("store", f'{{ store(id: "{store}") {{ id }} }}'),
        "read report": ("reports", "{ reports { totalCount } }"),
        "trigger report": ("triggerReport", "mutation { triggerReport { report { id } userErrors { code message } } }"),
        "edit special hours": (
            "setSpecialHours",
            f'mutation {{ setSpecialHours(storeId: "{store}", date: "2023-01-26", shifts: []) '
            "{ specialHours { date } userErrors { code message } } }",
        ),
        "write polls": (
            "recordPolls",
            f'mutation {{ recordPolls(polls: [{{storeId: "{store}", timestampUtc: "2023-01-25T19:00:00Z", '
            'status: "active"}]) { loaded userErrors { code message } } }',
        ),
        "manage tokens": (
            "createApiToken",
            "mutation { createApiToken(name: \"made\", role: VIEWER, scopes: [READ]) { secret userErrors { code message } } }",
        ),
        "manage members": (
            "setMember",
            'mutation($group: String) { setMember(username: "newbie", role: VIEWER, group: $group) '
            "{ member { username } userErrors { code message } } }",
        ),
        "webhooks": ("createWebhook", 'mutation { createWebhook(url: "https://example.com/hook") { secret } }'),
        "schedules": (
            "createReportSchedule",
            'mutation { createReportSchedule(period: WEEKLY, zone: "UTC", url: "https://example.com/r") '
            "{ secret userErrors { code message } } }",
        ),
        "audit log": ("auditLog", "{ auditLog(first: 5) { nodes { action } } }"),
        "acknowledge": (
            "acknowledgeIncident",
            'mutation($incident: ID!) { acknowledgeIncident(id: $incident, note: "on it") '
            "{ incident { id } userErrors { code message } } }",
        ),
    }
    if operation not in documents:
        return None
    field, document = documents[operation]
    variables = {"group": caller.group} if "$group" in document else None
    if "$incident" in document:
        variables = {"incident": _open_incident(store)}
    return _graphql_outcome(graphql(client, document, variables, token=caller.token), field)


def _status_outcome(response) -> bool:
    assert response.status_code in (200, 302, 403), (response.status_code, response.content[:300])
    if response.status_code == 403:
        assert b"FORBIDDEN" in response.content or b"Not allowed" in response.content
    return response.status_code != 403


def _rest(client, caller, operation, reports):
    headers = {"Authorization": f"Bearer {caller.token}"}
    if operation == "read report":
        report = reports[caller.organization]["group"]
        return _status_outcome(client.get("/get_report/", {"report_id": str(report.pk)}, headers=headers))
    if operation == "trigger report":
        return _status_outcome(client.post("/trigger_report/", "{}", content_type="application/json", headers=headers))
    return None


def _page(client, caller, operation):
    headers = {"Authorization": f"Bearer {caller.token}", "Accept": "text/html"}
    pages = {
        "read store": lambda: client.get(f"/stores/{_store_of(caller)}/", headers=headers),
        "read report": lambda: client.get("/reports/", headers=headers),
        "trigger report": lambda: client.post("/reports/generate/", headers=headers),
        "manage tokens": lambda: client.post(
            "/organization/tokens/", {"name": "page-made", "role": "VIEWER", "scopes": ["read"]}, headers=headers
        ),
        "audit log": lambda: client.get("/organization/audit/", headers=headers),
        "manage members": lambda: client.post(
            "/organization/members/", {"username": "page-newbie", "role": "VIEWER", "group": caller.group or ""},
            headers=headers,
        ),
    }
    return _status_outcome(pages[operation]()) if operation in pages else None


ACTIONS = {
    "read store": "store.read", "read report": "report.read", "trigger report": "report.trigger",
    "edit special hours": "special_hours.edit", "acknowledge": "incident.acknowledge", "write polls": "polls.write",
    "manage tokens": "tokens.manage", "manage members": "members.manage", "webhooks": "webhooks.manage",
    "schedules": "schedules.manage", "audit log": "audit.read",
}


def test_every_role_and_scope_is_allowed_exactly_what_spec_12_says(client):
    world = build_world()
    checked = 0
    mismatches = []
    for caller in world["callers"]:
        access = token_access(raw=caller.token)
        for operation, action in ACTIONS.items():
            want = expected(caller, operation)
            try:
                require(access, action)
                decided = True
            except Forbidden as error:
                decided = False
                assert "needs" in error.reason  # says which role or scope is missing
            outcomes = {"require": decided}
            for interface, run in (
                ("graphql", lambda: _gql(client, caller, operation)),
                ("rest", lambda: _rest(client, caller, operation, world["reports"])),
                ("page", lambda: _page(client, caller, operation)),
            ):
                before = _counts()
                outcome = run()
                if outcome is None:
                    continue
                outcomes[interface] = outcome
                if not outcome:
                    assert _counts() == before, f"{caller.label} {operation} over {interface}: refused but changed"
                checked += 1
            for interface, outcome in outcomes.items():
                if outcome != want:
                    mismatches.append(f"{caller.label}: {operation} over {interface}: {outcome}, SPEC says {want}")
    assert mismatches == []
    assert checked > 200


def test_a_refusal_names_the_missing_role_or_scope(client):
    world = build_world()
    viewer = next(c for c in world["callers"] if c.role == "VIEWER" and c.group is None and len(c.scopes) > 1)
    answer = graphql(
        client,
        'mutation { setSpecialHours(storeId: "n1", date: "2023-01-26", shifts: []) { userErrors { code message } } }',
        token=viewer.token,
    )
    (error,) = answer["data"]["setSpecialHours"]["userErrors"]
    assert error == {"code": "FORBIDDEN", "message": "the VIEWER role cannot edit special hours: it needs OPERATOR or above"}
    reports_only = next(c for c in world["callers"] if c.scopes == ("reports",) and c.organization == "north")
    answer = graphql(
        client,
        'mutation { recordPolls(polls: [{storeId: "n1", timestampUtc: "2023-01-25T19:00:00Z", status: "active"}]) { loaded } }',
        token=reports_only.token,
    )
    assert answer["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    assert answer["errors"][0]["message"] == "this token cannot write polls: it needs the 'polls:write' scope"
    response = client.post(
        "/trigger_report/", "{}", content_type="application/json",
        headers={"Authorization": f"Bearer {viewer.token}"},
    )
    assert response.status_code == 403
    assert json.loads(response.content)["errors"][0]["extensions"]["code"] == "FORBIDDEN"


def test_a_member_token_never_exceeds_the_member_role_even_after_a_demotion(client):
    world = build_world()
    admin = next(c for c in world["callers"] if c.role == "ADMIN" and c.group is None and len(c.scopes) > 1)
    assert graphql(client, "{ auditLog { nodes { action } } }", token=admin.token).get("errors") is None
    token = ApiToken.objects.select_related("member").get(key_prefix=admin.token[:8])
    token.member.role = "VIEWER"
    token.member.save()
    answer = graphql(client, "{ auditLog { nodes { action } } }", token=admin.token)
    assert answer["errors"][0]["extensions"]["code"] == "FORBIDDEN"
