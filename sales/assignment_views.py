"""Browser pages for assignment: teams, rules and reps (managers and admins), the reassign card
on the lead page, and each user's notifications. Thin: selectors read, sales.assignment writes."""

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from leads.forms import add_service_error
from sales import assignment, notifications, selectors, teams
from sales.forms import AssignmentRuleForm, ReassignForm, RepProfileForm, TeamForm
from sales.models import AssignmentRule, RepProfile, Team
from sales.panels import assignment_panel
from sales.views import _back_to_lead, _card, _visible_lead, sales_permission


@require_POST
@sales_permission("sales.add_assignment")
def reassign(request: HttpRequest, pk: int) -> HttpResponse:
    lead = _visible_lead(request, pk)
    form = ReassignForm(request.POST, lead=lead)
    if form.is_valid():
        try:
            assignment.leads_reassign(
                lead_ids=[lead.pk], to_user=form.cleaned_data["to_user"], by_user=request.user
            )
        except ValidationError as exc:
            add_service_error(form, exc)
        else:
            messages.success(
                request,
                _("“%(lead)s” is now assigned to %(user)s.")
                % {"lead": lead, "user": form.cleaned_data["to_user"].get_full_name()},
            )
            # The whole page changes (owner, timeline): a full reload, also after htmx.
            return _back_to_lead(request, lead)
    return _card(
        request,
        lead,
        template="sales/_assignment_panel.html",
        panel=assignment_panel(request, lead, form=form),
        status=400,
    )


@require_GET
@sales_permission("sales.view_team")
def overview(request: HttpRequest) -> HttpResponse:
    """Teams with their reps' load, the rules in order, and who is away."""
    can_change = request.user.has_perm("sales.change_team")
    load = {row.user_id: row for row in selectors.team_load(request.user)} if can_change else {}
    teams = selectors.teams_with_members()
    for team in teams:
        team.rows = [(member, load.get(member.user_id)) for member in team.members.all()]
    teamless = []
    if can_change:
        teamless = [
            user
            for user in selectors.rep_profiles()
            if getattr(user, "rep_profile", None) is None or user.rep_profile.team_id is None
        ]
    return render(
        request,
        "sales/assignment.html",
        {
            "teams": teams,
            "teamless": teamless,
            "rules": list(selectors.assignment_rules()),
            "load": load,
            "can_change": can_change,
            "can_edit_rules": request.user.has_perm("sales.change_assignmentrule"),
            "now": timezone.now(),
        },
    )


def _edit_page(request, form, *, title: str, delete_url: str = "", status: int = 200):
    return render(
        request,
        "sales/assignment_form.html",
        {"form": form, "title": title, "delete_url": delete_url},
        status=status,
    )


@require_http_methods(["GET", "POST"])
@sales_permission("sales.change_team", "sales.add_team")
def team_edit(request: HttpRequest, pk: int | None = None) -> HttpResponse:
    team = None if pk is None else get_object_or_404(Team, pk=pk)
    initial = None
    if team is not None:
        initial = {
            "name": team.name,
            "managers": list(team.managers.all()),
            "workdays": team.workdays,
            "day_starts": team.day_starts,
            "day_ends": team.day_ends,
            "time_zone": team.time_zone,
            "sla_hours": team.sla_hours,
        }
    form = TeamForm(request.POST or None, initial=initial)
    if request.method == "POST":
        if request.POST.get("delete") and team is not None:
            if not request.user.has_perm("sales.delete_team"):
                raise PermissionDenied
            teams.team_delete(team_id=team.pk)
            messages.success(request, _("Team “%(team)s” deleted.") % {"team": team.name})
            return redirect("sales:assignment")
        if form.is_valid():
            try:
                team = teams.team_save(team_id=team and team.pk, **form.cleaned_data)
            except ValidationError as exc:
                add_service_error(form, exc)
            else:
                messages.success(request, _("Team “%(team)s” saved.") % {"team": team.name})
                return redirect("sales:assignment")
    title = team.name if team else _("New team")
    can_delete = team is not None and request.user.has_perm("sales.delete_team")
    return _edit_page(
        request,
        form,
        title=title,
        delete_url=request.path if can_delete else "",
        status=400 if form.is_bound else 200,
    )


