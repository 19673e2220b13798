"""Stores and what they are told: weekly business hours, special hours, expected revenue.

Stores get a compact integer key; the public `store_id` is opaque text (19-digit numbers
and UUIDs both occur) and is never parsed as a number."""

from django.db import models

from monitoring.kernel import values
from monitoring.models.checks import WEEKDAYS, grammar_checks, shift_text
from monitoring.models.tenancy import Owner


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

        grammar_checks(
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
        grammar_checks(self, exclude, {"day_of_week": lambda day: values.day_of_week(str(day), field="day_of_week")})

    def __str__(self) -> str:
        day = WEEKDAYS[self.day_of_week] if 0 <= self.day_of_week < 7 else f"day {self.day_of_week}"
        return f"{self.store}: {day} {shift_text(self.start_time_local, self.end_time_local)}"


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
        hours = "closed" if self.closed else shift_text(self.start_time_local, self.end_time_local)
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
        grammar_checks(
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
        day = WEEKDAYS[self.day_of_week] if 0 <= self.day_of_week < 7 else f"day {self.day_of_week}"
        return f"{self.store}: {day} {self.hour:02d}:00 {self.expected_revenue} {self.currency}"
