"""Bounds on the poll partitions a caller can make: a live or API write (`recordPolls`)
creates partitions only for the current weeks (the retention period before now to the
weeks created ahead), polls of other weeks are stored in the DEFAULT partition and read
back as any; an operator's file load creates the weeks it needs, up to a ceiling on the
partitions in all."""

import logging
from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection
from django.test import override_settings
from monitoring.ingest import load_status_file
from monitoring.models import Owner, StatusPoll
from monitoring.stores.access import token_create
from monitoring.stores.partitions import (
    current_weeks,
    default_partition,
    partition_name,
    partitions_list,
    week_start,
)

from tests.factories import make_store
from tests.graphql_client import graphql

pytestmark = pytest.mark.django_db

RECORD = """mutation($polls: [PollInput!]!) { recordPolls(polls: $polls) { loaded rejected userErrors { message } } }"""
READ = """query($id: ID!, $first: Int, $from: DateTime, $to: DateTime) {
    store(id: $id) { polls(first: $first, from: $from, to: $to) { nodes { timestampUtc isActive } } } }"""


def _names() -> set[str]:
    return {name for name, _low, _high in partitions_list()}


def graphql_data(client, query: str, *, token: str, variables: dict) -> dict:
    answer = graphql(client, query, variables, token=token)
    assert "errors" not in answer, answer
    return answer["data"]


@pytest.fixture
def two_owners():
    with override_settings(API_ANONYMOUS_ACCESS=False):
        mallory, bob = Owner.objects.create(name="mallory"), Owner.objects.create(name="bob")
        for store_id, owner in (("m1", mallory), ("b1", bob)):
            store = make_store(store_id, zone="UTC")
            store.owner = owner
            store.save()
        yield {"mallory": token_create(name="t", owner=mallory)[1], "bob": token_create(name="t", owner=bob)[1]}


def _instants(nodes: list[dict]) -> list[datetime]:
    return [datetime.fromisoformat(node["timestampUtc"]) for node in nodes]


