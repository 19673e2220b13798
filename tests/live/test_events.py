"""Store events published live by the alert evaluation (monitoring.live.events), heard
on the configured channel layer by a second instance of it (another process, in
effect): a live transition of any store (webhook or not) goes to its owner's audience
and to staff's, once the write commits; a historical poll and a rolled-back write
publish nothing; STORE_SILENT from the minute check. The sockets' side is
tests/e2e/test_live_updates.py."""

import asyncio
import threading
import time
from datetime import timedelta

import pytest
from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.module_loading import import_string
from monitoring.alerts.silence import stores_silent_check
from monitoring.live.events import LIVE_EVENTS, event_id, group_name
from monitoring.models import Owner, Store
from monitoring.stores.access import owner_access

from tests.alert_polls import record
from tests.factories import make_store
from tests.processes import wait_for

pytestmark = pytest.mark.django_db(transaction=True)


class Heard:
    """A second instance of the configured layer, in a thread with its own event loop,
    listening to some groups; what it hears is in `messages`."""

    def __init__(self, groups):
        config = settings.CHANNEL_LAYERS["default"]
        self.layer = import_string(config["BACKEND"])(**config.get("CONFIG", {}))
        self.groups = groups
        self.messages: list[tuple[str, dict]] = []
        self.ready = threading.Event()
        self.loop = asyncio.new_event_loop()

    def __enter__(self):
        self.thread = threading.Thread(target=self.loop.run_until_complete, args=(self._listen(),), daemon=True)
        self.thread.start()
        assert self.ready.wait(10)
        return self

    async def _listen(self):
        channels = {}
        for group in self.groups:
            channels[group] = await self.layer.new_channel()
            await self.layer.group_add(group, channels[group])
        self.ready.set()

        async def each(group, channel):
            while True:
                self.messages.append((group, await self.layer.receive(channel)))

        self.tasks = [asyncio.ensure_future(each(g, c)) for g, c in channels.items()]
        await asyncio.gather(*self.tasks, return_exceptions=True)
        if hasattr(self.layer, "close"):
            await self.layer.close()

    def __exit__(self, *exc):
        for task in self.tasks:
            self.loop.call_soon_threadsafe(task.cancel)
        self.thread.join(timeout=10)

    def events(self, group):
        return [event for g, message in self.messages if g == group for event in message["events"]]


@pytest.fixture
def owners():
    alice, bob = Owner.objects.create(name="alice"), Owner.objects.create(name="bob")
    for store_id, owner in (("a1", alice), ("b1", bob)):
        store = make_store(store_id)  # open 24×7; no webhook anywhere
        store.owner = owner
        store.save()
    return alice, bob


def test_a_live_transition_goes_to_its_owners_audience_and_staffs(owners):
    alice, bob = owners
    groups = [group_name(f"owner-{alice.pk}"), group_name(f"owner-{bob.pk}"), group_name("all")]
    with Heard(groups) as heard:
        moment = timezone.now() - timedelta(minutes=1)
        record(owner_access(alice.pk), ("a1", moment, "inactive"))
        wait_for(lambda: heard.events(groups[0]) and heard.events(groups[2]), timeout=5, what="STORE_DOWN")
        (down,) = heard.events(groups[0])
        assert down["event"] == "STORE_DOWN" and down["store_id"] == "a1"
        assert down["store_pk"] == Store.objects.get(store_id="a1").pk
        assert down["poll_timestamp"] == down["incident_started_at"] == moment.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
        assert down["id"] == event_id(event="STORE_DOWN", store_id="a1", poll_at=moment)
        assert heard.events(groups[2]) == [down]
        assert all(message["type"] == LIVE_EVENTS for _, message in heard.messages)
        # A second inactive poll continues the outage: nothing new.
        record(owner_access(alice.pk), ("a1", moment + timedelta(seconds=30), "inactive"))
        record(owner_access(alice.pk), ("a1", moment + timedelta(seconds=40), "active"))
        wait_for(lambda: len(heard.events(groups[0])) == 2, timeout=5, what="STORE_UP")
        assert [e["event"] for e in heard.events(groups[0])] == ["STORE_DOWN", "STORE_UP"]
        assert heard.events(groups[1]) == []  # bob's audience heard nothing of alice's store


def test_historical_polls_and_rolled_back_writes_publish_nothing(owners):
    alice, _ = owners
    access, group = owner_access(alice.pk), group_name(f"owner-{alice.pk}")
    now = timezone.now()
    with Heard([group]) as heard:
        # An outage and its end, both older than H: the state follows, nothing is told.
        record(access, ("a1", now - timedelta(hours=3), "inactive"))
        record(access, ("a1", now - timedelta(hours=2, minutes=50), "active"))
        # A live STORE_DOWN whose write is rolled back.
        with pytest.raises(RuntimeError), transaction.atomic():
            record(access, ("a1", now - timedelta(minutes=1), "inactive"))
            raise RuntimeError("rolled back")
        # The next live outage is told: the listener was listening all along.
        last = now - timedelta(seconds=20)
        record(access, ("a1", now - timedelta(seconds=30), "active"), ("a1", last, "inactive"))
        wait_for(lambda: heard.events(group), timeout=5, what="the last STORE_DOWN")
        (event,) = heard.events(group)
        assert event["event"] == "STORE_DOWN" and event["id"] == event_id(event="STORE_DOWN", store_id="a1", poll_at=last)


def test_store_silent_is_published_by_the_minute_check(owners):
    alice, _ = owners
    group = group_name(f"owner-{alice.pk}")
    now = timezone.now()
    record(owner_access(alice.pk), ("a1", now - timedelta(minutes=1), "active"))
    with Heard([group]) as heard:
        stores_silent_check(now=now + timedelta(hours=2, minutes=5))
        wait_for(lambda: heard.events(group), timeout=5, what="STORE_SILENT")
        (silent,) = heard.events(group)
        assert silent["event"] == "STORE_SILENT" and silent["store_id"] == "a1" and silent["incident_started_at"] is None
        assert stores_silent_check(now=now + timedelta(hours=2, minutes=6)) == []  # once per silence


def test_escalation_steps_are_published_with_their_incident(owners):
    from monitoring.alerts.escalation_check import incidents_escalate
    from monitoring.alerts.models import Incident
    from monitoring.alerts.policies import escalation_policy_set

    alice, _ = owners
    access, group = owner_access(alice.pk), group_name(f"owner-{alice.pk}")
    escalation_policy_set(access=access, escalate_after_minutes=5, remind_every_minutes=5, max_reminders=1)
    record(access, ("a1", timezone.now() - timedelta(minutes=1), "inactive"))
    incident = Incident.objects.get()
    with Heard([group]) as heard:
        incidents_escalate(now=incident.started_at + timedelta(minutes=5))
        incidents_escalate(now=incident.started_at + timedelta(minutes=10))
        incidents_escalate(now=incident.started_at + timedelta(minutes=15))  # past the cap: nothing
        wait_for(lambda: len(heard.events(group)) == 2, timeout=5, what="the escalation and its reminder")
        time.sleep(0.5)
        escalated, reminder = heard.events(group)
        assert [escalated["event"], reminder["event"]] == ["STORE_DOWN_ESCALATED", "STORE_STILL_DOWN"]
        assert escalated["incident_id"] == reminder["incident_id"] == str(incident.pk)
        assert escalated["id"] != reminder["id"]
        assert reminder["id"] == event_id(
            event="STORE_STILL_DOWN", store_id="a1", poll_at=None, incident_id=str(incident.pk), step=1
        )
