"""Stores, their business hours and time zone, status polls, and reports.

Stores get a compact integer key; the public `store_id` is opaque text (19-digit
numbers and UUIDs both occur) and is never parsed as a number.
"""

import uuid
from datetime import timezone

from django.contrib.postgres.fields import ArrayField
from django.contrib.postgres.indexes import BrinIndex
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models.query_utils import DeferredAttribute

from monitoring.kernel import values
from monitoring.kernel.storage import report_storage
from monitoring.kernel.values import InvalidValue
from monitoring.organizations.roles import ADMIN, ROLE_CHOICES, all_scopes

#: Weekday names as the admin shows a shift (0 = Monday, docs/rules.md §1).
_DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


def _shift_text(start, end) -> str:
    """'09:00–17:00'; an end of 00:00 is the end of the day (stored 24:00, docs/rules.md §3)."""
    return f"{start:%H:%M}–{'24:00' if end.hour == end.minute == 0 and end.second == 0 else f'{end:%H:%M}'}"


def _instant_text(moment) -> str:
    return f"{moment.astimezone(timezone.utc):%Y-%m-%d %H:%M:%S.%f} UTC"


def _grammar_checks(instance: models.Model, exclude, checks) -> None:
    """Model.clean_fields, then the grammar of docs/rules.md §7 (monitoring.kernel.values) on
    the fields that passed it: `checks` maps a field name to a function of its value
    that returns the value to keep (e.g. a zone's canonical spelling) or raises
    InvalidValue. So every ModelForm (the admin's included) refuses what the grammar
    refuses, with its reason, as that field's error."""
    errors: dict = {}
    try:
        models.Model.clean_fields(instance, exclude=exclude)
    except ValidationError as error:
        errors = error.update_error_dict(errors)
    skipped = set(exclude or ()) | set(errors)
    for name, check in checks.items():
        if name in skipped:
            continue
        try:
            setattr(instance, name, check(getattr(instance, name)))
        except InvalidValue as error:
            errors.setdefault(name, []).append(ValidationError(error.reason, code="invalid"))
    if errors:
        raise ValidationError(errors)


class Owner(models.Model):
    """An organization (monitoring.organizations): its stores, groups, members and tokens."""

    name = models.TextField(unique=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class ApiToken(models.Model):
    """A bearer token for the API, stored as a SHA-256 hash (the token itself is shown
    once, when created). Bound to an owner, or staff (every store)."""

    name = models.TextField(help_text="What the token is for, e.g. 'poller' or 'dashboard'.")
    owner = models.ForeignKey(Owner, null=True, blank=True, on_delete=models.CASCADE, related_name="tokens")
    is_staff = models.BooleanField(default=False, help_text="Staff tokens see every store.")
    key_prefix = models.CharField(max_length=8, editable=False, help_text="First characters, to recognise it.")
    key_hash = models.CharField(max_length=64, unique=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True, editable=False)
    revoked_at = models.DateTimeField(null=True, blank=True)
    # Its reach (docs/rules.md §12): a member's token never exceeds the member's role and
    # group; a service token (no member) has its own role, on the organization or a group.
    member = models.ForeignKey("monitoring.Member", null=True, blank=True, on_delete=models.CASCADE, related_name="tokens")
    group = models.ForeignKey("monitoring.Group", null=True, blank=True, on_delete=models.CASCADE, related_name="tokens")
    role = models.CharField(max_length=8, choices=ROLE_CHOICES, default=ADMIN)
    scopes = ArrayField(models.TextField(), default=all_scopes)
    expires_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = "API token"
        constraints = [
            models.CheckConstraint(
                condition=models.Q(is_staff=True, owner__isnull=True) | models.Q(is_staff=False, owner__isnull=False),
                name="api_token_owner_xor_staff",
            )
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.key_prefix}…)"


