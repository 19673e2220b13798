"""Kept daily figures: what long ranges read instead of polls."""

from django.db import models

from monitoring.models.stores import Store


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
