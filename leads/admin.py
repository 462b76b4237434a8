"""The admin is a second door into the data: lead writes go through leads.services like every other
page, and history, events, changes and the audit log are read-only."""

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponseRedirect
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from leads import services
from leads.forms import owner_label
from leads.models import (
    Activity,
    AuditEntry,
    Campaign,
    CampaignCost,
    Company,
    Consent,
    Event,
    Lead,
    LeadChange,
    LostReason,
    Opportunity,
    PipelineStage,
    StageTransition,
    Visitor,
)
from leads.normalize import normalize_domain, normalize_email
from leads.selectors import assignable_owners


class ReadOnlyAdmin(admin.ModelAdmin):
    """Records written only by services: visible to admins, never edited here."""

    show_full_result_count = False

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class CompanyAdminForm(forms.ModelForm):
    class Meta:
        model = Company
        fields = ["name", "domain", "industry", "size_band", "annual_revenue", "revenue_currency"]

    def clean_domain(self) -> str:
        domain = normalize_domain(self.cleaned_data["domain"])
        taken = Company.objects.filter(domain=domain).exclude(pk=self.instance.pk)
        if domain and taken.exists():
            raise ValidationError(_("A company with this domain already exists."))
        return domain


@admin.register(Company)
class CompanyAdmin(admin.ModelAdmin):
    form = CompanyAdminForm
    list_display = ["name", "domain", "industry", "size_band", "annual_revenue"]
    list_filter = ["size_band", "industry"]
    search_fields = ["name", "domain"]

    def save_model(self, request: HttpRequest, obj: Company, form: forms.ModelForm, change: bool):
        if not change:  # a new company has no leads yet
            super().save_model(request, obj, form, change)
            return
        services.company_update(
            company_id=obj.pk, **{name: form.cleaned_data[name] for name in form.changed_data}
        )


class CampaignCostInline(admin.TabularInline):
    model = CampaignCost
    extra = 0


@admin.register(Campaign)
class CampaignAdmin(admin.ModelAdmin):
    list_display = ["name", "channel", "direction", "starts_on", "ends_on"]
    list_filter = ["channel", "direction"]
    search_fields = ["name"]
    inlines = [CampaignCostInline]


class StageTransitionInline(admin.TabularInline):
    model = StageTransition
    extra = 0
    fields = ["at", "from_stage", "to_stage", "by_user", "by_rule", "reason"]
    readonly_fields = fields
    can_delete = False
    ordering = ["-at"]

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


EDITABLE_IN_ADMIN = list(services.LEAD_EDITABLE_FIELDS)


class LeadAdminForm(forms.ModelForm):
    """Checks at the edge what the services check again under a lock, so the admin shows errors
    beside the fields instead of failing on save."""

    class Meta:
        model = Lead
        fields = EDITABLE_IN_ADMIN

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["owner"].queryset = assignable_owners()
        self.fields["owner"].label_from_instance = owner_label

    def clean_email(self) -> str:
        email = self.cleaned_data["email"].strip()
        taken = Lead.objects.filter(email_key=normalize_email(email)).exclude(pk=self.instance.pk)
        if taken.exists():
            raise ValidationError(_("A lead with this e-mail address already exists."))
        return email

    def _post_clean(self) -> None:
        # The services validate and save; ModelForm's own instance validation would check the
        # unique e-mail key before the service has computed it.
        pass


