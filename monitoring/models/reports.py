"""Background reports: the request, its chunks of stores, the rows they computed and the
finished CSV in the report storage."""

import uuid

from django.contrib.postgres.fields import ArrayField
from django.db import models
from django.db.models.query_utils import DeferredAttribute

from monitoring.kernel.storage import report_storage
from monitoring.models.tenancy import Owner


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
    # The chunk's part of the CSV (its rows, no header) and how many rows it holds, written
    # with its rows: the finished file is the header and the parts in order. Cleared then.
    csv_part = models.TextField(null=True, blank=True)
    rows_written = models.PositiveIntegerField(null=True, blank=True)

    class Meta:
        ordering = ["report", "index"]
        constraints = [models.UniqueConstraint(fields=["report", "index"], name="report_chunk_unique_index")]

    def __str__(self) -> str:
        return f"report {self.report_id}, part {self.index + 1}"


class ReportRow(models.Model):
    """One store's figures, in docs/rules.md §5 units (hour columns in minutes, day and week
    in hours), unrounded; the CSV rounds to 2 decimals."""

    # No foreign key in the database: its check ran once per row as a chunk's thousands of
    # rows committed, under the report's lock, and cost more than writing them. Rows are
    # written only under that lock, for a running report, and deleted with it (CASCADE
    # here). The unique (report, store_id) index also serves lookups by report.
    report = models.ForeignKey(
        Report, on_delete=models.CASCADE, related_name="rows", db_constraint=False, db_index=False
    )
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

    # As ReportRow.report: no foreign key in the database, no index of its own.
    report = models.ForeignKey(
        Report, on_delete=models.CASCADE, related_name="range_rows", db_constraint=False, db_index=False
    )
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
