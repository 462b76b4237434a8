"""Scoring in the admin, read-only: rule changes go through the scoring pages and API (preview,
then save), which version the profile and rescore the leads."""

from django.contrib import admin

from leads.admin import ReadOnlyAdmin
from scoring.models import (
    BehaviourRule,
    GradeRule,
    MqlReview,
    ProfileVersion,
    Rescoring,
    ScoreEntry,
    ScoringProfile,
)


@admin.register(ScoringProfile)
class ScoringProfileAdmin(ReadOnlyAdmin):
    list_display = ["name", "is_active", "version", "half_life_days", "mql_grades", "updated_at"]


@admin.register(GradeRule)
class GradeRuleAdmin(ReadOnlyAdmin):
    list_display = ["profile", "field", "operator", "value", "points", "position"]
    list_filter = ["field"]


@admin.register(BehaviourRule)
class BehaviourRuleAdmin(ReadOnlyAdmin):
    list_display = [
        "name",
        "event_kind",
        "pattern",
        "points",
        "frequency",
        "cap_points",
        "cap_days",
    ]
    list_filter = ["event_kind", "frequency"]


@admin.register(ScoreEntry)
class ScoreEntryAdmin(ReadOnlyAdmin):
    list_display = ["lead", "rule", "points", "at"]
    list_select_related = ["lead", "rule"]
    raw_id_fields = ["lead", "event"]


@admin.register(ProfileVersion)
class ProfileVersionAdmin(ReadOnlyAdmin):
    list_display = ["profile", "version", "saved_by", "saved_at"]
    list_select_related = ["profile", "saved_by"]


@admin.register(MqlReview)
class MqlReviewAdmin(ReadOnlyAdmin):
    list_display = ["lead", "grade", "behaviour_score", "flagged_at"]
    raw_id_fields = ["lead"]


@admin.register(Rescoring)
class RescoringAdmin(ReadOnlyAdmin):
    list_display = [
        "pk",
        "kind",
        "status",
        "base_version",
        "created_by",
        "created_at",
        "finished_at",
    ]
    list_filter = ["kind", "status"]
    list_select_related = ["created_by"]
