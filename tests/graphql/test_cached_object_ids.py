"""Every object a client caches carries a stable id (docs/api.md): an incident's notes and
escalation steps, audit entries, members, business hours and a schedule's deliveries,
each the stored row's, the same on every read; and the audit log's edges."""

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from monitoring.alerts.incidents import Actor, incident_acknowledge
from monitoring.alerts.models import Incident, IncidentEscalation, IncidentNote
from monitoring.audit.models import AuditEntry
from monitoring.models import BusinessHours, Owner
from monitoring.organizations.models import Member
from monitoring.organizations.services import member_set
from monitoring.schedules.models import ScheduledDelivery
from monitoring.schedules.subscriptions import report_schedule_create
from monitoring.stores.access import token_create

from tests.alert_polls import record
from tests.factories import make_store
from tests.graphql_client import graphql

pytestmark = pytest.mark.django_db


def test_incident_notes_escalations_and_audit_entries_have_their_rows_ids(alert_world):
    now = timezone.now()
    record(alert_world["alice"], ("a1", now - timedelta(minutes=5), "inactive"))
    incident = Incident.objects.get()
    IncidentEscalation.objects.create(incident=incident, sequence=0, event="STORE_DOWN_ESCALATED", sent_at=now)
    for text in ("first", "second"):
        incident_acknowledge(access=alert_world["alice"], incident_id=incident.pk, actor=Actor("user ops"), note=text)
    token = token_create(name="ops", owner=Owner.objects.get(name="alice"))[1]
    client = Client()
    query = """{ incident(id: "%s") { notes { id text } escalations { id sequence } } }""" % incident.pk
    read = graphql(client, query, token=token)["data"]["incident"]
    assert read == graphql(client, query, token=token)["data"]["incident"]  # stable
    assert [n["id"] for n in read["notes"]] == [str(pk) for pk in IncidentNote.objects.order_by("created_at", "pk").values_list("pk", flat=True)]
    assert read["escalations"] == [{"id": str(IncidentEscalation.objects.get().pk), "sequence": 0}]

    log = graphql(client, "{ auditLog(first: 2) { nodes { id action } edges { cursor node { id } } pageInfo { endCursor } } }",
                  token=token)["data"]["auditLog"]
    stored = [str(pk) for pk in AuditEntry.objects.order_by("-id").values_list("pk", flat=True)[:2]]
    assert [n["id"] for n in log["nodes"]] == [e["node"]["id"] for e in log["edges"]] == stored
    assert log["edges"][-1]["cursor"] == log["pageInfo"]["endCursor"]
    after = graphql(client, '{ auditLog(first: 1, after: "%s") { nodes { id } } }' % log["edges"][0]["cursor"], token=token)
    assert after["data"]["auditLog"]["nodes"] == [{"id": stored[1]}]  # an edge's cursor continues after it


def test_members_business_hours_and_schedule_deliveries_have_their_rows_ids(alert_world):
    alice = Owner.objects.get(name="alice")
    member = member_set(username="carol", organization=alice, group=None, role="VIEWER", actor="test")
    token = token_create(name="admin", owner=alice)[1]
    client = Client()
    members = graphql(client, "{ members { id username } }", token=token)["data"]["members"]
    assert {"id": str(member.pk), "username": "carol"} in members
    assert len({m["id"] for m in members}) == len(members) == Member.objects.filter(organization=alice).count()

    store = make_store("hours", hours=[(0, "09:00", "12:00"), (0, "13:00", "17:00")])
    store.owner = alice
    store.save()
    hours = graphql(client, '{ store(id: "hours") { businessHours { id startTimeLocal } } }', token=token)["data"]["store"]["businessHours"]
    assert sorted(h["id"] for h in hours) == sorted(str(pk) for pk in BusinessHours.objects.filter(store=store).values_list("pk", flat=True))

    schedule, _secret = report_schedule_create(access=alert_world["alice"], period="WEEKLY", zone="UTC", url="https://example.com/weekly")
    now = timezone.now()
    delivery = ScheduledDelivery.objects.create(schedule=schedule, period_start=now - timedelta(days=7), period_end=now)
    schedules = graphql(client, "{ reportSchedules { id deliveries { id } } }", token=token)["data"]["reportSchedules"]
    assert schedules == [{"id": str(schedule.pk), "deliveries": [{"id": str(delivery.pk)}]}]


def test_a_bad_argument_on_a_top_level_field_nulls_that_field_only(alert_world):
    token = token_create(name="ops", owner=Owner.objects.get(name="alice"))[1]
    result = graphql(Client(), """{ fleet(first: 501) { totalCount } incidents(after: "bm9wZQ") { totalCount }
        auditLog(first: -1) { nodes { id } } incident(id: "00000000-0000-0000-0000-000000000000") { id }
        fleetLostRevenue(from: "2023-01-02T00:00:00Z", to: "2023-01-01T00:00:00Z") { currency }
        known: store(id: "a1") { id } }""", token=token)
    assert result["data"] == {"fleet": None, "incidents": None, "auditLog": None, "incident": None,
                              "fleetLostRevenue": None, "known": {"id": "a1"}}
    by_path = {tuple(error["path"]): error["extensions"] for error in result["errors"]}
    assert by_path == {
        ("fleet",): {"code": "INVALID_ARGUMENT", "argument": "first"},
        ("incidents",): {"code": "INVALID_ARGUMENT", "argument": "after"},
        ("auditLog",): {"code": "INVALID_ARGUMENT", "argument": "first"},
        ("incident",): {"code": "NOT_FOUND", "argument": "id"},
        ("fleetLostRevenue",): {"code": "INVALID_ARGUMENT", "argument": "to"},
    }
