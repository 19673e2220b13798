"""Owners and API tokens: a token's secret is shown once, when it is made."""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.db.models.constants import LOOKUP_SEP
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html
from django.db import transaction

from monitoring.audit import audit_record
from monitoring.models import ApiToken, Owner, Store
from monitoring.organizations.roles import ADMIN, SCOPES
from monitoring.organizations.services import token_issue, token_snapshot

from monitoring.admin.audited import AuditedAdmin, admin_actor
from monitoring.admin.common import NulSafeAdmin, count_of, titled


# --------------------------------------------------------------------------- owners and tokens

#: Fields that hold a secret or what proves one: a token's hash, a webhook's signing
#: secret. A change list filtered on one (`?key_hash__startswith=ab`) answers yes or no
#: to a guess, so the value could be read a character at a time.
SECRET_FIELDS = frozenset({"key_hash", "secret"})


class SecretLookupsRefused:
    """An admin mixin: no URL filters on a secret field, whichever model's (directly or
    across a relation): Django allows a filter on any field of the model itself, so
    it is refused here (a 400, DisallowedModelAdminLookup). Searching and ordering
    reach only search_fields and list_display, which never name one."""

    def lookup_allowed(self, lookup, value, request=None):
        if SECRET_FIELDS.intersection(lookup.split(LOOKUP_SEP)):
            return False
        return super().lookup_allowed(lookup, value, request)


@admin.register(Owner)
class OwnerAdmin(AuditedAdmin, SecretLookupsRefused, NulSafeAdmin):
    list_display = ("name", "stores_count", "tokens_count", "created_at")
    search_fields = ("name",)
    readonly_fields = ("created_at",)

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .annotate(stores_count=count_of(Store, "owner"), tokens_count=count_of(ApiToken, "owner"))
        )

    def audit_type(self) -> str:
        return "organization"  # as the command's changes name it

    @admin.display(description="stores", ordering="stores_count")
    def stores_count(self, obj: Owner) -> int:
        return obj.stores_count

    @admin.display(description="API tokens", ordering="tokens_count")
    def tokens_count(self, obj: Owner) -> int:
        return obj.tokens_count


class ApiTokenAddForm(forms.ModelForm):
    class Meta:
        model = ApiToken
        fields = ("name", "owner", "is_staff", "group", "role", "scopes", "expires_at")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # Left empty: an ADMIN token with every scope, as tokens were before roles.
        for name in ("role", "scopes"):
            self.fields[name].required = False

    def clean(self):
        cleaned = super().clean()
        cleaned["role"] = cleaned.get("role") or ADMIN
        cleaned["scopes"] = cleaned.get("scopes") or list(SCOPES)
        if bool(cleaned.get("owner")) == bool(cleaned.get("is_staff")):
            raise forms.ValidationError("A token belongs to an owner, or is a staff token: choose exactly one.")
        group, owner = cleaned.get("group"), cleaned.get("owner")
        if group is not None and (owner is None or group.organization_id != owner.pk):
            raise forms.ValidationError("A token's group must be a group of its organization.")
        unknown = sorted(set(cleaned.get("scopes") or ()) - set(SCOPES))
        if unknown:
            raise forms.ValidationError(f"Unknown scope {unknown[0]!r}; the scopes are {', '.join(SCOPES)}.")
        return cleaned


@admin.register(ApiToken)
class ApiTokenAdmin(AuditedAdmin, SecretLookupsRefused, NulSafeAdmin):
    """Creating a token here makes the secret with monitoring.stores.access.token_create (only
    its SHA-256 is stored) and shows the raw token once, on the page that answers the
    form; it is never stored, logged, put in a cookie or shown again."""

    list_display = ("name", "owner", "is_staff", "role", "key_prefix", "created_at", "last_used_at", "revoked")
    list_select_related = ("owner",)
    list_filter = (
        ("is_staff", titled(admin.BooleanFieldListFilter, "staff token")),
        ("revoked_at", titled(admin.EmptyFieldListFilter, "revoked", {"Empty": "No", "Not empty": "Yes"})),
        "owner",
    )
    search_fields = ("name", "key_prefix", "owner__name")
    autocomplete_fields = ("owner",)
    actions = ("revoke",)
    add_form = ApiTokenAddForm

    def get_form(self, request, obj=None, **kwargs):
        if obj is None:
            kwargs["form"] = self.add_form
        return super().get_form(request, obj, **kwargs)

    def get_fields(self, request, obj=None):
        if obj is None:
            return ("name", "owner", "is_staff", "group", "role", "scopes", "expires_at")
        return (
            "name", "owner", "is_staff", "member", "group", "role", "scopes", "key_prefix", "created_at",
            "last_used_at", "expires_at", "revoked_at",
        )

    def get_readonly_fields(self, request, obj=None):
        if obj is None:
            return ()
        # The scope of an existing token never changes: make a new one instead.
        return ("owner", "is_staff", "member", "group", "role", "scopes", "key_prefix", "created_at", "last_used_at")

    @admin.display(description="revoked", boolean=True, ordering="revoked_at")
    def revoked(self, obj: ApiToken) -> bool:
        return obj.revoked_at is not None

    @admin.action(description="Revoke selected tokens")
    def revoke(self, request, queryset):
        now, count = timezone.now(), 0
        with transaction.atomic():
            for token in queryset.filter(revoked_at__isnull=True).select_for_update(of=("self",)):
                before = token_snapshot(token)
                token.revoked_at = now
                token.save(update_fields=["revoked_at"])
                audit_record(
                    actor=admin_actor(request), action="token.revoke", object_type="token", object_id=token.pk,
                    before=before, after=token_snapshot(token), organization_id=token.owner_id,
                )
                count += 1
        self.message_user(request, f"{count} token(s) revoked.", messages.SUCCESS)

    def audit_type(self) -> str:
        return "token"

    def audit_snapshot(self, obj: ApiToken) -> dict:
        return token_snapshot(obj)

    def save_model(self, request, obj, form, change):
        if change:
            return super().save_model(request, obj, form, change)
        token, raw = token_issue(
            actor=admin_actor(request), name=obj.name, owner=obj.owner, is_staff=obj.is_staff, group=obj.group,
            role=obj.role, scopes=obj.scopes, expires_at=obj.expires_at,
        )
        # The admin goes on with `obj` (log entry, redirects): make it the saved token.
        obj.pk = token.pk
        obj.key_prefix, obj.key_hash, obj.created_at = token.key_prefix, token.key_hash, token.created_at
        obj._state.adding, obj._state.db = False, token._state.db
        request._new_api_token_raw = raw  # for response_add, this request only

    def response_add(self, request, obj, post_url_continue=None):
        raw = getattr(request, "_new_api_token_raw", None)
        if raw is None:
            return super().response_add(request, obj, post_url_continue)
        # Rendered in this response rather than redirected: a message read in the same
        # request is never written to the session or the messages cookie.
        messages.warning(
            request,
            format_html(
                "API token “{}” created. Copy it now, it will not be shown again: <code id=\"new-token\">{}</code>",
                obj.name,
                raw,
            ),
        )
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": "API token created",
            "token": obj,
            "change_url": reverse("admin:monitoring_apitoken_change", args=[obj.pk]),
            "changelist_url": reverse("admin:monitoring_apitoken_changelist"),
        }
        response = TemplateResponse(request, "monitoring/admin/token_created.html", context)
        response["Cache-Control"] = "no-store"
        return response
