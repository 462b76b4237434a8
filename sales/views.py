"""Browser pages for sales work: thin views; reads through selectors, writes through services.

The lead page's sales cards post here. With htmx a card is swapped in place (errors come back
in it with status 400); without JavaScript a write redirects back to the lead page, and a form
with errors is shown on a page of its own.
"""

from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from leadcrm.exceptions import Conflict
from leads.exceptions import LeadChangedMeanwhile
from leads.forms import add_service_error
from leads.models import Activity, Lead
from leads.selectors import lead_detail
from sales import selectors, services
from sales.forms import (
    ActivityLogForm,
    PolicyForm,
    QualificationForm,
    RejectForm,
    RejectionFilterForm,
    RejectionReasonForm,
    TaskForm,
)
from sales.models import RejectionReason
from sales.panels import activities_panel, qualification_panel

TIMELINE_CHANGED = "leadTimelineChanged"


def sales_permission(*perms: str) -> Callable:
    """Sign-in first (anonymous users go to the login page), then the permissions, else 403."""

    def decorator(view: Callable) -> Callable:
        return login_required(permission_required(perms, raise_exception=True)(view))

    return decorator


def _is_htmx(request: HttpRequest) -> bool:
    return bool(request.htmx) and not request.htmx.history_restore_request


def _visible_lead(request: HttpRequest, pk: int) -> Lead:
    return get_object_or_404(lead_detail(user=request.user), pk=pk)


def _card(
    request: HttpRequest,
    lead: Lead,
    *,
    template: str,
    panel: dict[str, Any],
    status: int = 200,
    headers: dict[str, str] | None = None,
) -> HttpResponse:
    """The card alone for htmx, else the card on a page of its own (a form with errors)."""
    context = {"lead": lead, "panel": panel, "card_template": template}
    page = template if _is_htmx(request) else "sales/lead_card_page.html"
    response = render(request, page, context, status=status)
    for name, value in (headers or {}).items():
        response[name] = value
    return response


def _back_to_lead(request: HttpRequest, lead: Lead, anchor: str = "") -> HttpResponse:
    url = reverse("leads:detail", args=[lead.pk]) + anchor
    if _is_htmx(request):
        response = HttpResponse(status=204)
        response["HX-Redirect"] = url
        return response
    return redirect(url)


def _changed_meanwhile(request: HttpRequest, lead: Lead) -> HttpResponse:
    messages.error(
        request,
        _("“%(lead)s” was reassigned or deleted in the meantime, so your changes were not saved.")
        % {"lead": lead},
    )
    if _is_htmx(request):
        response = HttpResponse(status=204)
        response["HX-Redirect"] = reverse("leads:list")
        return response
    return redirect("leads:list")


# --- qualification -------------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
@sales_permission("sales.change_qualification")
def qualification(request: HttpRequest, pk: int) -> HttpResponse:
    """Save progress (action "save") or accept the MQL (action "accept") with the values sent."""
    lead = _visible_lead(request, pk)
    template = "sales/_qualification_panel.html"
    if request.method == "GET":
        return _card(request, lead, template=template, panel=qualification_panel(request, lead))
    form = QualificationForm(request.POST)
    accept = request.POST.get("action") == "accept"
    if form.is_valid():
        try:
            if accept:
                if not request.user.has_perm("leads.transition_lead"):
                    raise ValidationError(_("You may not change lead stages."))
                services.qualification_accept(
                    lead_id=lead.pk, by_user=request.user, **form.cleaned_data
                )
            else:
                services.qualification_save(
                    lead_id=lead.pk, by_user=request.user, **form.cleaned_data
                )
        except LeadChangedMeanwhile:
            return _changed_meanwhile(request, lead)
        except Conflict as exc:
            messages.error(request, str(exc))
            return _back_to_lead(request, lead)
        except ValidationError as exc:
            add_service_error(form, exc)
        else:
            if accept:
                messages.success(
                    request,
                    _("“%(lead)s” is accepted as sales-qualified (SQL).") % {"lead": lead},
                )
                return _back_to_lead(request, lead)
            if not _is_htmx(request):
                messages.success(request, _("Qualification saved."))
                return _back_to_lead(request, lead, "#qualification")
            lead.refresh_from_db()
            panel = qualification_panel(request, lead)
            panel["saved"] = True
            return _card(request, lead, template=template, panel=panel)
    panel = qualification_panel(request, lead, form=form)
    return _card(request, lead, template=template, panel=panel, status=400)


