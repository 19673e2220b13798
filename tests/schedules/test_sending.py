"""Scheduled reports delivered (docs/rules.md §11): a period is claimed once its end has
passed in the schedule's zone, and only once; its range report is the owner's range CSV
of [start, end) with `to` = end; the delivery is signed as alerts are, carries a
download link and the totals, is retried with the alerts' backoff and recorded; email
works too. Time is given to the services (`now=`), as the alert tests do."""

import csv
import hashlib
import hmac
import io
import json
from datetime import timedelta

import pytest
from django.core import mail
from django.test import override_settings

from monitoring import history
from monitoring.alerts.delivery import SIGNATURE_HEADER
from monitoring.models import Report, ReportRangeRow
from monitoring.reports import report_run
from monitoring.schedules.models import ReportSchedule, ScheduledDelivery
from monitoring.schedules.sending import (
    deliveries_due,
    deliveries_ready,
    periods_claim,
    scheduled_delivery_attempt,
)
from monitoring.schedules.subscriptions import report_schedule_create
from monitoring.stores.access import EVERYTHING
from tests.alert_receiver import Receiver
from tests.schedules.week import MID_WEEK, WEEK_END, WEEK_START

pytestmark = pytest.mark.django_db


def link(report_id) -> str:
    return f"https://uptime.example.com/reports/download/{report_id}/"


def claim_and_compute(now) -> list[ScheduledDelivery]:
    """What the workers do between a period's end and its delivery: claim, compute the
    report (here, in this process), make the delivery ready."""
    claimed = periods_claim(now=now)
    for delivery in ScheduledDelivery.objects.filter(pk__in=claimed, report__isnull=False):
        report_run(report_id=delivery.report_id)
    deliveries_ready(now=now)
    return list(ScheduledDelivery.objects.filter(pk__in=claimed).select_related("schedule", "report"))


def range_csv(*, owner_id, start, end) -> list[list[str]]:
    out = io.StringIO()
    history.range_csv_write(out=out, start=start, end=end, owner_id=owner_id)
    return list(csv.reader(io.StringIO(out.getvalue())))


def test_a_period_is_claimed_once_after_it_ends(schedule_world):
    schedule, _ = report_schedule_create(
        access=schedule_world["alice"], period="WEEKLY", zone="America/New_York", url="https://example.com/r", now=MID_WEEK
    )
    assert (schedule.next_period_start, schedule.next_period_end) == (WEEK_START, WEEK_END)
    assert periods_claim(now=WEEK_END - timedelta(microseconds=1)) == []  # not over yet
    (delivery_id,) = periods_claim(now=WEEK_END)
    assert periods_claim(now=WEEK_END) == [] and periods_claim(now=WEEK_END + timedelta(days=1)) == []
    delivery = ScheduledDelivery.objects.select_related("report").get(pk=delivery_id)
    assert (delivery.period_start, delivery.period_end, delivery.status) == (WEEK_START, WEEK_END, "WAITING")
    report = delivery.report
    # The owner's range report: her stores, [start, end), `to` = the period's end.
    assert (report.owner_id, report.range_start, report.requested_as_of) == (schedule.owner_id, WEEK_START, WEEK_END)
    schedule.refresh_from_db()
    assert (schedule.last_period_start, schedule.last_period_end) == (WEEK_START, WEEK_END)
    assert schedule.next_period_start == WEEK_END and schedule.next_period_end == WEEK_END + timedelta(days=7)


def test_a_period_already_delivered_is_never_claimed_again(schedule_world):
    """The unique (schedule, period_start) decides, whatever the schedule's own columns
    say (a schedule restored from a backup, two workers racing)."""
    schedule, _ = report_schedule_create(
        access=schedule_world["alice"], period="WEEKLY", zone="America/New_York", url="https://example.com/r", now=MID_WEEK
    )
    assert len(periods_claim(now=WEEK_END)) == 1
    ReportSchedule.objects.filter(pk=schedule.pk).update(next_period_start=WEEK_START, next_period_end=WEEK_END)
    assert periods_claim(now=WEEK_END) == []
    assert ScheduledDelivery.objects.count() == 1 and Report.objects.count() == 1
    schedule.refresh_from_db()
    assert schedule.next_period_start == WEEK_END  # moved on all the same


def test_a_late_worker_sends_each_missed_period_in_turn_but_none_before_the_schedule(schedule_world):
    report_schedule_create(
        access=schedule_world["alice"], period="WEEKLY", zone="America/New_York", url="https://example.com/r", now=MID_WEEK
    )
    later = WEEK_END + timedelta(days=15)  # the workers were away for two weeks more
    periods = []
    while claimed := periods_claim(now=later):
        periods += [ScheduledDelivery.objects.get(pk=pk).period_start for pk in claimed]
    assert periods == [WEEK_START, WEEK_END, WEEK_END + timedelta(days=7)]


