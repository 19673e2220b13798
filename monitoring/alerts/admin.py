"""The alerts in the admin: webhooks (their secret never shown, nor filtered on), the
delivery log, read-only: deliveries are made by the evaluation, not by hand; escalation
policies, and incidents (acknowledged and annotated by staff)."""

from dataclasses import replace

from django import forms
from django.contrib import admin, messages
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db.models import Q

from monitoring.admin.audited import AuditedAdmin, admin_actor
from monitoring.admin.owners import SecretLookupsRefused
from monitoring.alerts.incidents import actor_of, incident_acknowledge, incident_note_add, note_text
from monitoring.alerts.models import Delivery, EscalationPolicy, Incident, IncidentEscalation, IncidentNote, Webhook
from monitoring.alerts.policies import BOUNDS, policy_values
from monitoring.kernel.values import InvalidValue
from monitoring.stores.access import EVERYTHING


class DeliveryInline(admin.TabularInline):
    model = Delivery
    fields = ("created_at", "event", "store", "status", "attempts", "last_attempt_at", "last_result")
    readonly_fields = fields
    extra = 0
    max_num = 0
    show_change_link = True
    ordering = ("-created_at",)

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("store")

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Webhook)
class WebhookAdmin(AuditedAdmin, SecretLookupsRefused, admin.ModelAdmin):
    list_display = ("url", "owner", "events", "confirm_polls", "created_at")
    list_filter = ("owner",)
    search_fields = ("url", "owner__name")
    fields = ("id", "owner", "url", "events", "confirm_polls", "created_at")
    readonly_fields = ("id", "owner", "url", "created_at")
    inlines = [DeliveryInline]

    def has_add_permission(self, request):
        return False  # made through the API or `create_webhook`, which show the secret once


@admin.register(Delivery)
class DeliveryAdmin(SecretLookupsRefused, admin.ModelAdmin):
    list_display = ("created_at", "event", "store", "webhook", "status", "attempts", "last_attempt_at", "last_result")
    list_filter = ("status", "event")
    search_fields = ("store__store_id", "webhook__url")
    list_select_related = ("store", "webhook")
    readonly_fields = [field.name for field in Delivery._meta.fields]
    date_hierarchy = "created_at"

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


class EscalationPolicyForm(forms.ModelForm):
    class Meta:
        model = EscalationPolicy
        fields = "__all__"

    def clean(self):
        cleaned = super().clean()
        owner = cleaned.get("owner")
        foreign = [hook.url for hook in cleaned.get("targets") or () if hook.owner_id not in (None, getattr(owner, "pk", None))]
        if foreign:
            self.add_error("targets", f"not a webhook of this owner (nor a staff one): {foreign[0]}")
        return cleaned


@admin.register(EscalationPolicy)
class EscalationPolicyAdmin(AuditedAdmin, admin.ModelAdmin):
    """Set by staff here or by the owner through GraphQL (setEscalationPolicy)."""

    form = EscalationPolicyForm
    audit_after_related = True  # its targets, a many-to-many

    def audit_type(self) -> str:
        return "escalation_policy"

    def audit_snapshot(self, obj: EscalationPolicy) -> dict:
        return policy_values(obj)

    list_display = ("owner", "escalate_after_minutes", "remind_every_minutes", "max_reminders", "quiet_before_close_minutes")
    fields = ("owner", "escalate_after_minutes", "remind_every_minutes", "max_reminders", "quiet_before_close_minutes", "targets")
    filter_horizontal = ("targets",)
    search_fields = ("owner__name",)

    def get_form(self, request, obj=None, **kwargs):
        form = super().get_form(request, obj, **kwargs)
        # The owner's own webhooks and staff ones, as setEscalationPolicy allows.
        if obj is not None and "targets" in form.base_fields:
            form.base_fields["targets"].queryset = Webhook.objects.filter(Q(owner=obj.owner) | Q(owner__isnull=True))
        return form

    def formfield_for_dbfield(self, db_field, request, **kwargs):
        field = super().formfield_for_dbfield(db_field, request, **kwargs)
        bounds = BOUNDS.get(db_field.name)
        if bounds is not None:
            field.min_value, field.max_value = bounds
            field.validators += [MinValueValidator(bounds[0]), MaxValueValidator(bounds[1])]
        return field


class IncidentNoteForm(forms.ModelForm):
    class Meta:
        model = IncidentNote
        fields = ("text",)

    def clean_text(self):
        try:
            text = note_text(self.cleaned_data.get("text"), field="text")
        except InvalidValue as error:
            raise forms.ValidationError(error.reason) from None
        if text is None:
            raise forms.ValidationError("a note needs some text")
        return text


class IncidentNoteInline(admin.TabularInline):
    """Notes are added, never edited or deleted (each addition is in the audit log)."""

    model = IncidentNote
    form = IncidentNoteForm
    fields = ("created_at", "author", "text")
    readonly_fields = ("created_at", "author")
    extra = 0

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class IncidentEscalationInline(admin.TabularInline):
    model = IncidentEscalation
    fields = ("sequence", "event", "sent_at")
    readonly_fields = fields
    extra = 0
    max_num = 0

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Incident)
class IncidentAdmin(admin.ModelAdmin):
    """Opened and resolved by the alert evaluation; staff may acknowledge and add notes."""

    list_display = ("store", "status", "started_at", "resolved_at", "acknowledged_at", "acknowledged_by")
    list_filter = ("status",)
    search_fields = ("store__store_id",)
    list_select_related = ("store",)
    readonly_fields = ("id", "store", "status", "started_at", "resolved_at", "acknowledged_at", "acknowledged_by", "created_at")
    inlines = [IncidentNoteInline, IncidentEscalationInline]
    actions = ["acknowledge"]

    def has_add_permission(self, request):
        return False

    def save_formset(self, request, form, formset, change):
        """New notes through the service that adds them through the API (its checks and
        its audit row); nothing else is saved here (escalations are read-only)."""
        actor = actor_of(caller=f"user:{request.user.pk}")
        added = []
        for note in formset.save(commit=False):
            if isinstance(note, IncidentNote) and note.pk is None:
                try:
                    added.append(incident_note_add(
                        access=_staff(request), incident_id=note.incident_id, actor=actor, text=note.text
                    ))
                except InvalidValue as error:
                    self.message_user(request, f"note not added: {error.reason}", messages.ERROR)
        formset.new_objects = added  # what the admin's own history message names

    @admin.action(description="Acknowledge the selected incidents")
    def acknowledge(self, request, queryset):
        actor = actor_of(caller=f"user:{request.user.pk}")
        for incident_id in queryset.values_list("pk", flat=True):
            incident_acknowledge(access=_staff(request), incident_id=incident_id, actor=actor)


def _staff(request):
    """The admin's staff access, named in the audit log as the admin's user."""
    return replace(EVERYTHING, actor=admin_actor(request))
