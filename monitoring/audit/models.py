"""One row per change. Append-only: the database refuses UPDATE and DELETE of a row
(a trigger, migration 0025), and so does the model."""

from django.db import models


class AuditEntry(models.Model):
    at = models.DateTimeField(auto_now_add=True)
    # The organization whose log it is in (no foreign key: a row outlives what it names);
    # None: a change outside any organization (staff's own objects).
    organization_id = models.BigIntegerField(null=True, blank=True)
    actor = models.TextField(help_text="Who: 'token:<id> <name>', 'user:<username>', 'command:<name>'.")
    action = models.TextField(help_text="What, e.g. 'special_hours.set', 'token.create'.")
    object_type = models.TextField()
    object_id = models.TextField()
    before = models.JSONField(null=True, blank=True)
    after = models.JSONField(null=True, blank=True)

    class Meta:
        ordering = ["-at", "-id"]
        verbose_name = "audit entry"
        verbose_name_plural = "audit log"
        indexes = [models.Index(fields=["organization_id", "-at", "-id"], name="audit_by_organization")]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M:%S} {self.actor} {self.action} {self.object_type} {self.object_id}"

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise ValueError("audit entries are append-only")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise ValueError("audit entries are append-only")