@require_POST
@sales_permission("sales.add_rejection", "leads.transition_lead")
def reject(request: HttpRequest, pk: int) -> HttpResponse:
    lead = _visible_lead(request, pk)
    form = RejectForm(request.POST)
    if form.is_valid():
        try:
            rejection = services.qualification_reject(
                lead_id=lead.pk, by_user=request.user, **form.cleaned_data
            )
        except LeadChangedMeanwhile:
            return _changed_meanwhile(request, lead)
        except Conflict as exc:
            messages.error(request, str(exc))
            return _back_to_lead(request, lead)
        except ValidationError as exc:
            add_service_error(form, exc)
        else:
            messages.success(
                request,
                _("“%(lead)s” was sent back: %(stage)s (%(reason)s).")
                % {
                    "lead": lead,
                    "stage": rejection.get_to_stage_display(),
                    "reason": rejection.reason.label,
                },
            )
            return _back_to_lead(request, lead)
    panel = qualification_panel(request, lead, reject_form=form)
    panel["reject_open"] = True
    return _card(request, lead, template="sales/_qualification_panel.html", panel=panel, status=400)


# --- activities and tasks ------------------------------------------------------------------


def _activities_card(
    request: HttpRequest, lead: Lead, *, status: int = 200, **forms: Any
) -> HttpResponse:
    return _card(
        request,
        lead,
        template="sales/_activities_panel.html",
        panel=activities_panel(request, lead, **forms),
        status=status,
        headers={"HX-Trigger": TIMELINE_CHANGED} if status == 200 else None,
    )


@require_POST
@sales_permission("leads.add_activity")
def activity_log(request: HttpRequest, pk: int) -> HttpResponse:
    lead = _visible_lead(request, pk)
    form = ActivityLogForm(request.POST)
    if form.is_valid():
        try:
            services.activity_log(lead_id=lead.pk, by_user=request.user, **form.cleaned_data)
        except LeadChangedMeanwhile:
            return _changed_meanwhile(request, lead)
        except ValidationError as exc:
            add_service_error(form, exc)
        else:
            if not _is_htmx(request):
                messages.success(request, _("Activity logged."))
                return _back_to_lead(request, lead, "#timeline")
            return _activities_card(request, lead, logged=True)
    return _activities_card(request, lead, status=400, log_form=form)


@require_POST
@sales_permission("leads.add_activity")
def task_create(request: HttpRequest, pk: int) -> HttpResponse:
    lead = _visible_lead(request, pk)
    form = TaskForm(request.POST, user=request.user)
    if form.is_valid():
        try:
            services.task_create(lead_id=lead.pk, by_user=request.user, **form.cleaned_data)
        except LeadChangedMeanwhile:
            return _changed_meanwhile(request, lead)
        except ValidationError as exc:
            add_service_error(form, exc)
        else:
            if not _is_htmx(request):
                messages.success(request, _("Task added."))
                return _back_to_lead(request, lead, "#activities")
            return _activities_card(request, lead)
    return _activities_card(request, lead, status=400, task_form=form)


