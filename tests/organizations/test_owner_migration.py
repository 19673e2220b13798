"""Owners become organizations: every token existing before the migration sees exactly
the same stores, polls and reports after it, and can do what it could."""

import hashlib
import secrets

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from monitoring.models import ApiToken
from monitoring.stores.access import allowed, polls_visible, reports_visible, stores_visible, token_access
from monitoring.organizations.roles import ACTIONS

BEFORE = [("monitoring", "0024_store_revenue")]
AFTER = [("monitoring", "0025_organizations")]


def _migrate(target):
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(target)
    return executor.loader.project_state(target).apps


@pytest.fixture
def _every_migration_again():
    """The tests after this one expect the database with every migration applied."""
    yield
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(executor.loader.graph.leaf_nodes())


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("_every_migration_again")
def test_every_token_keeps_exactly_its_reach():
    old = _migrate(BEFORE)
    Owner, Store, ApiTokenOld = (old.get_model("monitoring", name) for name in ("Owner", "Store", "ApiToken"))
    StatusPoll, Report = old.get_model("monitoring", "StatusPoll"), old.get_model("monitoring", "Report")
    owners = [Owner.objects.create(name=name) for name in ("alice", "bob", "carol")]  # carol: no stores
    stores = [
        Store.objects.create(store_id=f"s{index}", owner=owners[index % 2] if index < 6 else None) for index in range(8)
    ]
    for store in stores:
        StatusPoll.objects.create(store_id=store.pk, timestamp_utc="2026-01-05T10:00:00Z", is_active=True)
    for owner in (*owners, None):
        Report.objects.create(owner=owner, status="COMPLETE")
    raw = {}
    for name, owner, staff, revoked in (
        ("alice-1", owners[0], False, False), ("alice-2", owners[0], False, False), ("bob", owners[1], False, False),
        ("carol", owners[2], False, False), ("staff", None, True, False), ("revoked", owners[1], False, True),
    ):
        raw[name] = "sum_" + secrets.token_urlsafe(32)
        ApiTokenOld.objects.create(
            name=name, owner=owner, is_staff=staff, key_prefix=raw[name][:8],
            key_hash=hashlib.sha256(raw[name].encode()).hexdigest(), revoked_at="2026-01-01T00:00:00Z" if revoked else None,
        )
    # Reach before, by the rule as it was: an owner's token, its stores; staff, all.
    before = {}
    for token in ApiTokenOld.objects.exclude(revoked_at__isnull=False):
        mine = Store.objects.all() if token.is_staff else Store.objects.filter(owner_id=token.owner_id)
        reports = Report.objects.all() if token.is_staff else Report.objects.filter(owner_id=token.owner_id)
        before[token.name] = (
            set(mine.values_list("store_id", flat=True)),
            set(StatusPoll.objects.filter(store_id__in=mine.values("pk")).values_list("store_id", flat=True)),
            set(reports.values_list("pk", flat=True)),
        )

    _migrate(AFTER)

    after = {}
    for name, value in raw.items():
        if name == "revoked":
            continue
        access = token_access(raw=value)
        after[name] = (
            set(stores_visible(access=access).values_list("store_id", flat=True)),
            set(polls_visible(access=access).values_list("store_id", flat=True)),
            set(reports_visible(access=access).values_list("pk", flat=True)),
        )
        # Everything an owner's token could do, it still can.
        assert all(allowed(access, action) for action in ACTIONS), name
    assert after == before
    assert before["alice-1"][0] == {"s0", "s2", "s4"} and before["carol"][0] == set()
    assert len(before["staff"][0]) == 8
    assert set(ApiToken.objects.filter(is_staff=False).values_list("role", flat=True)) == {"ADMIN"}
    assert ApiToken.objects.get(name="revoked").revoked_at is not None
