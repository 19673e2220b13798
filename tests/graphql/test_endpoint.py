"""The /graphql/ endpoint: schema.graphql is current, unreadable bodies and HTTP errors
answer JSON, and what the endpoint logs (one line for a client error, valid UTF-8, a
traceback only for the unexpected)."""


import pytest
from graphql_schema.schema import schema

from tests.factories import make_store
from tests.processes import ROOT

pytestmark = pytest.mark.django_db




def test_schema_file_is_current():
    """schema.graphql is the exported contract for frontend teams: regenerate it with
    `python manage.py export_schema`."""
    assert (ROOT / "schema.graphql").read_text().strip() == str(schema).strip()


@pytest.mark.parametrize(
    "body",
    [b"1", b'"abc"', b"null", b"[]", b"[1]", b"\xff\xfe{}", b"[" * 100_000, b'{"query": 5}', b'{"query": "{ __typename }", "variables": 1}'],
)
def test_unreadable_bodies_answer_400_json(client, body):
    response = client.post("/graphql/", body, content_type="application/json")
    assert response.status_code == 400
    assert response["Content-Type"] == "application/json"
    assert response.json()["error"]


def test_http_errors_of_the_endpoint_are_json(client):
    response = client.put("/graphql/", "{}", content_type="application/json")
    assert response.status_code == 405 and "error" in response.json()
    response = client.post("/graphql/", "query { __typename }", content_type="text/plain")
    assert response.status_code == 400 and response.json()["error"] == "Unsupported content type"
    response = client.get("/graphql/", {"query": "{ __typename }", "variables": "[" * 100_000})
    assert response.status_code == 400 and "nested too deeply" in response.json()["error"]


def test_client_errors_are_logged_in_one_line_without_traceback(gql, caplog):
    """A GraphQL error the client can fix (UserError, InvalidValue, validation) is one
    WARNING line in the server log, not strawberry's ERROR with a traceback."""
    make_store("only")
    with caplog.at_level("WARNING", logger="strawberry.execution"):
        gql.query('query { store(id: "ghost") { id } }', assert_no_errors=False)
        gql.query('query { store(id: "only") { uptime(asOf: "2023-01-25T12:00:00") { asOf } } }', assert_no_errors=False)
        gql.query("query { stores(pagination: {limit: 1000}) { totalCount } }", assert_no_errors=False)
        gql.query("query { nope }", assert_no_errors=False)
    records = [r for r in caplog.records if r.name == "strawberry.execution"]
    assert [r.levelname for r in records] == ["WARNING"] * 4
    assert all(r.exc_info is None and "\n" not in r.getMessage() for r in records)
    messages = [r.getMessage() for r in records]
    assert messages[0] == "GraphQL error at store [NOT_FOUND]: store not found: ghost"
    assert messages[1].startswith("GraphQL error at line 1:42 [INVALID_ARGUMENT]: asOf: '2023-01-25T12:00:00' has no offset")
    assert messages[2] == "GraphQL error at stores [INVALID_ARGUMENT]: pagination.limit must be ≤ 500 (got 1000)"
    assert messages[3] == "GraphQL error at line 1:9 [INVALID_ARGUMENT]: Cannot query field 'nope' on type 'Query'."


def test_log_lines_are_always_valid_utf8(gql, caplog):
    """graphql-core quotes an unknown input field's name raw: a lone surrogate in it is
    logged escaped (a line that cannot be encoded breaks log shipping and pytest-xdist)."""
    with caplog.at_level("WARNING", logger="strawberry.execution"):
        gql.query("query($f: StoreFilter) { stores(filters: $f) { totalCount } }", {"f": {"\ud800x": 1}},
                  assert_no_errors=False)
    (record,) = [r for r in caplog.records if r.name == "strawberry.execution"]
    assert "\\ud800x" in record.getMessage()
    record.getMessage().encode("utf-8")


def test_unexpected_errors_keep_their_traceback(caplog):
    """A masked error ("Unexpected error." for the client) is logged by strawberry with
    its traceback, for the operator."""
    from graphql.error import GraphQLError

    try:
        raise RuntimeError("the engine fell over")
    except RuntimeError as error:
        failure = GraphQLError("the engine fell over", original_error=error, path=["store", "uptime"])
    with caplog.at_level("WARNING", logger="strawberry.execution"):
        schema.process_errors([failure])
    (record,) = [r for r in caplog.records if r.name == "strawberry.execution"]
    assert record.levelname == "ERROR" and record.exc_info[1] is failure.original_error
