"""Polls and special-hours rows carry ids: a poll's is the key the admin's poll list gives
it (one store's poll at one instant), a special-hours row's its own."""

from datetime import date, datetime, timedelta, timezone

import pytest
from monitoring.models import SpecialHours, StatusPollRow

from tests.factories import add_polls, make_store
from tests.graphql_client import graphql

pytestmark = pytest.mark.django_db

UTC = timezone.utc


def test_polls_have_the_admin_key_as_id(client):
    store = make_store("ids")
    moments = [datetime(2023, 1, 25, 10, tzinfo=UTC) + timedelta(minutes=7 * k, microseconds=k) for k in range(4)]
    add_polls(store, [(moment, k % 2 == 0) for k, moment in enumerate(moments)])
    make_store("other")
    add_polls(make_store("third"), [(moments[0], True)])
    body = graphql(client, """{ store(id: "ids") { polls(first: 10) { nodes { id timestampUtc } }
                                  statusPolls { results { id } } lastPoll { id } } }""")
    store_data = body["data"]["store"]
    expected = list(StatusPollRow.objects.filter(store=store).order_by("timestamp_utc").values_list("key", flat=True))
    assert [node["id"] for node in store_data["polls"]["nodes"]] == expected
    assert [node["id"] for node in store_data["statusPolls"]["results"]] == expected
    assert store_data["lastPoll"]["id"] == expected[-1] and len(set(expected)) == 4


def test_special_hours_rows_have_ids(client):
    make_store("holiday")
    set_hours = """mutation { setSpecialHours(storeId: "holiday", date: "2023-12-25",
                   shifts: [{startTimeLocal: "10:00", endTimeLocal: "14:00"}, {startTimeLocal: "16:00", endTimeLocal: "18:00"}]) {
                   specialHours { id startTimeLocal } } }"""
    rows = graphql(client, set_hours)["data"]["setSpecialHours"]["specialHours"]
    stored = SpecialHours.objects.filter(store__store_id="holiday", date=date(2023, 12, 25)).order_by("start_time_local")
    assert [row["id"] for row in rows] == [str(pk) for pk in stored.values_list("pk", flat=True)]
    read = graphql(client, '{ store(id: "holiday") { specialHours { id } } }')["data"]["store"]["specialHours"]
    assert [row["id"] for row in read] == [row["id"] for row in rows]
