"""The fleet ranking kept for pages: in this process while the data version holds, and in
the database (FleetRanking) for every process.

A page asks `fleet_ranking_for`. Unchanged data: the ranking kept. After a write: the
kept ranking is still served while it is at most FLEET_SUMMARY_MAX_AGE_SECONDS old, and
one refresh is queued for the workers (who compute it off the web processes' CPU and
GIL); older than that, or never computed, the request computes it and shares it."""

from __future__ import annotations

import threading
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from monitoring.stores.access import Access, stores_visible
from monitoring.stores.data_version import data_version_read
from monitoring.fleet.models import FleetRanking
from monitoring.fleet.ranking import FleetColumns, fleet_ranked
from monitoring.kernel.periods import default_horizon
from monitoring.stores.selectors import default_as_of

REFRESH_TASK = "monitoring.fleet.tasks.refresh_fleet_ranking"


@dataclass(frozen=True, slots=True)
class KeptRanking:
    version: int | None  # the data version it is exact for; None: none
    computed_at: datetime
    as_of: datetime
    columns: FleetColumns
    #: Served while newer data exists and a refresh is queued for the workers: the page
    #: says "refreshing" beside its "as of".
    refreshing: bool = False


#: Per process: the ranking last loaded or computed per scope.
_kept: dict[str, KeptRanking] = {}
_kept_lock = threading.Lock()


def scope_of(access: Access) -> str:
    if access.all_stores:
        return "all"
    return f"owner:{access.owner_id}" + ("" if access.group_id is None else f":group:{access.group_id}")


def _access_of(scope: str) -> Access:
    if scope == "all":
        return Access(owner_id=None, all_stores=True)
    parts = scope.split(":")
    return Access(owner_id=int(parts[1]), all_stores=False, group_id=int(parts[3]) if len(parts) > 3 else None)


def scope_stores(access: Access) -> list[tuple[int, str, str | None]]:
    return list(stores_visible(access=access).order_by("pk").values_list("pk", "store_id", "timezone_name"))


def fleet_ranking_for(*, access: Access, as_of: datetime) -> KeptRanking:
    """The ranking of every store `access` sees, worst first (its `as_of` may be a
    little older than the one asked for: see the module's docstring)."""
    scope = scope_of(access)
    version = data_version_read()
    with _kept_lock:
        kept = _kept.get(scope)
    if kept is not None and kept.version == version.number and kept.as_of == as_of:
        return kept
    shared = (
        FleetRanking.objects.filter(scope=scope)
        .values("version", "computed_at", "as_of", "refresh_requested_at")
        .first()
    )
    now = timezone.now()
    if shared is not None:
        exact = shared["version"] == version.number and shared["as_of"] == as_of
        fresh = now - shared["computed_at"] <= timedelta(seconds=settings.FLEET_SUMMARY_MAX_AGE_SECONDS)
        if exact or fresh:
            if kept is None or kept.computed_at != shared["computed_at"]:
                kept = _load(scope)
            if not exact:
                _request_refresh(scope, now=now)
            if kept is not None:
                return kept if exact else replace(kept, refreshing=True)
    return fleet_ranking_compute(scope=scope, as_of=as_of, version=version)


def kept_store_count(*, access: Access) -> int | None:
    """How many stores the ranking this process keeps for `access` ranks (None: none kept)."""
    with _kept_lock:
        kept = _kept.get(scope_of(access))
    return None if kept is None else len(kept.columns)


def _load(scope: str) -> KeptRanking | None:
    row = FleetRanking.objects.filter(scope=scope).first()
    if row is None:
        return None
    kept = KeptRanking(row.version, row.computed_at, row.as_of, FleetColumns.from_bytes(bytes(row.data)))
    with _kept_lock:
        _kept[scope] = kept
    return kept


def _request_refresh(scope: str, *, now: datetime) -> None:
    """Queues one refresh of `scope` for the workers, unless one was asked for lately."""
    # A refresh asked for more than a minute ago and not done (a worker died) is asked again.
    due = Q(refresh_requested_at__isnull=True) | Q(refresh_requested_at__lt=now - timedelta(seconds=60))
    asked = FleetRanking.objects.filter(due, scope=scope).update(refresh_requested_at=now)
    if asked:
        from django_q.tasks import async_task

        transaction.on_commit(
            lambda: async_task(REFRESH_TASK, scope, task_name=f"fleet-{scope}", cluster=settings.Q_REPORT_CLUSTER)
        )


def fleet_ranking_compute(*, scope: str, as_of: datetime | None = None, version=None) -> KeptRanking:
    """Computes the ranking of `scope` now and shares it (the workers' refresh, or a
    request that found none fresh enough)."""
    access = _access_of(scope)
    version = version or data_version_read()
    if as_of is None:
        as_of = default_as_of(owner_id=access.owner_id, group_id=access.group_id)
    started = timezone.now()
    columns = fleet_ranked(stores=scope_stores(access), as_of=as_of, horizon=default_horizon())
    kept = KeptRanking(version.number if version.settled else None, started, as_of, columns)
    FleetRanking.objects.update_or_create(
        scope=scope,
        defaults={
            "version": kept.version,
            "computed_at": started,
            "as_of": as_of,
            "store_count": len(columns),
            "data": columns.to_bytes(),
            "refresh_requested_at": None,
        },
    )
    with _kept_lock:
        _kept[scope] = kept
    return kept


def fleet_rankings_forget() -> None:
    """Drops what this process keeps (tests)."""
    with _kept_lock:
        _kept.clear()