class Store(models.Model):
    store_id = models.TextField(unique=True)
    # None means "no time zone row": the default zone applies (docs/rules.md §2).
    timezone_name = models.TextField(null=True, blank=True)
    owner = models.ForeignKey(Owner, null=True, blank=True, on_delete=models.SET_NULL, related_name="stores")
    # Polls stamped before this were deleted by poll retention (monitoring.stores.retention);
    # figures there come from kept days only (docs/rules.md §11).
    polls_pruned_before = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        ordering = ["store_id"]

    def __str__(self) -> str:
        return self.store_id

    def clean_fields(self, exclude=None):
        """store_id by the grammar of store ids (never altered); timezone_name an IANA
        zone known to the tz database, kept in its canonical spelling; empty = None,
        the default zone."""
        def zone(name):
            return None if name in (None, "") else values.zone(name, field="timezone_name")

        _grammar_checks(
            self, exclude, {"store_id": lambda text: values.store_id(text, field="store_id"), "timezone_name": zone}
        )


class BusinessHours(models.Model):
    """One open shift on one weekday, in the store's local time.

    `end_time_local` <= `start_time_local` means the shift runs past midnight; an
    end of `24:00` is stored as 00:00, which docs/rules.md §3 makes the same instants.
    """

    store = models.ForeignKey(Store, on_delete=models.CASCADE, related_name="business_hours")
    day_of_week = models.PositiveSmallIntegerField()  # 0 = Monday … 6 = Sunday
    start_time_local = models.TimeField()
    end_time_local = models.TimeField()

    class Meta:
        ordering = ["store", "day_of_week", "start_time_local"]
        verbose_name = "business hours"  # one shift; the admin says "business hours", not "business hourss"
        verbose_name_plural = "business hours"
        constraints = [
            models.UniqueConstraint(
                fields=["store", "day_of_week", "start_time_local", "end_time_local"],
                name="business_hours_unique_shift",
            ),
            models.CheckConstraint(
                condition=models.Q(day_of_week__gte=0, day_of_week__lte=6),
                name="business_hours_day_of_week_range",
            ),
        ]

    def clean_fields(self, exclude=None):
        """day_of_week by the grammar's rule (0 = Monday … 6 = Sunday). The times are
        read from text by the grammar in the admin's form (monitoring.admin)."""
        _grammar_checks(self, exclude, {"day_of_week": lambda day: values.day_of_week(str(day), field="day_of_week")})

    def __str__(self) -> str:
        day = _DAYS[self.day_of_week] if 0 <= self.day_of_week < 7 else f"day {self.day_of_week}"
        return f"{self.store}: {day} {_shift_text(self.start_time_local, self.end_time_local)}"


class SpecialHours(models.Model):
    """One special-hours row (docs/rules.md §9): on `date` (the store's local calendar date) the
    store's shifts are exactly its special rows, and its weekly hours do not apply.
    Both times null = closed all day. Times as in BusinessHours (end <= start runs past
    midnight; 24:00 is stored as 00:00)."""

    # No separate store index: the unique constraint leads with the store.
    store = models.ForeignKey(Store, on_delete=models.CASCADE, related_name="special_hours", db_index=False)
    date = models.DateField()
    start_time_local = models.TimeField(null=True, blank=True)
    end_time_local = models.TimeField(null=True, blank=True)

    class Meta:
        ordering = ["store", "date", "start_time_local"]
        verbose_name_plural = "special hours"
        constraints = [
            models.UniqueConstraint(
                fields=["store", "date", "start_time_local", "end_time_local"],
                nulls_distinct=False,  # one closed-all-day row per store and date
                name="special_hours_unique_shift",
            ),
            models.CheckConstraint(
                condition=models.Q(start_time_local__isnull=True, end_time_local__isnull=True)
                | models.Q(start_time_local__isnull=False, end_time_local__isnull=False),
                name="special_hours_both_times_or_neither",
            ),
        ]
        indexes = [models.Index(fields=["date"], name="special_hours_date")]

    @property
    def closed(self) -> bool:
        return self.start_time_local is None

    def __str__(self) -> str:
        hours = "closed" if self.closed else _shift_text(self.start_time_local, self.end_time_local)
        return f"{self.store}: {self.date:%Y-%m-%d} {hours}"


