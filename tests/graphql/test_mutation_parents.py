"""Mutations answer the object they changed or its parent, so a client's normalised
cache updates itself (docs/api.md): the store of setSpecialHours, clearSpecialHours and
setStoreRevenue, read as it is now stored; null with userErrors when refused."""

import pytest

from tests.factories import make_store

pytestmark = pytest.mark.django_db

SELECTION = 'id specialHours(from: "2023-12-01", to: "2023-12-31") { id date closed } expectedRevenue { currency }'
STORE_FIELDS = f"store {{ {SELECTION} }}"


def test_special_hours_mutations_answer_the_store_as_now_stored(gql):
    make_store("s1", zone="UTC")
    set_ = gql.query(
        f'mutation {{ setSpecialHours(storeId: "s1", date: "2023-12-25", shifts: []) {{ userErrors {{ code }} {STORE_FIELDS} }} }}'
    ).data["setSpecialHours"]
    assert set_["userErrors"] == [] and set_["store"]["id"] == "s1"
    (row,) = set_["store"]["specialHours"]
    assert row["date"] == "2023-12-25" and row["closed"] is True
    # The same ids a later read of the store answers: the cache entry is the store's.
    read = gql.query(f'{{ store(id: "s1") {{ {SELECTION} }} }}').data["store"]
    assert read == set_["store"]

    cleared = gql.query(
        f'mutation {{ clearSpecialHours(storeId: "s1", date: "2023-12-25") {{ cleared {STORE_FIELDS} }} }}'
    ).data["clearSpecialHours"]
    assert cleared["cleared"] is True and cleared["store"] == {"id": "s1", "specialHours": [], "expectedRevenue": None}


def test_set_store_revenue_answers_the_store(gql):
    make_store("s1", zone="UTC")
    answer = gql.query(
        'mutation { setStoreRevenue(storeId: "s1", rows: [{dayOfWeek: 0, hour: 12, expectedRevenue: "10.50"}], currency: "EUR")'
        f" {{ userErrors {{ code }} {STORE_FIELDS} }} }}"
    ).data["setStoreRevenue"]
    assert answer == {"userErrors": [], "store": {"id": "s1", "specialHours": [], "expectedRevenue": {"currency": "EUR"}}}


def test_refused_mutations_answer_no_store(gql):
    make_store("s1", zone="UTC")
    for mutation in (
        'setSpecialHours(storeId: "nope", date: "2023-12-25", shifts: [])',
        'clearSpecialHours(storeId: "nope", date: "2023-12-25")',
        'setStoreRevenue(storeId: "s1", rows: [], currency: "euro")',
    ):
        answer = gql.query(f"mutation {{ m: {mutation} {{ store {{ id }} userErrors {{ code field }} }} }}").data["m"]
        assert answer["store"] is None and len(answer["userErrors"]) == 1, (mutation, answer)


def test_record_polls_answers_the_stores_whose_polls_were_accepted(gql):
    for store_id in ("s1", "s2", "s3"):
        make_store(store_id, zone="UTC")
    answer = gql.query(
        """mutation($polls: [PollInput!]!) { recordPolls(polls: $polls) { loaded rejected
             stores { id polls(order: NEWEST_FIRST, first: 1) { nodes { timestampUtc state } } } } }""",
        {"polls": [
            {"storeId": "s2", "timestampUtc": "2023-01-25T10:00:00Z", "status": "active"},
            {"storeId": "s1", "timestampUtc": "2023-01-25T10:00:00Z", "status": "active"},
            {"storeId": "s2", "timestampUtc": "2023-01-25T11:00:00Z", "status": "inactive"},
            {"storeId": "s3", "timestampUtc": "2023-01-25T11:00:00Z", "status": "down"},  # rejected
        ]},
    ).data["recordPolls"]
    assert (answer["loaded"], answer["rejected"]) == (3, 1)
    assert answer["stores"] == [
        {"id": "s1", "polls": {"nodes": [{"timestampUtc": "2023-01-25T10:00:00.000000Z", "state": "ACTIVE"}]}},
        {"id": "s2", "polls": {"nodes": [{"timestampUtc": "2023-01-25T11:00:00.000000Z", "state": "INACTIVE"}]}},
    ]
