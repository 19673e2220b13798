"""A week of two owners' polls for the scheduled-report tests: alice (stores a1 in New
York with hours, a2 open 24×7) and bob (b1), hourly polls from before the New York week
[Mon 2023-01-16 05:00Z, Mon 2023-01-23 05:00Z) to after it, a1 down for a few hours."""

from datetime import UTC, datetime, timedelta

from monitoring.models import Owner
from monitoring.stores.access import Access, token_create
from tests.factories import add_polls, make_store

#: Wednesday 2023-01-18: inside the New York week [WEEK_START, WEEK_END).
MID_WEEK = datetime(2023, 1, 18, 12, tzinfo=UTC)
WEEK_START = datetime(2023, 1, 16, 5, tzinfo=UTC)
WEEK_END = datetime(2023, 1, 23, 5, tzinfo=UTC)


def two_owners_week(start: datetime = WEEK_START, end: datetime = WEEK_END) -> dict:
    """The stores and polls above (of another week when given its bounds); the owners'
    tokens and access."""
    alice, bob = Owner.objects.create(name="alice"), Owner.objects.create(name="bob")
    a1 = make_store("a1", zone="America/New_York", hours=[(day, "09:00", "21:00") for day in range(7)])
    a2, b1 = make_store("a2"), make_store("b1")
    for store, owner in ((a1, alice), (a2, alice), (b1, bob)):
        store.owner = owner
        store.save()
        polls = []
        moment = start - timedelta(days=2)
        while moment < min(end + timedelta(days=2), datetime.now(UTC) - timedelta(hours=3)):
            down = store is a1 and start + timedelta(days=2, hours=9) <= moment < start + timedelta(days=2, hours=14)
            polls.append((moment, not down))
            moment += timedelta(minutes=61)
        add_polls(store, polls)
    return {
        "alice": Access(owner_id=alice.pk, all_stores=False),
        "bob": Access(owner_id=bob.pk, all_stores=False),
        "alice_token": token_create(name="t", owner=alice)[1],
        "bob_token": token_create(name="t", owner=bob)[1],
        "owners": (alice, bob),
    }
