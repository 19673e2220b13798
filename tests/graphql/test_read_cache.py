"""GraphQL reads of store data are cached per data version and access, and never
served stale: any write to stores, hours or polls (through the app or not) changes
the version; a response is cached only when every counted write was committed."""

from datetime import timezone

import psycopg2
import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from monitoring.ingest import polls_record
from monitoring.models import Owner, Store
from monitoring.stores.access import EVERYTHING, token_create
from monitoring.stores.data_version import data_version_read

from tests.factories import make_store
from tests.graphql_client import graphql

UTC = timezone.utc
PAGE = "query { stores(pagination: {limit: 10}) { totalCount results { id timezone } } }"
UPTIME = 'query { store(id: "s1") { uptime { windows { window uptimeMinutes } } } }'


def post(client, query, token=None, variables=None):
    """The answer, and how many SQL queries it took."""
    with CaptureQueriesContext(connection) as queries:
        answer = graphql(client, query, variables, token=token)
    return answer, len(queries)


@pytest.mark.django_db
def test_the_same_read_is_answered_from_the_cache_until_the_data_changes(client):
    make_store("s1", zone="Asia/Tokyo")
    first, first_queries = post(client, PAGE)
    again, again_queries = post(client, PAGE)
    assert again == first and first_queries > 2 and again_queries == 2  # the version, the cache entry
    Store.objects.filter(store_id="s1").update(timezone_name="Europe/Paris")  # any write, even not through the app
    changed, _ = post(client, PAGE)
    assert changed["data"]["stores"]["results"] == [{"id": "s1", "timezone": "Europe/Paris"}]
    polls_record(access=EVERYTHING, polls=[("s1", "2023-01-22 12:00:00 UTC", "active")])
    before = data_version_read().number
    assert post(client, UPTIME)[0]["data"]["store"]["uptime"]["windows"][0]["uptimeMinutes"] >= 0
    assert data_version_read().number == before  # reads do not move the version


@pytest.mark.django_db
def test_each_caller_has_its_own_cached_answers(client):
    alice, bob = Owner.objects.create(name="alice"), Owner.objects.create(name="bob")
    Store.objects.create(store_id="a1", owner=alice)
    Store.objects.create(store_id="b1", owner=bob)
    tokens = {name: token_create(name="t", owner=owner)[1] for name, owner in (("alice", alice), ("bob", bob))}
    seen = {name: post(client, PAGE, tokens[name])[0]["data"]["stores"]["results"] for name in tokens}
    assert seen == {"alice": [{"id": "a1", "timezone": "America/Chicago"}], "bob": [{"id": "b1", "timezone": "America/Chicago"}]}
    assert post(client, PAGE, tokens["bob"])[0]["data"]["stores"]["results"] == seen["bob"]


@pytest.mark.django_db
def test_mutations_and_reports_are_never_cached(client):
    make_store("s1")
    mutation = 'mutation { recordPolls(polls: [{storeId: "s1", timestampUtc: "2023-01-22 12:00:00 UTC", status: "active"}]) { loaded unchanged } }'
    assert post(client, mutation)[0]["data"]["recordPolls"] == {"loaded": 1, "unchanged": 0}
    assert post(client, mutation)[0]["data"]["recordPolls"] == {"loaded": 0, "unchanged": 1}
    with CaptureQueriesContext(connection) as queries:
        post(client, "query { reports { totalCount } }")
        post(client, "query { reports { totalCount } }")
        post(client, mutation)
    assert not any("monitoring_data_version" in q["sql"] for q in queries)  # not even looked up


@pytest.mark.django_db(transaction=True)
def test_nothing_is_cached_while_a_write_is_in_flight(client, settings):
    make_store("s1")
    dsn = connection.get_connection_params()
    writer = psycopg2.connect(**{k: v for k, v in dsn.items() if k != "cursor_factory"})
    try:
        with writer.cursor() as cursor:  # a write, not committed yet
            cursor.execute("INSERT INTO monitoring_store (store_id) VALUES ('s2')")
        assert not data_version_read().settled
        first, _ = post(client, PAGE)
        assert first["data"]["stores"]["totalCount"] == 1  # s2 is not committed
        writer.commit()
        assert data_version_read().settled
        after, _ = post(client, PAGE)
        assert after["data"]["stores"]["totalCount"] == 2  # not the answer computed mid-write
        _, cached_queries = post(client, PAGE)
        assert cached_queries == 2
    finally:
        writer.close()


@pytest.mark.django_db(transaction=True)
def test_concurrent_writers_queue_and_never_deadlock(tmp_path):
    """File loads (which lock the store and poll tables), live polls creating stores,
    and plain store updates, all at once: every one completes (they queue on the writer
    lock), and the data version moves on."""
    import threading

    from django.db import connections
    from monitoring.ingest import BULK_MIN_BYTES, load_status_file

    make_store("edited")
    lines = ["store_id,timestamp_utc,status"]
    lines += [f"f{i % 50},2023-01-{10 + i % 20} {i % 24:02d}:{i % 60:02d}:00 UTC,active" for i in range(20000)]
    path = tmp_path / "store_status.csv"
    path.write_text("\n".join(lines) + "\n")
    assert path.stat().st_size >= BULK_MIN_BYTES  # the first load may take the empty-table path
    before = data_version_read().number
    errors: list[BaseException] = []

    def run(work):
        try:
            for round_ in range(5):
                work(round_)
        except BaseException as error:  # noqa: BLE001 - reported below
            errors.append(error)
        finally:
            connections.close_all()

    workers = [
        lambda r: load_status_file(path=path),
        lambda r: polls_record(access=EVERYTHING, polls=[(f"live-{r}-{i}", f"2023-01-22 1{i}:00:00 UTC", "active") for i in range(5)]),
        lambda r: Store.objects.filter(store_id="edited").update(timezone_name=["Asia/Tokyo", "Europe/Paris"][r % 2]),
    ]
    threads = [threading.Thread(target=run, args=(work,)) for work in workers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not errors, errors
    assert not any(thread.is_alive() for thread in threads)
    assert Store.objects.filter(store_id__startswith="live-").count() == 25
    version = data_version_read()
    assert version.settled and version.number > before
