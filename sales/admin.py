"""The admin shows sales records read-only: qualifications, acceptance rules, rejections, teams,
assignment rules and assignments change through the sales pages and API (sales.services,
sales.assignment), which check what the admin cannot."""

from django.contrib import admin

from leads.admin import ReadOnlyAdmin
from sales.models import (
    Assignment,
    AssignmentRule,
    Notification,
    Qualification,
    QualificationPolicy,
    Rejection,
    RejectionReason,
    RepProfile,
    Team,
)


@admin.register(Qualification)
class QualificationAdmin(ReadOnlyAdmin):
    list_display = ["lead", "updated_at", "updated_by"]
    list_select_related = ["lead", "updated_by"]
    raw_id_fields = ["lead"]


@admin.register(QualificationPolicy)
class QualificationPolicyAdmin(ReadOnlyAdmin):
    list_display = ["__str__", "updated_at", "updated_by"]


@admin.register(RejectionReason)
class RejectionReasonAdmin(ReadOnlyAdmin):
    list_display = ["name", "name_de", "code", "requires_note", "active", "position"]


@admin.register(Rejection)
class RejectionAdmin(ReadOnlyAdmin):
    list_display = ["lead", "reason", "to_stage", "campaign", "by_user", "at"]
    list_select_related = ["lead", "reason", "campaign", "by_user"]
    list_filter = ["reason", "to_stage"]
    raw_id_fields = ["lead", "transition"]


@admin.register(Team)
class TeamAdmin(ReadOnlyAdmin):
    list_display = ["name", "sla_hours", "time_zone", "day_starts", "day_ends", "level"]


@admin.register(RepProfile)
class RepProfileAdmin(ReadOnlyAdmin):
    list_display = ["user", "team", "capacity", "away", "away_until", "assigned_count"]
    list_select_related = ["user", "team"]


@admin.register(AssignmentRule)
class AssignmentRuleAdmin(ReadOnlyAdmin):
    list_display = ["position", "name", "team", "countries", "industries", "active"]
    list_select_related = ["team"]


@admin.register(Assignment)
class AssignmentAdmin(ReadOnlyAdmin):
    list_display = ["lead", "owner", "rule_name", "by_user", "at", "sla_due_at", "escalated_at"]
    list_select_related = ["lead", "owner", "by_user"]
    raw_id_fields = ["lead"]


@admin.register(Notification)
class NotificationAdmin(ReadOnlyAdmin):
    list_display = ["recipient", "kind", "lead", "created_at", "read_at", "emailed_at"]
    list_select_related = ["recipient", "lead"]
    raw_id_fields = ["lead", "assignment"]