def test_a_period_older_than_the_polls_kept_is_recorded_not_sent(schedule_world, settings):
    report_schedule_create(
        access=schedule_world["alice"], period="WEEKLY", zone="America/New_York", url="https://example.com/r", now=MID_WEEK
    )
    now = WEEK_END + timedelta(days=settings.POLL_RETENTION_DAYS + 1)
    assert periods_claim(now=now) == []
    skipped = ScheduledDelivery.objects.get()
    assert (skipped.period_start, skipped.status, skipped.report_id) == (WEEK_START, "FAILED", None)
    assert skipped.last_result.startswith("not sent: the period ended more than POLL_RETENTION_DAYS")
    assert len(periods_claim(now=now)) == 1  # the next week is recent enough: sent
    assert Report.objects.count() == 1


def test_the_report_is_the_owners_range_csv_and_the_totals_its_sums(schedule_world):
    report_schedule_create(
        access=schedule_world["alice"], period="WEEKLY", zone="America/New_York", url="https://example.com/r", now=MID_WEEK
    )
    report_schedule_create(access=schedule_world["bob"], period="WEEKLY", zone="UTC", email="bob@example.com", now=MID_WEEK)
    deliveries = {d.schedule.url: d for d in claim_and_compute(WEEK_END + timedelta(days=1))}
    alice, bob = deliveries["https://example.com/r"], deliveries["mailto:bob@example.com"]
    alice_owner, bob_owner = schedule_world["owners"]
    assert alice.report.csv.splitlines() == [",".join(row) for row in range_csv(owner_id=alice_owner.pk, start=WEEK_START, end=WEEK_END)]
    assert [row[0] for row in csv.reader(io.StringIO(alice.report.csv))] == ["store_id", "a1", "a2"]
    assert [row[0] for row in csv.reader(io.StringIO(bob.report.csv))] == ["store_id", "b1"]
    # Bob's week is UTC's: Monday 00:00 UTC.
    assert bob.period_start == WEEK_START.replace(hour=0) and bob.report.range_start == bob.period_start
    rows = ReportRangeRow.objects.filter(report=alice.report)
    assert alice.status == "PENDING" and alice.store_count == 2
    assert alice.downtime_minutes == pytest.approx(sum(row.downtime_minutes for row in rows)) and alice.downtime_minutes > 0
    assert alice.business_minutes == pytest.approx(sum(row.business_minutes for row in rows))
    assert deliveries_ready(now=WEEK_END + timedelta(days=1)) == []  # queued once


def test_a_delivery_is_signed_carries_its_link_and_totals_and_is_sent_once(schedule_world):
    with Receiver() as receiver:
        schedule, secret = report_schedule_create(
            access=schedule_world["alice"], period="WEEKLY", zone="America/New_York", url=receiver.url + "/ok", now=MID_WEEK
        )
        (delivery,) = claim_and_compute(WEEK_END)
        now = WEEK_END + timedelta(minutes=1)
        assert scheduled_delivery_attempt(delivery_id=delivery.pk, link=link, now=now) == "DELIVERED"
        assert scheduled_delivery_attempt(delivery_id=delivery.pk, link=link, now=now + timedelta(hours=1)) is None
        (received,) = receiver.on("/ok")
    expected = "sha256=" + hmac.new(secret.encode(), received.body, hashlib.sha256).hexdigest()
    assert received.headers[SIGNATURE_HEADER] == expected
    assert received.headers["X-Delivery-Id"] == f"scheduled-report-{delivery.pk}"
    body = received.json
    assert body["event"] == "SCHEDULED_REPORT" and body["schedule_id"] == str(schedule.pk)
    assert (body["period"], body["zone"]) == ("WEEKLY", "America/New_York")
    assert (body["from"], body["to"]) == ("2023-01-16T05:00:00.000000Z", "2023-01-23T05:00:00.000000Z")
    assert body["report_id"] == str(delivery.report_id) and body["download_url"] == link(delivery.report_id)
    assert body["download_expires_at"] == "2023-01-23T06:01:00.000000Z"  # REPORT_LINK_MAX_AGE after the try
    assert body["store_count"] == 2 and body["downtime_minutes"] == round(delivery.downtime_minutes, 2)
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts, delivery.last_result) == ("DELIVERED", 1, "HTTP 204")


