from django.db import models


class FleetRanking(models.Model):
    """A computed fleet ranking for one scope (every store, or one owner's), shared by
    every web process; its rows as one blob (monitoring.fleet.ranking.FleetColumns)."""

    scope = models.TextField(primary_key=True, help_text="'all' or 'owner:<id>'.")
    version = models.BigIntegerField(null=True, help_text="The data version it is exact for (null: none).")
    as_of = models.DateTimeField()
    computed_at = models.DateTimeField()
    store_count = models.IntegerField()
    data = models.BinaryField()
    refresh_requested_at = models.DateTimeField(null=True)

    def __str__(self) -> str:
        return f"fleet ranking ({self.scope})"
