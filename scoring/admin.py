"""Scoring in the admin, read-only: rule changes must go through the scoring services, which version
the profile and rescore the leads (issue: scoring pages with what-if)."""

from django.contrib import admin

from leads.admin import ReadOnlyAdmin
from scoring.models import (
    BehaviourRule,
    GradeRule,
    MqlReview,
    ProfileVersion,
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
    raw_id_fields = ["lead", "event"]


@admin.register(ProfileVersion)
class ProfileVersionAdmin(ReadOnlyAdmin):
    list_display = ["profile", "version", "saved_by", "saved_at"]


@admin.register(MqlReview)
class MqlReviewAdmin(ReadOnlyAdmin):
    list_display = ["lead", "grade", "behaviour_score", "flagged_at"]
    raw_id_fields = ["lead"]