def test_a_failing_receiver_is_retried_with_the_alerts_backoff_then_failed(schedule_world):
    with Receiver() as receiver:
        report_schedule_create(
            access=schedule_world["alice"], period="MONTHLY", zone="Europe/Paris", url=receiver.url + "/fail",
            now=WEEK_START,
        )
        (delivery,) = claim_and_compute(WEEK_END + timedelta(days=20))  # January is over
        first = WEEK_END + timedelta(days=20)
        with override_settings(ALERT_MAX_ATTEMPTS=2, ALERT_RETRY_SECONDS=10, ALERT_TIMEOUT_SECONDS=5):
            assert scheduled_delivery_attempt(delivery_id=delivery.pk, link=link, now=first) == "RETRYING"
            assert scheduled_delivery_attempt(delivery_id=delivery.pk, link=link, now=first + timedelta(seconds=14)) is None
            assert deliveries_due(now=first + timedelta(seconds=14)) == []
            assert deliveries_due(now=first + timedelta(seconds=15)) == [delivery.pk]  # queued once when due
            assert deliveries_due(now=first + timedelta(seconds=16)) == []
            assert scheduled_delivery_attempt(delivery_id=delivery.pk, link=link, now=first + timedelta(seconds=15)) == "FAILED"
        failures = receiver.on("/fail")
    assert len(failures) == 2 and failures[0].json["from"] == "2022-12-31T23:00:00.000000Z"  # Paris's January 1st
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts, delivery.last_result) == ("FAILED", 2, "HTTP 500")


def test_a_lost_queue_entry_and_a_dead_workers_try_are_queued_again(schedule_world):
    report_schedule_create(
        access=schedule_world["alice"], period="WEEKLY", zone="UTC", url="https://example.com/r", now=MID_WEEK
    )
    (delivery,) = claim_and_compute(WEEK_END)
    assert deliveries_due(now=WEEK_END + timedelta(seconds=30)) == []  # queued just now
    assert deliveries_due(now=WEEK_END + timedelta(seconds=61)) == [delivery.pk]  # never tried: queued again
    ScheduledDelivery.objects.filter(pk=delivery.pk).update(status="SENDING", last_attempt_at=WEEK_END)
    assert deliveries_due(now=WEEK_END + timedelta(seconds=30)) == []  # may still be in flight
    assert deliveries_due(now=WEEK_END + timedelta(minutes=2)) == [delivery.pk]


@override_settings(EMAIL_BACKEND="django.core.mail.backends.locmem.EmailBackend")
def test_an_email_schedule_sends_the_totals_and_the_link(schedule_world):
    schedule, secret = report_schedule_create(
        access=schedule_world["bob"], period="WEEKLY", zone="America/New_York", email="ops@example.com", now=MID_WEEK
    )
    assert secret is None
    (delivery,) = claim_and_compute(WEEK_END)
    assert scheduled_delivery_attempt(delivery_id=delivery.pk, link=link, now=WEEK_END) == "DELIVERED"
    (sent,) = mail.outbox
    assert sent.to == ["ops@example.com"] and sent.subject == "Weekly uptime report: Mon 2023-01-16 to Mon 2023-01-23 (America/New_York)"
    assert link(delivery.report_id) in sent.body and "over 1 stores" in sent.body and "business minutes" in sent.body


def test_a_report_that_cannot_be_made_fails_its_delivery_with_the_reason(schedule_world):
    schedule, _ = report_schedule_create(
        access=schedule_world["alice"], period="WEEKLY", zone="UTC", url="https://example.com/r", store_ids=["a1"],
        now=MID_WEEK,
    )
    from monitoring.models import Store

    Store.objects.filter(store_id="a1").update(owner=schedule_world["owners"][1])  # a1 now bob's
    (delivery_id,) = periods_claim(now=WEEK_END)
    delivery = ScheduledDelivery.objects.get(pk=delivery_id)
    assert delivery.status == "FAILED" and delivery.report_id is None
    assert delivery.last_result == "the report could not be made: store_ids: no such store: a1"


def test_a_staff_schedule_covers_every_store(schedule_world):
    report_schedule_create(access=EVERYTHING, period="WEEKLY", zone="UTC", url="https://example.com/r", now=MID_WEEK)
    (delivery,) = claim_and_compute(WEEK_END)
    assert delivery.report.owner_id is None and delivery.store_count == 3


def test_the_sweep_runs_in_the_workers_thread():
    from monitoring.schedules.sending import schedules_sweep
    from monitoring.worker import thread

    assert schedules_sweep in thread._sweeps


def test_the_payload_is_what_the_docs_name(schedule_world):
    report_schedule_create(access=schedule_world["alice"], period="WEEKLY", zone="UTC", url="https://example.com/r", now=MID_WEEK)
    (delivery,) = claim_and_compute(WEEK_END)
    from monitoring.schedules.sending import delivery_payload

    payload = delivery_payload(delivery, download_url="u", expires_at=WEEK_END)
    assert list(payload) == [
        "event", "schedule_id", "period", "zone", "from", "to", "report_id", "download_url", "download_expires_at",
        "store_count", "uptime_minutes", "downtime_minutes", "unknown_minutes", "business_minutes",
    ]
    json.dumps(payload)