@require_http_methods(["GET", "POST"])
@sales_permission("sales.change_assignmentrule", "sales.add_assignmentrule")
def rule_edit(request: HttpRequest, pk: int | None = None) -> HttpResponse:
    rule = None if pk is None else get_object_or_404(AssignmentRule, pk=pk)
    initial = None
    if rule is not None:
        initial = {
            name: getattr(rule, name)
            for name in ("name", "team", "position", "countries", "industries", "active")
        }
    form = AssignmentRuleForm(request.POST or None, initial=initial)
    if request.method == "POST":
        if request.POST.get("delete") and rule is not None:
            if not request.user.has_perm("sales.delete_assignmentrule"):
                raise PermissionDenied
            teams.assignment_rule_delete(rule_id=rule.pk)
            messages.success(request, _("Rule “%(rule)s” deleted.") % {"rule": rule.name})
            return redirect("sales:assignment")
        if form.is_valid():
            try:
                rule = teams.assignment_rule_save(rule_id=rule and rule.pk, **form.cleaned_data)
            except ValidationError as exc:
                add_service_error(form, exc)
            else:
                messages.success(request, _("Rule “%(rule)s” saved.") % {"rule": rule.name})
                return redirect("sales:assignment")
    return _edit_page(
        request,
        form,
        title=rule.name if rule else _("New assignment rule"),
        delete_url=request.path if rule else "",
        status=400 if form.is_bound else 200,
    )


@require_http_methods(["GET", "POST"])
@sales_permission("sales.view_repprofile")
def rep_edit(request: HttpRequest, user_id: int | None = None) -> HttpResponse:
    """A manager edits any rep's team, capacity and absence; a rep their own absence and
    e-mail wish (``/sales/assignment/me/``)."""
    manager = assignment.may_reassign(request.user)
    if user_id is None or user_id == request.user.pk:
        user = request.user
    elif manager:
        user = get_object_or_404(selectors.rep_profiles(), pk=user_id)
    else:
        raise PermissionDenied
    profile = RepProfile.objects.filter(user=user).first() or RepProfile(user=user)
    initial = {
        "team": profile.team,
        "capacity": profile.capacity,
        "away": profile.away,
        "away_until": profile.away_until and timezone.localtime(profile.away_until),
        "notify_by_email": profile.notify_by_email,
    }
    form = RepProfileForm(request.POST or None, initial=initial, manager=manager)
    if request.method == "POST" and form.is_valid():
        try:
            teams.rep_profile_update(user=user, by_user=request.user, **form.cleaned_data)
        except ValidationError as exc:
            add_service_error(form, exc)
        else:
            messages.success(request, _("Saved."))
            return redirect("sales:assignment" if manager else "sales:notifications")
    return _edit_page(
        request,
        form,
        title=user.get_full_name() or user.get_username(),
        status=400 if form.is_bound else 200,
    )


@require_GET
@sales_permission("sales.view_notification")
def notification_list(request: HttpRequest) -> HttpResponse:
    """The user's notifications, newest first; opening the page marks them read."""
    rows = selectors.notifications_for(request.user)
    notifications.notifications_mark_read(user=request.user)
    return render(request, "sales/notifications.html", {"notifications": rows})


@require_GET
def notification_badge(request: HttpRequest) -> HttpResponse:
    """The header's unread counter, loaded by htmx after the page: pages keep their query
    counts, and the counter costs one cheap count."""
    count = selectors.unread_notification_count(request.user)
    return render(request, "sales/_notification_badge.html", {"count": count})
