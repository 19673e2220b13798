from django.db import models


class RateCounter(models.Model):
    """One caller's hits in one scope (monitoring.throttle.limits): a sliding-window
    counter, i.e. the hits of the current fixed window and of the one before it. Written
    only by one atomic UPSERT per hit; the table is UNLOGGED (counters need no crash
    safety, and a commit then waits for no WAL flush)."""

    key = models.TextField(primary_key=True)  # "<scope>:<caller>", e.g. "reports:token:12"
    window_index = models.BigIntegerField()  # floor(epoch seconds / window length)
    hits = models.IntegerField()
    previous_hits = models.IntegerField()  # in window_index − 1

    class Meta:
        verbose_name = "rate counter"

    def __str__(self) -> str:
        return f"rate counter {self.key}"
