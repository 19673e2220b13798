"""GraphiQL opens on an example of this API (graphql_schema/static/graphiql/page.js),
not on generic welcome text: the example runs as it is, and the operations its comments
suggest are valid against the schema."""

import json
import re
from pathlib import Path

import pytest
from graphql import parse, validate

from graphql_schema.schema import schema
from tests.factories import worked_example_store

pytestmark = pytest.mark.django_db

PAGE_JS = Path(__file__).resolve().parents[2] / "graphql_schema" / "static" / "graphiql" / "page.js"


def example_query() -> str:
    return re.search(r"const EXAMPLE_QUERY = `(.*?)`;", PAGE_JS.read_text(), re.S).group(1)


def test_the_example_runs_and_answers_the_fleet_with_uptime(client):
    worked_example_store("s1")
    response = client.post("/graphql/", json.dumps({"query": example_query()}), content_type="application/json")
    body = response.json()
    assert response.status_code == 200 and "errors" not in body, body
    stores = body["data"]["stores"]
    assert stores["totalCount"] == 1
    (store,) = stores["results"]
    assert store["id"] == "s1"
    assert store["uptime"]["day"]["uptimeMinutes"] == pytest.approx(104.5)  # docs/rules.md §4.3's example


def test_the_operations_in_its_comments_are_valid():
    commented = [line.strip()[1:].strip() for line in example_query().splitlines() if line.strip().startswith("#")]
    operations = [line for line in commented if line.startswith(("query ", "mutation ", "subscription "))]
    assert len(operations) == 3
    for operation in operations:
        assert validate(schema._schema, parse(operation.replace('"..."', '"x"'))) == [], operation