def test_record_polls_over_25_years_creates_only_the_current_weeks(client, two_owners):
    """One poll per week since 2000, in three requests (each above the per-write cap of
    new partitions): the partitions created stay among the current weeks, every poll is
    stored once and reads back, and another owner's reads are unchanged."""
    now = datetime.now(UTC).replace(microsecond=0)
    bob_polls = [now - timedelta(hours=hours) for hours in range(10, 0, -1)]
    data = graphql_data(client, RECORD, token=two_owners["bob"], variables={"polls": [
        {"storeId": "b1", "timestampUtc": moment.isoformat(), "status": "active"} for moment in bob_polls]})
    assert data["recordPolls"]["loaded"] == 10
    before = _names()
    weeks, moment = [], datetime(2000, 1, 5, 12, tzinfo=UTC)
    while moment < now - timedelta(hours=12):
        weeks.append(moment)
        moment += timedelta(weeks=1)
    assert len(weeks) > 1300
    for part in (weeks[0::3], weeks[1::3], weeks[2::3]):
        data = graphql_data(client, RECORD, token=two_owners["mallory"], variables={"polls": [
            {"storeId": "m1", "timestampUtc": week.isoformat(), "status": "active"} for week in part]})
        assert data["recordPolls"] == {"loaded": len(part), "rejected": 0, "userErrors": []}
    first, last = current_weeks(now=now)
    current = {partition_name(week=first + timedelta(weeks=n)) for n in range((last - first).days // 7 + 1)}
    assert _names() - before <= current and len(current) <= 11
    # Every poll stored once; those of weeks without a partition in the DEFAULT one.
    stored = sorted(StatusPoll.objects.filter(store__store_id="m1").values_list("timestamp_utc", flat=True))
    assert stored == weeks
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT count(*) FROM {default_partition()}")
        assert cursor.fetchone()[0] >= len(weeks) - len(current)
    # Read back through the API: the first page, and a year's range in the DEFAULT.
    page = graphql_data(client, READ, token=two_owners["mallory"], variables={"id": "m1", "first": 3})
    assert _instants(page["store"]["polls"]["nodes"]) == weeks[:3]
    year = graphql_data(client, READ, token=two_owners["mallory"], variables={
        "id": "m1", "first": 100, "from": "2010-01-01T00:00:00Z", "to": "2011-01-01T00:00:00Z"})
    assert _instants(year["store"]["polls"]["nodes"]) == [
        week for week in weeks if datetime(2010, 1, 1, tzinfo=UTC) <= week < datetime(2011, 1, 1, tzinfo=UTC)
    ]
    # The other owner reads their own polls, as before.
    mine = graphql_data(client, READ, token=two_owners["bob"], variables={"id": "b1", "first": 10})
    assert _instants(mine["store"]["polls"]["nodes"]) == bob_polls


def test_a_live_poll_of_an_older_week_goes_to_its_partition_when_it_exists(tmp_path):
    """A week an operator loaded keeps receiving polls in its partition; a week later
    loaded by a file takes in the DEFAULT's polls of that week."""
    from monitoring.ingest import polls_record
    from monitoring.stores.access import EVERYTHING

    loaded, sent = datetime(2023, 1, 25, 12, tzinfo=UTC), datetime(2019, 6, 5, 12, tzinfo=UTC)
    path = tmp_path / "store_status.csv"
    path.write_text(f"store_id,timestamp_utc,status\nold-1,{loaded:%Y-%m-%d %H:%M:%S} UTC,active\n")
    assert load_status_file(path=path).loaded == 1
    result = polls_record(access=EVERYTHING, polls=[
        ("old-1", (loaded + timedelta(hours=1)).isoformat(), "active"), ("old-1", sent.isoformat(), "inactive")])
    assert result.loaded == 2
    with connection.cursor() as cursor:
        cursor.execute("SELECT tableoid::regclass::text, count(*) FROM monitoring_statuspoll GROUP BY 1")
        assert dict(cursor.fetchall()) == {partition_name(week=week_start(loaded)): 2, default_partition(): 1}
    path.write_text(f"store_id,timestamp_utc,status\nold-1,{sent + timedelta(hours=1):%Y-%m-%d %H:%M:%S} UTC,active\n")
    assert load_status_file(path=path).loaded == 1
    with connection.cursor() as cursor:
        cursor.execute("SELECT tableoid::regclass::text, count(*) FROM monitoring_statuspoll GROUP BY 1")
        assert dict(cursor.fetchall()) == {
            partition_name(week=week_start(loaded)): 2, partition_name(week=week_start(sent)): 2
        }


def test_a_file_stops_at_the_ceiling_of_partitions_and_says_so(monkeypatch, tmp_path, caplog):
    """Past MAX_PARTITIONS a file's older weeks wait in the DEFAULT partition (stored and
    read as any) and the operator is told; the current weeks are still created."""
    from monitoring.stores import partitions

    monkeypatch.setattr(partitions, "MAX_PARTITIONS", len(_names()) + 4)
    weeks = [datetime(2015, 3, 4, 12, tzinfo=UTC) + timedelta(weeks=n) for n in range(10)]
    now = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=1)
    path = tmp_path / "store_status.csv"
    path.write_text("store_id,timestamp_utc,status\n" + "".join(
        f"ceil-1,{moment:%Y-%m-%d %H:%M:%S} UTC,active\n" for moment in [*weeks, now]))
    before = _names()
    with caplog.at_level(logging.WARNING, logger="monitoring.stores.partitions"):
        assert load_status_file(path=path).loaded == 11
    current = partition_name(week=week_start(now))
    assert current in _names()  # the current weeks are never kept out
    older = _names() - before - {current}
    assert len(older) in (3, 4) and len(_names()) <= partitions.MAX_PARTITIONS
    assert older == {partition_name(week=week_start(week)) for week in weeks[-len(older):]}  # the newest first
    assert "ceiling" in caplog.text and "MAX_PARTITIONS" in caplog.text
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT count(*) FROM {default_partition()}")
        assert cursor.fetchone()[0] == len(weeks) - len(older)
    stored = sorted(StatusPoll.objects.filter(store__store_id="ceil-1").values_list("timestamp_utc", flat=True))
    assert stored == [*weeks, now]