class StoreRevenue(models.Model):
    """The revenue a store expects in one local wall-clock hour of one weekday
    (docs/rules.md §13): `hour` 0–23 is [HH:00, HH+1:00) local, `day_of_week` 0 =
    Monday. An hour without a row expects 0; a store without rows has no estimate. A
    store's rows share one currency (ISO 4217): every writer (the file, the API, the
    admin) replaces a store's rows together and refuses two currencies."""

    # No separate store index: the unique constraint leads with the store.
    store = models.ForeignKey(Store, on_delete=models.CASCADE, related_name="revenue", db_index=False)
    day_of_week = models.PositiveSmallIntegerField()  # 0 = Monday … 6 = Sunday
    hour = models.PositiveSmallIntegerField()  # 0–23, local wall clock
    expected_revenue = models.DecimalField(max_digits=12, decimal_places=2)
    currency = models.CharField(max_length=3, default=values.DEFAULT_CURRENCY)

    class Meta:
        ordering = ["store", "day_of_week", "hour"]
        verbose_name = "expected revenue"
        verbose_name_plural = "expected revenue"
        constraints = [
            models.UniqueConstraint(fields=["store", "day_of_week", "hour"], name="store_revenue_unique_hour"),
            models.CheckConstraint(
                condition=models.Q(day_of_week__gte=0, day_of_week__lte=6), name="store_revenue_day_of_week_range"
            ),
            models.CheckConstraint(condition=models.Q(hour__gte=0, hour__lte=23), name="store_revenue_hour_range"),
            models.CheckConstraint(condition=models.Q(expected_revenue__gte=0), name="store_revenue_not_negative"),
            models.CheckConstraint(condition=models.Q(currency__regex=r"^[A-Z]{3}$"), name="store_revenue_currency_code"),
        ]

    def clean_fields(self, exclude=None):
        """Every field by the grammar (docs/rules.md §7): day 0–6, hour 0–23, an amount with
        at most 2 decimals, an ISO 4217 code (kept in capitals)."""
        _grammar_checks(
            self,
            exclude,
            {
                "day_of_week": lambda day: values.day_of_week(str(day), field="day_of_week"),
                "hour": lambda hour: values.hour_of_day(str(hour), field="hour"),
                "expected_revenue": lambda amount: values.money_amount(
                    f"{amount:f}" if amount is not None else None, field="expected_revenue"
                ),
                "currency": lambda code: values.currency(code, field="currency"),
            },
        )

    def __str__(self) -> str:
        day = _DAYS[self.day_of_week] if 0 <= self.day_of_week < 7 else f"day {self.day_of_week}"
        return f"{self.store}: {day} {self.hour:02d}:00 {self.expected_revenue} {self.currency}"


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
        return f"{self.store}: {self.status} at {_instant_text(self.timestamp_utc)}"


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
        return f"{self.store}: {self.status} at {_instant_text(self.timestamp_utc)}"


class StoredCsvDescriptor(DeferredAttribute):
    """`report.csv`: the column's text when it holds one (a report finished before CSVs moved to storage), else the text of the stored file (csv_file), read whole:
    for tests and small reports; downloads stream the file (monitoring.web.rest)."""

    def __get__(self, instance, cls=None):
        text = super().__get__(instance, cls)
        if instance is None or text:
            return text
        if instance.csv_file:
            # Through the storage as configured now (FileField keeps the one of start-up).
            with report_storage().open(instance.csv_file.name, "rb") as handle:
                return handle.read().decode("utf-8")
        return text

    def __set__(self, instance, value):
        # A data descriptor, so that reads come here even once the value is loaded.
        instance.__dict__[self.field.attname] = value


class StoredCsvField(models.TextField):
    """The transition from the CSV column to the report storage: still a text column
    (other modules `.defer("csv")` it; new reports leave it empty), read through
    StoredCsvDescriptor."""

    descriptor_class = StoredCsvDescriptor

    def pre_save(self, model_instance, add):
        # Never the file's text: the column is empty once a report has its file (a
        # deferred `csv` read back through the descriptor holds the file's text).
        if model_instance.__dict__.get("csv_file"):
            return ""
        return model_instance.__dict__.get(self.attname, "")

    def value_from_object(self, obj):
        return obj.__dict__.get(self.attname, "")


