"""Organizations, their groups and members. An organization is an `Owner` row (the
proxy `Organization`): the stores, reports, webhooks and schedules that point at an
owner belong to that organization (docs/decisions.md, "Organizations are owners")."""

from django.conf import settings
from django.db import models

from monitoring.models import Owner, Store
from monitoring.organizations.roles import ROLE_CHOICES


class Organization(Owner):
    class Meta:
        proxy = True
        verbose_name = "organization"


class Group(models.Model):
    """Some stores of an organization (a brand, a region); a store may be in several."""

    organization = models.ForeignKey(Owner, on_delete=models.CASCADE, related_name="groups")
    name = models.TextField()
    stores = models.ManyToManyField(Store, blank=True, related_name="groups")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["organization_id", "name"]
        constraints = [models.UniqueConstraint(fields=["organization", "name"], name="group_name_unique")]

    def __str__(self) -> str:
        return f"{self.organization} / {self.name}"


class Member(models.Model):
    """A person's role in an organization: on all its stores (no group) or on one group's."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships")
    organization = models.ForeignKey(Owner, on_delete=models.CASCADE, related_name="members")
    group = models.ForeignKey(Group, null=True, blank=True, on_delete=models.CASCADE, related_name="members")
    role = models.CharField(max_length=8, choices=ROLE_CHOICES)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["organization_id", "user_id"]
        constraints = [
            models.UniqueConstraint(
                fields=["user", "organization", "group"], name="member_once_per_scope", nulls_distinct=False
            )
        ]

    def __str__(self) -> str:
        where = self.group.name if self.group_id else self.organization.name
        return f"{self.user} ({self.role.lower()} of {where})"
