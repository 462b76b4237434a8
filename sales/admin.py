"""The admin shows sales records read-only: qualifications, acceptance rules and rejections
change through the sales pages and API (sales.services), which check what the admin cannot."""

from django.contrib import admin

from leads.admin import ReadOnlyAdmin
from sales.models import Qualification, QualificationPolicy, Rejection, RejectionReason


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