@admin.register(Lead)
class LeadAdmin(admin.ModelAdmin):
    form = LeadAdminForm
    list_display = ["email", "first_name", "last_name", "company", "stage", "rank", "owner"]
    list_filter = ["stage", "grade", "temperature", "source_channel"]
    search_fields = ["email_key", "last_name", "company__name"]
    list_select_related = ["company", "owner"]
    raw_id_fields = ["company", "first_campaign", "last_campaign"]
    # Stage changes go through the lifecycle service, scores through the scoring app.
    readonly_fields = [
        "stage",
        "stage_changed_at",
        "grade",
        "fit_points",
        "behaviour_score",
        "rank",
        "temperature",
        "created_at",
        "updated_at",
    ]
    inlines = [StageTransitionInline]
    show_full_result_count = False
    actions = None

    def get_queryset(self, request: HttpRequest):
        return super().get_queryset(request).select_related("score")

    @admin.display(description=gettext_lazy("fit points"))
    def fit_points(self, lead: Lead) -> int:
        return lead.score.fit_points

    @admin.display(description=gettext_lazy("behaviour score"))
    def behaviour_score(self, lead: Lead) -> float:
        return lead.score.behaviour_score

    def save_model(self, request: HttpRequest, obj: Lead, form: forms.ModelForm, change: bool):
        fields = {name: form.cleaned_data[name] for name in EDITABLE_IN_ADMIN}
        if change:
            changed = {name: fields[name] for name in form.changed_data if name in fields}
            services.lead_update(lead_id=obj.pk, by_user=request.user, **changed)
        else:
            lead = services.lead_create(created_by=request.user, **fields)
            obj.pk = lead.pk
            obj.id = lead.pk

    def delete_model(self, request: HttpRequest, obj: Lead) -> None:
        services.lead_delete(lead_id=obj.pk, by_user=request.user)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[Lead]) -> None:
        for lead_id in queryset.values_list("pk", flat=True):
            services.lead_delete(lead_id=lead_id, by_user=request.user)

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        try:
            return super().changeform_view(request, object_id, form_url, extra_context)
        except ValidationError as exc:
            # A service refused after the form passed (e.g. a concurrent duplicate): say so.
            for message in exc.messages:
                messages.error(request, message)
            return HttpResponseRedirect(request.path)


@admin.register(StageTransition)
class StageTransitionAdmin(ReadOnlyAdmin):
    list_display = ["lead", "from_stage", "to_stage", "at", "by_user", "by_rule"]
    list_filter = ["to_stage", "from_stage"]
    raw_id_fields = ["lead", "by_user"]


@admin.register(LeadChange)
class LeadChangeAdmin(ReadOnlyAdmin):
    list_display = ["lead", "field", "old_value", "new_value", "by_user", "at"]
    list_filter = ["field"]
    raw_id_fields = ["lead", "by_user"]


@admin.register(AuditEntry)
class AuditEntryAdmin(ReadOnlyAdmin):
    list_display = ["action", "object_id", "email_sha256", "by_user", "at"]
    list_filter = ["action"]
    search_fields = ["email_sha256"]


@admin.register(Event)
class EventAdmin(ReadOnlyAdmin):
    list_display = ["kind", "lead", "visitor_id", "campaign", "occurred_at"]
    list_filter = ["kind"]
    raw_id_fields = ["lead", "campaign"]


@admin.register(Visitor)
class VisitorAdmin(ReadOnlyAdmin):
    list_display = ["visitor_id", "first_campaign", "lead", "first_seen", "last_seen"]
    search_fields = ["visitor_id"]
    raw_id_fields = ["lead", "first_campaign"]


@admin.register(Activity)
class ActivityAdmin(admin.ModelAdmin):
    list_display = ["kind", "subject", "lead", "author", "due_at", "done_at", "created_at"]
    list_filter = ["kind"]
    raw_id_fields = ["lead", "author"]


@admin.register(Consent)
class ConsentAdmin(ReadOnlyAdmin):
    list_display = ["lead", "purpose", "status", "source", "recorded_at", "confirmed_at"]
    list_filter = ["purpose", "status", "source"]
    raw_id_fields = ["lead"]


@admin.register(Opportunity)
class OpportunityAdmin(ReadOnlyAdmin):
    """Winning or losing an opportunity moves the lead; that is the sales pages' job."""

    list_display = ["name", "lead", "amount", "currency", "probability", "status", "owner"]
    list_filter = ["status"]
    raw_id_fields = ["lead", "owner"]


@admin.register(PipelineStage)
class PipelineStageAdmin(admin.ModelAdmin):
    list_display = ["name", "name_de", "position", "probability", "active"]
    list_editable = ["position", "probability", "active"]


@admin.register(LostReason)
class LostReasonAdmin(admin.ModelAdmin):
    list_display = ["name", "name_de", "code", "position", "active"]
    list_editable = ["position", "active"]
    prepopulated_fields = {"code": ["name"]}

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        # A reason in use stays (deactivate it): lost deals keep theirs.
        if obj is not None and obj.opportunities.exists():
            return False
        return super().has_delete_permission(request, obj)
