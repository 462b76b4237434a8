"""Browser pages for leads: thin views; reads through leads.selectors, writes through services."""

from collections.abc import Callable
from urllib.parse import urlsplit

from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.cache import patch_vary_headers
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from leads import selectors, services
from leads.exceptions import LeadAlreadyClaimed, LeadChangedMeanwhile, TransitionNotAllowed
from leads.forms import LeadForm, TransitionForm, add_service_error
from leads.lifecycle import Stage, managed_elsewhere, offered_next_stages
from leads.models import Lead
from leads.panels import detail_panel_contents
from leads.permissions import can_claim_leads
from leads.selectors import TimelineFilter


def lead_permission(perm: str) -> Callable:
    """Sign-in first (anonymous users go to the login page), then the permission, else 403."""

    def decorator(view: Callable) -> Callable:
        return login_required(permission_required(perm, raise_exception=True)(view))

    return decorator


def _htmx_fragment(request: HttpRequest) -> bool:
    """An HTMX request that wants only the swapped part, not a history restore of a whole page."""
    return bool(request.htmx) and not request.htmx.history_restore_request


def _next_url(request: HttpRequest, default: str) -> str:
    """Where a form posted from several pages goes back to: its ``next`` field if it is ours."""
    url = request.POST.get("next", "")
    if url_has_allowed_host_and_scheme(
        url, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return url
    return default


def _detail_response(
    request: HttpRequest, lead: Lead, transition_form: TransitionForm | None = None
) -> HttpResponse:
    kind = request.GET.get("timeline", TimelineFilter.ALL)
    if kind not in TimelineFilter.values:
        kind = TimelineFilter.ALL
    timeline = {
        "lead": lead,
        "timeline": selectors.lead_timeline(lead=lead, kind=kind),
        "timeline_kind": kind,
        "timeline_filters": TimelineFilter.choices,
    }
    if _htmx_fragment(request) and request.htmx.target == "timeline":
        response = render(request, "leads/_timeline.html", timeline)
        patch_vary_headers(response, ["HX-Request"])
        return response
    allowed = offered_next_stages(lead.stage)
    if transition_form is None:
        transition_form = TransitionForm(allowed=allowed)
    context = {
        **timeline,
        "opportunities": selectors.lead_opportunities(lead=lead),
        "consents": selectors.lead_consents(lead=lead),
        "transition_form": transition_form,
        "allowed_stages": allowed,
        "panels": detail_panel_contents(request, lead),
        "can_claim": lead.owner_id is None
        and lead.stage == Stage.MQL
        and can_claim_leads(request.user),
    }
    response = render(request, "leads/lead_detail.html", context)
    patch_vary_headers(response, ["HX-Request"])
    return response


@require_GET
@lead_permission("leads.view_lead")
def lead_detail(request: HttpRequest, pk: int) -> HttpResponse:
    lead = get_object_or_404(selectors.lead_detail(user=request.user), pk=pk)
    return _detail_response(request, lead)


@require_POST
@lead_permission("leads.change_lead")
def lead_claim(request: HttpRequest, pk: int) -> HttpResponse:
    detail_url = reverse("leads:detail", args=[pk])
    back = _next_url(request, default=detail_url)
    try:
        lead = services.lead_claim(lead_id=pk, user=request.user)
    except LeadAlreadyClaimed:
        messages.error(
            request, _("Someone was faster: this lead has just been claimed by someone else.")
        )
        # The lead is someone else's now; its page would be a 404 for a sales rep.
        return redirect(reverse("leads:list") if urlsplit(back).path == detail_url else back)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
        return redirect(back)
    messages.success(request, _("You now own “%(lead)s”.") % {"lead": lead})
    return redirect(back)


@require_http_methods(["GET", "POST"])
@lead_permission("leads.delete_lead")
def lead_delete(request: HttpRequest, pk: int) -> HttpResponse:
    lead = get_object_or_404(selectors.lead_detail(user=request.user), pk=pk)
    if request.method == "POST":
        try:
            services.lead_delete(lead_id=lead.pk, by_user=request.user)
        except LeadChangedMeanwhile:
            messages.error(request, _("“%(lead)s” was already deleted.") % {"lead": lead})
        else:
            messages.success(request, _("Lead “%(lead)s” deleted.") % {"lead": lead})
        return redirect("leads:list")
    return render(request, "leads/lead_confirm_delete.html", {"lead": lead})


@require_POST
@lead_permission("leads.transition_lead")
def lead_transition(request: HttpRequest, pk: int) -> HttpResponse:
    lead = get_object_or_404(selectors.lead_detail(user=request.user), pk=pk)
    form = TransitionForm(request.POST, allowed=offered_next_stages(lead.stage))
    if form.is_valid():
        how = managed_elsewhere(lead.stage, form.cleaned_data["to_stage"])
        if how is not None:
            messages.error(request, how)
            return redirect("leads:detail", pk=lead.pk)
        try:
            transition = services.lead_transition(
                lead_id=lead.pk,
                to_stage=form.cleaned_data["to_stage"],
                by_user=request.user,
                reason=form.cleaned_data["reason"],
            )
        except TransitionNotAllowed as exc:
            messages.error(request, _transition_refused_message(exc))
            return redirect("leads:detail", pk=lead.pk)
        except LeadChangedMeanwhile:
            messages.error(request, _changed_meanwhile_message(lead))
            return redirect("leads:list")
        except ValidationError as exc:
            add_service_error(form, exc)
        else:
            message = _("Moved to stage “%(stage)s”.") % {
                "stage": transition.get_to_stage_display()
            }
            if lead.owner_id is None and transition.lead.owner_id == request.user.pk:
                message = f"{message} {_('You now own “%(lead)s”.') % {'lead': lead}}"
            messages.success(request, message)
            return redirect("leads:detail", pk=lead.pk)
    return _detail_response(request, lead, form)


def _changed_meanwhile_message(lead: Lead) -> str:
    return _(
        "“%(lead)s” was reassigned or deleted in the meantime, so your changes were not saved."
    ) % {"lead": lead}


def _transition_refused_message(exc: TransitionNotAllowed) -> str:
    labels = dict(Stage.choices)
    names = {
        "from": labels.get(exc.from_stage, exc.from_stage),
        "to": labels.get(exc.to_stage, exc.to_stage),
    }
    if not exc.allowed:
        return _("A lead in stage “%(from)s” cannot move to “%(to)s”. This stage is final.") % names
    return _(
        "A lead in stage “%(from)s” cannot move to “%(to)s”. Allowed next stages: %(stages)s."
    ) % {**names, "stages": ", ".join(str(labels[stage]) for stage in exc.allowed)}


@lead_permission("leads.add_lead")
def lead_create(request: HttpRequest) -> HttpResponse:
    form = LeadForm(request.POST or None, user=request.user)
    if request.method == "POST" and form.is_valid():
        fields = dict(form.cleaned_data)
        try:
            lead = services.lead_create(
                created_by=request.user, company_name=fields.pop("company_name"), **fields
            )
        except ValidationError as exc:
            add_service_error(form, exc)
        else:
            messages.success(request, _("Lead “%(lead)s” created.") % {"lead": lead})
            return redirect("leads:detail", pk=lead.pk)
    return render(request, "leads/lead_form.html", {"form": form, "lead": None})


@lead_permission("leads.change_lead")
def lead_edit(request: HttpRequest, pk: int) -> HttpResponse:
    lead = get_object_or_404(selectors.lead_detail(user=request.user), pk=pk)
    form = LeadForm(request.POST or None, user=request.user, lead=lead)
    if request.method == "POST" and form.is_valid():
        fields = dict(form.cleaned_data)
        try:
            lead = services.lead_update(
                lead_id=lead.pk,
                by_user=request.user,
                company_name=fields.pop("company_name"),
                **fields,
            )
        except LeadChangedMeanwhile:
            messages.error(request, _changed_meanwhile_message(lead))
            return redirect("leads:list")
        except ValidationError as exc:
            add_service_error(form, exc)
        else:
            messages.success(request, _("Lead “%(lead)s” saved.") % {"lead": lead})
            return redirect("leads:detail", pk=lead.pk)
    return render(request, "leads/lead_form.html", {"form": form, "lead": lead})


@require_GET
@lead_permission("leads.view_company")
def company_lookup(request: HttpRequest) -> HttpResponse:
    query = request.GET.get("company_name", "").strip()
    companies = selectors.company_search(query=query) if len(query) >= 2 else []
    return render(request, "leads/_company_options.html", {"companies": companies})


@require_GET
@lead_permission("leads.view_lead")
def check_email(request: HttpRequest) -> HttpResponse:
    email = request.GET.get("email", "").strip()
    exclude = request.GET.get("exclude", "")
    existing = None
    if "@" in email:
        existing = selectors.lead_find_by_email(
            user=request.user, email=email, exclude_pk=int(exclude) if exclude.isdigit() else None
        )
    visible = existing is not None and selectors.lead_is_visible_to(
        user=request.user, lead_id=existing.pk
    )
    return render(request, "leads/_email_check.html", {"existing": existing, "visible": visible})
