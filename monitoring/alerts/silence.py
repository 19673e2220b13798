"""STORE_SILENT (docs/rules.md §10): a store open for more than H of business time with no evidence
poll, checked against the wall clock once a minute by a schedule on the workers.

Only stores monitored live are checked: their newest live poll is within LOOKBACK.
A store whose data all came from historical loads is not "silent", it is not watched.
The event is sent once per silence (keyed by the last evidence poll before it) to the
webhooks that listen for it, and published to live subscribers (monitoring.live)."""

from __future__ import annotations

from datetime import datetime, timedelta

import numpy as np
from django.db import connection, transaction
from django.utils import timezone

from monitoring.alerts.evaluation import DELIVERY_INSERT, LOOKBACK, live_window
from monitoring.alerts.events import STORE_SILENT
from monitoring.engine import business_intervals, inside_intervals, to_us
from monitoring.live.events import StoreEvent, live_events_publish
from monitoring.stores.selectors import store_schedules, stores_in_scope


def stores_silent_check(*, now: datetime | None = None) -> list[int]:
    """Records (and queues) STORE_SILENT for stores silent since their last evidence poll
    for more than H of business time and open now, and publishes it live once the
    transaction commits. Returns the new deliveries' ids."""
    now = now or timezone.now()
    horizon = live_window()
    with transaction.atomic(), connection.cursor() as cursor:
        # SKIP LOCKED: a store being evaluated (polls arriving) is not silent; two
        # workers running this check at once split the stores instead of waiting.
        cursor.execute(
            "SELECT a.store_id, a.last_evidence_at FROM alerts_storealertstate a"
            " JOIN monitoring_store s ON s.id = a.store_id"
            " WHERE a.last_evidence_at < %s AND a.last_live_at >= %s"
            " AND a.silent_for IS DISTINCT FROM a.last_evidence_at"
            " ORDER BY a.store_id FOR UPDATE OF a SKIP LOCKED",
            [now - horizon, now - LOOKBACK],
        )
        candidates = dict(cursor.fetchall())
        if not candidates:
            return []
        silent = _silent_now(candidates, now=now, horizon_us=to_us(now) - to_us(now - horizon))
        if not silent:
            return []
        quiet_since = [candidates[pk] for pk in silent]
        cursor.execute(
            DELIVERY_INSERT + "SELECT w.id, v.store_pk, %s, v.quiet_since, v.quiet_since, NULL, %s, 'PENDING', 0, ''"
            " FROM unnest(%s::bigint[], %s::timestamptz[]) AS v(store_pk, quiet_since)"
            " JOIN monitoring_store s ON s.id = v.store_pk"
            " JOIN alerts_webhook w ON (w.owner_id IS NULL OR w.owner_id = s.owner_id) AND %s = ANY(w.events)"
            " ON CONFLICT DO NOTHING RETURNING id",
            [STORE_SILENT, now, silent, quiet_since, STORE_SILENT],
        )
        delivery_ids = [row[0] for row in cursor.fetchall()]
        cursor.execute(
            "UPDATE alerts_storealertstate SET silent_for = last_evidence_at WHERE store_id = ANY(%s)", [silent]
        )
        live_events_publish(
            events=[StoreEvent(event=STORE_SILENT, store_pk=pk, poll_at=candidates[pk], incident_started_at=None) for pk in silent],
            at=now,
        )
    if delivery_ids:
        from monitoring.alerts.delivery import deliveries_enqueue

        transaction.on_commit(lambda: deliveries_enqueue(delivery_ids=delivery_ids))
    return delivery_ids


def _silent_now(last_evidence: dict[int, datetime], *, now: datetime, horizon_us: int) -> list[int]:
    """The stores open at `now` whose business time since their last evidence poll is
    more than H."""
    stores = stores_in_scope(store_ids=None, store_pks=list(last_evidence))
    start = min(last_evidence.values())
    schedules = store_schedules(stores=stores, start=start, end=now)
    # Up to a microsecond past `now`, so that an interval open at `now` is kept.
    index, starts, ends = business_intervals(schedules=schedules, start=start, end=now + timedelta(microseconds=1))
    since = np.array([to_us(last_evidence[pk]) for pk, _, _ in stores], dtype=np.int64)
    open_now = inside_intervals((index, starts, ends), np.arange(len(stores)), np.full(len(stores), to_us(now)))
    ends = np.minimum(ends, to_us(now))
    clipped = np.maximum(ends - np.maximum(starts, since[index]), 0)
    business = np.bincount(index, weights=clipped, minlength=len(stores))
    return [pk for position, (pk, _, _) in enumerate(stores) if open_now[position] and business[position] > horizon_us]