@require_POST
@sales_permission("leads.change_activity")
def task_done(request: HttpRequest, pk: int) -> HttpResponse:
    """Tick a task off (done=1) or reopen it (done=0), from the lead page or "My tasks"."""
    done = request.POST.get("done") != "0"
    try:
        task = services.task_set_done(activity_id=pk, by_user=request.user, done=done)
    except Activity.DoesNotExist as exc:
        raise Http404 from exc
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
        return redirect("sales:my-tasks")
    if request.POST.get("from") == "lead":
        if _is_htmx(request):
            return _activities_card(request, task.lead)
        return _back_to_lead(request, task.lead, "#activities")
    if _is_htmx(request):
        return render(
            request, "sales/_task_row.html", {"task": task, "now": timezone.now(), "section": ""}
        )
    return redirect("sales:my-tasks")


@require_GET
@sales_permission("leads.view_activity")
def my_tasks(request: HttpRequest) -> HttpResponse:
    tasks = selectors.my_tasks(user=request.user)
    sections = [
        ("overdue", _("Overdue"), tasks.overdue),
        ("today", _("Today"), tasks.today),
        ("upcoming", _("Upcoming"), tasks.upcoming),
        ("done", _("Done today"), tasks.done_today),
    ]
    return render(
        request,
        "sales/my_tasks.html",
        {"tasks": tasks, "sections": sections, "now": timezone.now()},
    )


# --- marketing's view and the settings -----------------------------------------------------


@require_GET
@sales_permission("sales.view_rejection")
def rejections(request: HttpRequest) -> HttpResponse:
    form = RejectionFilterForm(request.GET or None)
    since = until = None
    status = 200
    if form.is_bound:
        if form.is_valid():
            since, until = form.cleaned_data["since"], form.cleaned_data["until"]
        else:
            status = 400
    table = selectors.rejections_by_campaign(since=since, until=until)
    return render(request, "sales/rejections.html", {"form": form, "table": table}, status=status)


@require_http_methods(["GET", "POST"])
@sales_permission("sales.view_qualificationpolicy")
def settings_page(request: HttpRequest) -> HttpResponse:
    policy = selectors.qualification_policy()
    can_change = request.user.has_perm("sales.change_qualificationpolicy")
    form = PolicyForm(request.POST or None, instance=policy)
    status = 200
    if request.method == "POST":
        if not can_change:
            return render(request, "403.html", status=403)
        if form.is_valid():
            try:
                services.qualification_policy_update(
                    by_user=request.user,
                    bant_minimum=form.cleaned_data["bant_minimum"],
                    meddic_minimum=form.cleaned_data["meddic_minimum"],
                )
            except ValidationError as exc:
                add_service_error(form, exc)
            else:
                messages.success(request, _("Qualification rules saved."))
                return redirect("sales:settings")
        status = 400
    return render(
        request,
        "sales/settings.html",
        {
            "policy": policy,
            "policy_changed_by": policy.updated_by
            and (policy.updated_by.get_full_name() or policy.updated_by.get_username()),
            "form": form,
            "can_change": can_change,
            "reasons": selectors.rejection_reasons(active_only=False),
            "can_edit_reasons": request.user.has_perm("sales.change_rejectionreason"),
            "can_add_reasons": request.user.has_perm("sales.add_rejectionreason"),
        },
        status=status,
    )


@require_http_methods(["GET", "POST"])
@sales_permission("sales.change_rejectionreason", "sales.add_rejectionreason")
def reason_edit(request: HttpRequest, pk: int | None = None) -> HttpResponse:
    reason = None if pk is None else get_object_or_404(RejectionReason, pk=pk)
    initial = None
    if reason is not None:
        initial = {
            name: getattr(reason, name)
            for name in ("name", "name_de", "requires_note", "active", "position")
        }
    form = RejectionReasonForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            if reason is None:
                reason = services.rejection_reason_create(**form.cleaned_data)
            else:
                reason = services.rejection_reason_update(reason_id=reason.pk, **form.cleaned_data)
        except ValidationError as exc:
            add_service_error(form, exc)
        else:
            messages.success(request, _("Reason “%(reason)s” saved.") % {"reason": reason.label})
            return redirect("sales:settings")
    status = 400 if form.is_bound and form.errors else 200
    return render(
        request, "sales/reason_form.html", {"form": form, "reason": reason}, status=status
    )
