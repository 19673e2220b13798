"""GraphQL reads go to the read replica until the request writes."""

import os
import subprocess
import sys

import pytest

from tests.processes import ROOT

pytestmark = pytest.mark.django_db


REPLICA_PROBE = """
import django
django.setup()
from django.db import connections
from django.test import RequestFactory
from config.db_router import GraphQLReplicaReadsMiddleware
from monitoring.models import Owner, Store

used = []

def spy(alias):
    def wrapper(execute, sql, params, many, context):
        if "monitoring_" in sql:  # not django.contrib.postgres's type lookups on connecting
            used.append((alias, sql.split()[0]))
        return execute(sql, params, many, context)
    return wrapper

def view(request):
    Store.objects.count()
    Owner.objects.filter(name="nobody").update(name="nobody")  # a write: later reads on the primary
    Store.objects.count()
    return None

with connections["default"].execute_wrapper(spy("default")), connections["replica"].execute_wrapper(spy("replica")):
    GraphQLReplicaReadsMiddleware(view)(RequestFactory().post("/graphql/"))
    print(used)
    used.clear()
    GraphQLReplicaReadsMiddleware(view)(RequestFactory().post("/trigger_report/"))
    print(used)
"""


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_graphql_reads_go_to_the_replica_until_the_request_writes():
    from tests.processes import test_database_url

    url = test_database_url()
    child = subprocess.run(
        [sys.executable, "-c", REPLICA_PROBE],
        cwd=ROOT,
        env={
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "config.settings",
            "DATABASE_URL": url,
            "DATABASE_REPLICA_URL": url,
        },
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert child.returncode == 0, child.stderr
    graphql, other = child.stdout.strip().splitlines()
    assert graphql == str([("replica", "SELECT"), ("default", "UPDATE"), ("default", "SELECT")])
    assert other == str([("default", "SELECT"), ("default", "UPDATE"), ("default", "SELECT")])
