from django.contrib import admin

from leads.models import (
    Activity,
    Campaign,
    CampaignCost,
    Company,
    Consent,
    Event,
    Lead,
    Opportunity,
    StageTransition,
)


@admin.register(Company)
class CompanyAdmin(admin.ModelAdmin):
    list_display = ["name", "domain", "industry", "size_band", "annual_revenue"]
    list_filter = ["size_band", "industry"]
    search_fields = ["name", "domain"]


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

    def has_add_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Lead)
class LeadAdmin(admin.ModelAdmin):
    list_display = ["email", "first_name", "last_name", "company", "stage", "rank", "owner"]
    list_filter = ["stage", "grade", "temperature", "source_channel"]
    search_fields = ["email", "last_name", "company__name"]
    list_select_related = ["company", "owner"]
    raw_id_fields = ["company", "owner", "first_campaign", "last_campaign"]
    # Stage changes go through the lifecycle service (leads.services.lead_transition).
    readonly_fields = ["stage", "stage_changed_at", "created_at", "updated_at"]
    inlines = [StageTransitionInline]
    show_full_result_count = False


@admin.register(StageTransition)
class StageTransitionAdmin(admin.ModelAdmin):
    list_display = ["lead", "from_stage", "to_stage", "at", "by_user", "by_rule"]
    list_filter = ["to_stage", "from_stage"]
    raw_id_fields = ["lead", "by_user"]
    show_full_result_count = False

    def has_change_permission(self, request, obj=None) -> bool:
        return False  # history is append-only


@admin.register(Event)
class EventAdmin(admin.ModelAdmin):
    list_display = ["kind", "lead", "visitor_id", "campaign", "occurred_at"]
    list_filter = ["kind"]
    raw_id_fields = ["lead", "campaign"]
    show_full_result_count = False


@admin.register(Activity)
class ActivityAdmin(admin.ModelAdmin):
    list_display = ["kind", "subject", "lead", "author", "due_at", "done_at", "created_at"]
    list_filter = ["kind"]
    raw_id_fields = ["lead", "author"]


@admin.register(Consent)
class ConsentAdmin(admin.ModelAdmin):
    list_display = ["lead", "purpose", "status", "source", "recorded_at", "confirmed_at"]
    list_filter = ["purpose", "status"]
    raw_id_fields = ["lead"]


@admin.register(Opportunity)
class OpportunityAdmin(admin.ModelAdmin):
    list_display = ["name", "lead", "amount", "currency", "probability", "status", "owner"]
    list_filter = ["status"]
    raw_id_fields = ["lead", "owner"]
