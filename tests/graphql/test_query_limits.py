"""What a GraphQL document may ask: depth, aliases and tokens, validated once; internal
errors masked."""

import pytest
from graphql_schema.schema import MAX_ALIASES, MAX_DEPTH

from tests.factories import make_store

pytestmark = pytest.mark.django_db


def test_depth_limit_refuses_deep_queries(gql):
    make_store("x")

    def nested(levels: int) -> str:
        inner = "id"
        for _ in range(levels):
            inner = f"statusPolls {{ results {{ store {{ {inner} }} }} }}"
        return f'query {{ store(id: "x") {{ {inner} }} }}'

    assert gql.query(nested(2)).errors is None
    result = gql.query(nested(MAX_DEPTH), assert_no_errors=False)
    assert "exceeds maximum operation depth" in result.errors[0]["message"]
    assert result.errors[0]["extensions"] == {"code": "TOO_COSTLY"}
    assert result.data is None


def test_alias_and_token_limits(gql):
    aliases = " ".join(f"a{i}: __typename" for i in range(MAX_ALIASES + 1))
    result = gql.query(f"query {{ {aliases} }}", assert_no_errors=False)
    assert "aliases" in result.errors[0]["message"].lower()
    assert result.errors[0]["extensions"] == {"code": "TOO_COSTLY"}
    tokens = " ".join("__typename" for _ in range(2100))
    result = gql.query(f"query {{ {tokens} }}", assert_no_errors=False)
    assert "token" in result.errors[0]["message"].lower()
    assert result.errors[0]["extensions"] == {"code": "TOO_COSTLY"}
    # Other validation errors that mention aliases are the client's document, not its size.
    conflict = gql.query('query { stores { totalCount } stores(pagination: {limit: 1}) { totalCount } }', assert_no_errors=False)
    assert "aliases" in conflict.errors[0]["message"] and conflict.errors[0]["extensions"]["code"] == "INVALID_ARGUMENT"


def test_a_document_is_validated_once(gql, monkeypatch):
    """The limits' rules are made once, so ValidationCache hits on a repeated document
    (limit errors included): validation was most of the CPU of a small request."""
    import strawberry.schema.schema as strawberry_schema

    calls = []
    real_validate = strawberry_schema.validate
    monkeypatch.setattr(strawberry_schema, "validate", lambda *a, **kw: calls.append(1) or real_validate(*a, **kw))
    aliases = " ".join(f"once{i}: __typename" for i in range(MAX_ALIASES + 1))  # documents no other test sends
    for _ in range(3):
        assert gql.query("query ValidatedOnce { stores { totalCount } }").errors is None
        result = gql.query(f"query {{ {aliases} }}", assert_no_errors=False)
        assert "aliases" in result.errors[0]["message"].lower()
    assert len(calls) == 2


def test_internal_errors_are_masked(gql, monkeypatch):
    import graphql_schema.reports.schema as report_schema

    def explode(**kwargs):
        raise RuntimeError("secret connection string postgres://admin:pw@db")

    monkeypatch.setattr(report_schema, "report_create", explode)
    result = gql.query("mutation { triggerReport { id } }", assert_no_errors=False)
    assert result.errors[0]["message"] == "Unexpected error."
