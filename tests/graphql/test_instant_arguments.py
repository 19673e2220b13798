"""Instants given to the API: an offset is required and explained, the range is
2000–2100, a variable of the wrong type is not masked."""

import pytest
from graphql_schema.common.scalars import rfc3339

from tests.factories import make_store, worked_example_store

pytestmark = pytest.mark.django_db


UPTIME = "query($id: ID!, $asOf: DateTime) { store(id: $id) { uptime(asOf: $asOf) { asOf } } }"


def test_naive_instants_are_refused_with_how_to_write_an_offset(gql):
    """Every DateTime argument is read by monitoring.kernel.values.instant (docs/rules.md §7)."""
    store, noon = worked_example_store()
    result = gql.query(UPTIME, {"id": store.store_id, "asOf": "2023-01-25T12:00:00"}, assert_no_errors=False)
    message = result.errors[0]["message"]
    assert message.startswith("Variable '$asOf' has invalid value: '2023-01-25T12:00:00' has no offset")
    assert "2023-01-25T18:13:22Z" in message  # says how to write one
    inline = gql.query('query { store(id: "worked-example") { uptime(asOf: "2023-01-25 12:00") { asOf } } }',
                       assert_no_errors=False)
    assert "has no offset" in inline.errors[0]["message"]
    for text in ("2023-01-25T17:00:00Z", "2023-01-25 17:00:00 UTC", "2023-01-25T12:00:00-05:00"):
        data = gql.query(UPTIME, {"id": store.store_id, "asOf": text}).data
        assert data["store"]["uptime"]["asOf"] == rfc3339(noon)
    timeline = gql.query(
        """query($from: DateTime!, $to: DateTime!) { store(id: "worked-example") { timeline(from: $from, to: $to) { state } } }""",
        {"from": "2023-01-24T12:00:00", "to": noon.isoformat()},
        assert_no_errors=False,
    )
    assert "has no offset" in timeline.errors[0]["message"]
    wrong = gql.query(UPTIME, {"id": store.store_id, "asOf": 20230125}, assert_no_errors=False)
    assert wrong.errors[0]["message"] == "Variable '$asOf' has invalid value: must be text"


def test_as_of_outside_2000_to_2100_names_as_of(gql):
    store, _ = worked_example_store()
    result = gql.query(UPTIME, {"id": store.store_id, "asOf": "9999-01-01T00:00:00Z"}, assert_no_errors=False)
    assert result.errors[0]["message"] == "asOf: must be in the years 2000–2100, not 9999-01-01T00:00:00+00:00"
    result = gql.query(UPTIME, {"id": store.store_id, "asOf": "1999-12-31T23:59:59Z"}, assert_no_errors=False)
    assert result.errors[0]["message"].startswith("asOf: must be in the years 2000–2100")


def test_variables_of_the_wrong_type_are_not_masked(gql):
    make_store("s1")
    result = gql.query(
        'query($h: Int) { store(id: "s1") { uptime(horizonMinutes: $h) { asOf } } }', {"h": "abc"},
        assert_no_errors=False,
    )
    assert result.errors[0]["message"] == "Variable '$h' has invalid value: Int cannot represent non-integer value: 'abc'"
    result = gql.query('query { store(id: "s1") { uptime(horizonMinutes: -3) { asOf } } }', assert_no_errors=False)
    assert result.errors[0]["message"].startswith("horizonMinutes: must be between 1 and")