class Report(models.Model):
    class Status(models.TextChoices):
        PENDING = "PENDING"
        RUNNING = "RUNNING"
        COMPLETE = "COMPLETE"
        FAILED = "FAILED"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING)
    # What was asked for; None = the latest poll of the stores in scope when the report runs (docs/rules.md §8).
    requested_as_of = models.DateTimeField(null=True, blank=True)
    as_of = models.DateTimeField(null=True, blank=True)
    horizon_minutes = models.PositiveIntegerField(default=120)
    # None = every store (the owner's, for an owner's report); otherwise the store_ids asked for.
    store_ids = ArrayField(models.TextField(), null=True, blank=True)
    # Who asked: an owner's report covers only their stores; None = staff/anonymous.
    owner = models.ForeignKey(Owner, null=True, blank=True, on_delete=models.CASCADE, related_name="reports")
    # Asked by a role held on this group of the owner: its default as_of is the group's latest poll.
    group = models.ForeignKey("monitoring.Group", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    error = models.TextField(blank=True, default="")
    store_count = models.PositiveIntegerField(null=True, blank=True)
    # The finished CSV, in the report storage (monitoring.kernel.storage), streamed on download.
    csv_file = models.FileField(storage=report_storage, max_length=255, blank=True, default="")
    # Reports once kept their CSV here; migration 0015 moved it to csv_file. Read
    # as `report.csv`, it gives the CSV text from either place (see StoredCsvField).
    csv = StoredCsvField(blank=True, default="")
    # How many times a worker has started on it (bounded by REPORT_MAX_ATTEMPTS).
    attempts = models.PositiveSmallIntegerField(default=0)
    # Last sign of life (start, each finished chunk): a report silent for too long is stale.
    progress_at = models.DateTimeField(null=True, blank=True)
    # A range report (docs/rules.md §11) covers [range_start, as_of): its `to` is its as_of
    # (requested_as_of as asked, None = the latest poll when it runs), its rows are
    # ReportRangeRow and its CSV the range CSV. None: the weekly report.
    range_start = models.DateTimeField(null=True, blank=True)
    # A range report's CSV has the lost-revenue columns (docs/rules.md §13): some store
    # of the report had revenue rows when it ran.
    revenue_columns = models.BooleanField(default=False)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"report {self.id} ({self.status.lower()})"

    @property
    def is_range(self) -> bool:
        return self.range_start is not None


class ReportChunk(models.Model):
    """A slice of a report's stores (consecutive in store_id order), computed by one
    worker task; the report completes when its last chunk is in. A running chunk beats
    (heartbeat_at) every REPORT_HEARTBEAT_SECONDS; one silent for REPORT_CHUNK_STALE_AFTER
    is queued again by the sweep (monitoring.reports.failover)."""

    report = models.ForeignKey(Report, on_delete=models.CASCADE, related_name="chunks")
    index = models.PositiveIntegerField()
    store_pks = ArrayField(models.BigIntegerField())
    finished_at = models.DateTimeField(null=True, blank=True)
    # Last sign of life of the run computing it; None = not started yet.
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    # When it was last queued (by report_run or the sweep): not queued again before it is stale.
    queued_at = models.DateTimeField(null=True, blank=True)
    # How many runs have started it (bounded by REPORT_MAX_ATTEMPTS: a chunk that kills its
    # worker each time fails the report instead of looping).
    attempts = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["report", "index"]
        constraints = [models.UniqueConstraint(fields=["report", "index"], name="report_chunk_unique_index")]

    def __str__(self) -> str:
        return f"report {self.report_id}, part {self.index + 1}"


class ReportRow(models.Model):
    """One store's figures, in docs/rules.md §5 units (hour columns in minutes, day and week
    in hours), unrounded; the CSV rounds to 2 decimals."""

    report = models.ForeignKey(Report, on_delete=models.CASCADE, related_name="rows")
    store_id = models.TextField()
    uptime_last_hour = models.FloatField()
    uptime_last_day = models.FloatField()
    uptime_last_week = models.FloatField()
    downtime_last_hour = models.FloatField()
    downtime_last_day = models.FloatField()
    downtime_last_week = models.FloatField()
    unknown_last_hour = models.FloatField()
    unknown_last_day = models.FloatField()
    unknown_last_week = models.FloatField()
    # Outage incidents (maximal DOWN runs in business hours) per window; API only.
    incidents_last_hour = models.PositiveIntegerField(default=0)
    incidents_last_day = models.PositiveIntegerField(default=0)
    incidents_last_week = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["store_id"]
        constraints = [models.UniqueConstraint(fields=["report", "store_id"], name="report_row_unique_store")]

    def __str__(self) -> str:
        return f"{self.store_id} in report {self.report_id}"

class ReportRangeRow(models.Model):
    """One store's figures in a range report (docs/rules.md §11): business minutes over
    [range_start, as_of), unrounded; the CSV rounds to 2 decimals."""

    report = models.ForeignKey(Report, on_delete=models.CASCADE, related_name="range_rows")
    store_id = models.TextField()
    uptime_minutes = models.FloatField()
    downtime_minutes = models.FloatField()
    unknown_minutes = models.FloatField()
    business_minutes = models.FloatField()
    # Part of the range lay where polls are pruned: answered from whole kept days there.
    whole_days = models.BooleanField(default=False)
    # Lost revenue over the range and its at-risk part (docs/rules.md §13), in whole
    # cents of the store's currency; null: no estimate (no revenue rows, or polls pruned
    # in the range). Cents, so that rows go in by binary COPY as every other column.
    lost_revenue_cents = models.BigIntegerField(null=True, blank=True)
    revenue_at_risk_cents = models.BigIntegerField(null=True, blank=True)
    revenue_currency = models.CharField(max_length=3, null=True, blank=True)

    class Meta:
        ordering = ["store_id"]
        constraints = [
            models.UniqueConstraint(fields=["report", "store_id"], name="report_range_row_unique_store")
        ]

    def __str__(self) -> str:
        return f"{self.store_id} in range report {self.report_id}"


class DaySummary(models.Model):
    """One store's figures for one local calendar date (docs/rules.md §11), kept so that
    long ranges read days instead of polls (monitoring.stores.summaries).

    ``[start_utc, end_utc)`` is the date's 00:00 to the next date's 00:00 in the store's
    zone. Two readings: ``up/down_seconds`` and the incident fields take every poll as
    evidence (what a longer range sees inside this day), ``day_up/day_down_seconds`` only
    the polls at or before ``end_utc`` (the day asked alone). A row is current unless
    ``stale``: every write that can change it (a poll within H of the day, its store's
    hours, special hours or zone) marks it stale in the same transaction (triggers of
    migration 0020), and rows are written only under the writer lock, so none is ever
    read stale. ``frozen`` rows outlive their polls (poll retention) and are never
    marked stale."""

    pk = models.CompositePrimaryKey("store", "day")
    store = models.ForeignKey(Store, on_delete=models.CASCADE, related_name="day_summaries", db_index=False)
    day = models.DateField()
    start_utc = models.DateTimeField()
    end_utc = models.DateTimeField()
    horizon_us = models.BigIntegerField()
    # Polls in [evidence_from, evidence_to] can change the row: start - H and end + H.
    evidence_from = models.DateTimeField()
    evidence_to = models.DateTimeField()
    up_seconds = models.FloatField()
    down_seconds = models.FloatField()
    business_seconds = models.FloatField()
    day_up_seconds = models.FloatField()
    day_down_seconds = models.FloatField()
    incidents = models.PositiveIntegerField()
    starts_down = models.BooleanField()
    ends_down = models.BooleanField()
    stale = models.BooleanField(default=False)
    frozen = models.BooleanField(default=False)

    class Meta:
        indexes = [
            models.Index(fields=["day"], name="day_summary_stale", condition=models.Q(stale=True)),
        ]

    def __str__(self) -> str:
        return f"{self.store_id} on {self.day:%Y-%m-%d}"
