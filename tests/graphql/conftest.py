"""Fixtures of the GraphQL tests."""

import pytest
from strawberry_django.test.client import TestClient


@pytest.fixture
def gql() -> TestClient:
    """strawberry-django's test client of /graphql/ (through Django's test client):
    `gql.query(document, variables)` asserts no errors unless asked (`assert_no_errors=False`)."""
    return TestClient("/graphql/")
