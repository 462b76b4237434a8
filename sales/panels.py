"""The sales cards on the lead page (leads/panels.py): qualification, and activities with tasks.
Each runs a fixed number of queries; the views re-render them after a write."""

from typing import Any

from django.http import HttpRequest
from django.utils import timezone

from leads.lifecycle import Stage
from leads.models import Lead
from sales.assignment import may_reassign as may_reassign_leads
from sales.forms import ActivityLogForm, QualificationForm, ReassignForm, RejectForm, TaskForm
from sales.selectors import (
    lead_assignments,
    lead_open_tasks,
    lead_qualification,
    qualification_policy,
)
from sales.services import missing_for_acceptance

# Sales keeps qualifying after acceptance (MEDDIC grows during the deal).
EDITABLE_STAGES = {Stage.MQL, Stage.SQL, Stage.OPPORTUNITY}


def qualification_panel(
    request: HttpRequest,
    lead: Lead,
    *,
    form: QualificationForm | None = None,
    reject_form: RejectForm | None = None,
) -> dict[str, Any]:
    """Three queries: the qualification, the policy and (for MQLs) the rejection reasons."""
    user = request.user
    if not user.has_perm("sales.view_qualification"):
        return {"visible": False}
    qualification = lead_qualification(lead=lead)
    if qualification is None and lead.stage != Stage.MQL:
        return {"visible": False}
    policy = qualification_policy()
    editable = user.has_perm("sales.change_qualification") and lead.stage in EDITABLE_STAGES
    decide = editable and lead.stage == Stage.MQL and user.has_perm("leads.transition_lead")
    missing = missing_for_acceptance(qualification, policy)
    changed_by = qualification.updated_by if qualification else None
    return {
        "visible": True,
        "qualification": qualification,
        "changed_by": changed_by and (changed_by.get_full_name() or changed_by.get_username()),
        "policy": policy,
        "editable": editable,
        "decide": decide,
        "can_reject": decide and user.has_perm("sales.add_rejection"),
        "ready": not missing,
        "form": form or QualificationForm(qualification=qualification),
        "reject_form": reject_form or (RejectForm() if decide else None),
        "meddic_open": bool(policy.meddic_minimum)
        or (qualification is not None and qualification.meddic_confirmed > 0)
        or (form is not None and form.is_bound),
    }


def activities_panel(
    request: HttpRequest,
    lead: Lead,
    *,
    log_form: ActivityLogForm | None = None,
    task_form: TaskForm | None = None,
    logged: bool = False,
) -> dict[str, Any]:
    """Two queries: the lead's open tasks and the people a task can go to."""
    user = request.user
    if not user.has_perm("leads.view_activity"):
        return {"visible": False}
    can_add = user.has_perm("leads.add_activity")
    return {
        "visible": True,
        "can_add": can_add,
        "can_change": user.has_perm("leads.change_activity"),
        "open_tasks": list(lead_open_tasks(lead=lead)),
        "log_form": log_form or (ActivityLogForm() if can_add else None),
        "task_form": task_form or (TaskForm(user=user) if can_add else None),
        "logged": logged,
        "now": timezone.now(),
    }


def opportunity_panel(request: HttpRequest, lead: Lead) -> dict[str, Any]:
    """For an SQL the way to convert it; for an opportunity its open deal (one query)."""
    user = request.user
    if lead.stage == Stage.SQL and user.has_perm("leads.add_opportunity"):
        return {"visible": True, "convert": True}
    if lead.stage not in (Stage.OPPORTUNITY, Stage.CUSTOMER):
        return {"visible": False}
    opportunity = (
        lead.opportunities.select_related("pipeline_stage").order_by("-created_at", "-id").first()
    )
    return {
        "visible": opportunity is not None,
        "opportunity": opportunity,
        "may_close": user.has_perm("leads.change_opportunity"),
    }


def assignment_panel(
    request: HttpRequest, lead: Lead, *, form: ReassignForm | None = None
) -> dict[str, Any]:
    """Who has the lead since when and by which rule or person, the MQL's SLA, and for
    managers the reassign form. Two queries (the assignments, the reps for the form)."""
    user = request.user
    if not user.has_perm("sales.view_assignment"):
        return {"visible": False}
    history = lead_assignments(lead=lead, limit=5)
    current = history[0] if history and history[0].owner_id == lead.owner_id else None
    sla = None
    if current is not None and lead.stage == Stage.MQL and current.sla_closed_at is None:
        sla = current.sla_due_at
    may_reassign = user.has_perm("sales.add_assignment") and may_reassign_leads(user)
    if not history and not may_reassign:
        return {"visible": False}
    return {
        "visible": True,
        "current": current,
        "history": history,
        "sla_due_at": sla,
        "overdue": sla is not None and sla <= timezone.now(),
        "form": form or (ReassignForm(lead=lead) if may_reassign else None),
    }
