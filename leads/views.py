"""Browser pages for leads: thin views; reads through leads.selectors, writes through services."""

from collections.abc import Callable
from datetime import date
from typing import Any
from urllib.parse import urlsplit

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db.models.functions import Lower
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.cache import patch_vary_headers
from django.utils.formats import date_format
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from leads import selectors, services
from leads.exceptions import LeadAlreadyClaimed, LeadChangedMeanwhile, TransitionNotAllowed
from leads.filters import LeadFilter
from leads.forms import LeadForm, TransitionForm, add_service_error, owner_label
from leads.lifecycle import Stage, managed_elsewhere, offered_next_stages
from leads.models import Lead
from leads.panels import detail_panel_contents
from leads.permissions import can_claim_leads
from leads.selectors import TimelineFilter

PAGE_SIZE = 50

# The orderings the list offers; anything else in ?sort= falls back to the first.
SORTS: dict[str, tuple[Any, tuple]] = {
    "newest": (gettext_lazy("Newest first"), ("-created_at", "-id")),
    "oldest": (gettext_lazy("Oldest first"), ("created_at", "id")),
    "name": (gettext_lazy("Name"), (Lower("last_name"), Lower("first_name"), "id")),
    "score": (gettext_lazy("Highest score"), ("-behaviour_score", "-id")),
    # A1 first, then the higher score, then the newest (index lead_best_rank).
    "rank": (
        gettext_lazy("Best rank"),
        ("-rank_order", "-behaviour_score", "-created_at", "-id"),
    ),
    "stage_changed": (gettext_lazy("Stage changed recently"), ("-stage_changed_at", "-id")),
}
DEFAULT_SORT = "newest"


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


def _filter_form(filterset: LeadFilter) -> forms.Form:
    form = filterset.form
    for name in ("stage", "grade", "rank"):
        field = form.fields[name]
        field.widget = forms.CheckboxSelectMultiple(choices=field.choices)
    for name in ("created_after", "created_before"):
        form.fields[name].widget = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
    form.fields["unassigned"].label = _("Assignment")
    form.fields["unassigned"].widget = forms.Select(
        choices=[("", _("Any")), ("true", _("Unassigned")), ("false", _("Assigned"))]
    )
    form.fields["q"].widget.attrs.update(
        type="search", placeholder=_("Name, e-mail or company"), autocomplete="off"
    )
    return form


MULTIPLE_FILTERS = ("stage", "grade", "rank")


def _filter_chips(filterset: LeadFilter, form: forms.Form) -> list[dict[str, str]]:
    """The active filters, one chip per value, each with the list's address without it."""
    if not filterset.is_bound or not filterset.is_valid():
        return []
    params, data = filterset.data, form.cleaned_data

    def without(name: str, value: str | None = None) -> str:
        query = params.copy()
        query.pop("page", None)
        query.setlist(name, [v for v in query.getlist(name) if value is not None and v != value])
        return query.urlencode()

    def shown(name: str, value) -> str:
        if name == "owner":
            return owner_label(value)
        if name == "unassigned":
            return str(_("Unassigned") if value else _("Assigned"))
        if name == "campaign":
            return value.name
        if isinstance(value, date):
            return date_format(value, "SHORT_DATE_FORMAT")
        choices = getattr(form.fields[name], "choices", None)
        return str(dict(choices).get(value, value) if choices else value)

    chips = []
    for name, field in form.fields.items():
        if name in MULTIPLE_FILTERS:
            choices = dict(field.choices)
            for value in dict.fromkeys(params.getlist(name)):
                chips.append(
                    {
                        "label": field.label,
                        "value": str(choices.get(value, value)),
                        "query": without(name, value),
                    }
                )
        elif data.get(name) not in (None, "", []):
            chips.append(
                {"label": field.label, "value": shown(name, data[name]), "query": without(name)}
            )
    return chips


@require_GET
@lead_permission("leads.view_lead")
def lead_list(request: HttpRequest) -> HttpResponse:
    filterset = LeadFilter(
        request.GET or None, queryset=selectors.lead_list(user=request.user), request=request
    )
    filter_form = _filter_form(filterset)
    sort = request.GET.get("sort", DEFAULT_SORT)
    if sort not in SORTS:
        sort = DEFAULT_SORT
    # A filter that does not validate is reported, as the API's 400 does, never silently dropped.
    filter_invalid = filterset.is_bound and not filterset.is_valid()
    leads = filterset.queryset.none() if filter_invalid else filterset.qs
    page = Paginator(leads.order_by(*SORTS[sort][1]), PAGE_SIZE).get_page(request.GET.get("page"))

    params = request.GET.copy()
    params.pop("page", None)
    context = {
        "filter_form": filter_form,
        "filter_invalid": filter_invalid,
        "page": page,
        "leads": page.object_list,
        "sort": sort,
        "sorts": [(key, label) for key, (label, _order) in SORTS.items()],
        "query_string": params.urlencode(),
        "filtered": any(value for key, value in request.GET.items() if key not in {"page", "sort"}),
        "chips": _filter_chips(filterset, filter_form),
        "default_sort": DEFAULT_SORT,
        "can_claim": can_claim_leads(request.user),
    }
    template = "leads/_lead_results.html" if _htmx_fragment(request) else "leads/lead_list.html"
    response = render(request, template, context, status=400 if filter_invalid else 200)
    patch_vary_headers(response, ["HX-Request"])
    return response


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
