"""Who may call: organizations (today's owners, extended by monitoring.organizations) and
their API tokens, stored hashed."""

from django.contrib.postgres.fields import ArrayField
from django.db import models

from monitoring.organizations.roles import ADMIN, ROLE_CHOICES, all_scopes


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
