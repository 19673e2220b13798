"""Status polls, stored in time order, and the admin's read-only view of them."""

from django.contrib.postgres.indexes import BrinIndex
from django.db import models

from monitoring.models.checks import instant_text
from monitoring.models.stores import Store


#: The BRIN index of the poll instants ("all polls between t1 and t2").
POLL_TIME_INDEX = "status_poll_time_brin"


class StatusPoll(models.Model):
    # The natural key (store, instant) is the primary key: its index serves uniqueness,
    # "this store's polls between t1 and t2" and cascades. A surrogate id cost a third
    # index (~1.3 s per 2 M polls loaded) and 8 bytes a row. No database-level FK: its
    # row-by-row checks cost ~9 µs per poll loaded; the loader creates every store in
    # the same transaction and the ORM cascades deletes.
    pk = models.CompositePrimaryKey("store", "timestamp_utc")
    store = models.ForeignKey(
        Store, on_delete=models.CASCADE, related_name="polls", db_index=False, db_constraint=False
    )
    timestamp_utc = models.DateTimeField()
    is_active = models.BooleanField()

    class Meta:
        # "All polls between t1 and t2": a BRIN index, as polls are written in time
        # order (files in bulk are sorted if they are not, merges insert in time order,
        # live polls arrive in it). A few pages to maintain instead of a second btree
        # as big as the table's key; max() and min() go through
        # selectors.latest_poll_timestamp and earliest_poll_timestamp.
        indexes = [
            BrinIndex(fields=["timestamp_utc"], name=POLL_TIME_INDEX, pages_per_range=32, autosummarize=True)
        ]

    @property
    def status(self) -> str:
        return "active" if self.is_active else "inactive"

    def __str__(self) -> str:
        return f"{self.store}: {self.status} at {instant_text(self.timestamp_utc)}"


class StatusPollRow(models.Model):
    """The poll table as the admin lists it (read-only): the admin cannot register a
    model with a composite primary key (Django 5.2), so a view gives each poll a
    one-column key, "<store pk>@<microseconds since 2000>"."""

    key = models.TextField(primary_key=True)
    store = models.ForeignKey(Store, on_delete=models.DO_NOTHING, db_constraint=False, related_name="+")
    timestamp_utc = models.DateTimeField()
    is_active = models.BooleanField()

    class Meta:
        managed = False
        db_table = "monitoring_statuspoll_rows"
        verbose_name = "status poll"
        # What the table's primary key guarantees (lets the admin order without `key`).
        constraints = [models.UniqueConstraint(fields=["store", "timestamp_utc"], name="status_poll_rows_unique")]

    @property
    def status(self) -> str:
        return "active" if self.is_active else "inactive"

    def __str__(self) -> str:
        return f"{self.store}: {self.status} at {instant_text(self.timestamp_utc)}"
