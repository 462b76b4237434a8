"""Browser pages for leads: thin views; reads through leads.selectors, writes through services."""

from collections.abc import Callable
from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db.models.functions import Lower
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.cache import patch_vary_headers
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_POST

from leads import selectors, services
from leads.exceptions import TransitionNotAllowed
from leads.filters import LeadFilter
from leads.forms import LeadForm, TransitionForm, add_service_error
from leads.lifecycle import Stage, allowed_next_stages
from leads.models import Lead

PAGE_SIZE = 50

# The orderings the list offers; anything else in ?sort= falls back to the first.
SORTS: dict[str, tuple[Any, tuple]] = {
    "newest": (gettext_lazy("Newest first"), ("-created_at", "-id")),
    "oldest": (gettext_lazy("Oldest first"), ("created_at", "id")),
    "name": (gettext_lazy("Name"), (Lower("last_name"), Lower("first_name"), "id")),
    "score": (gettext_lazy("Highest score"), ("-behaviour_score", "-id")),
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


def _filter_form(filterset: LeadFilter) -> forms.Form:
    form = filterset.form
    for name in ("stage", "grade"):
        field = form.fields[name]
        field.widget = forms.CheckboxSelectMultiple(choices=field.choices)
    for name in ("created_after", "created_before"):
        form.fields[name].widget = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
    form.fields["q"].widget.attrs.update(
        type="search", placeholder=_("Name, e-mail or company"), autocomplete="off"
    )
    return form


@require_GET
@lead_permission("leads.view_lead")
def lead_list(request: HttpRequest) -> HttpResponse:
    filterset = LeadFilter(
        request.GET or None, queryset=selectors.lead_list(user=request.user), request=request
    )
    sort = request.GET.get("sort", DEFAULT_SORT)
    if sort not in SORTS:
        sort = DEFAULT_SORT
    leads = filterset.qs.order_by(*SORTS[sort][1])
    page = Paginator(leads, PAGE_SIZE).get_page(request.GET.get("page"))

    params = request.GET.copy()
    params.pop("page", None)
    context = {
        "filter_form": _filter_form(filterset),
        "page": page,
        "leads": page.object_list,
        "sort": sort,
        "sorts": [(key, label) for key, (label, _order) in SORTS.items()],
        "query_string": params.urlencode(),
        "filtered": any(value for key, value in request.GET.items() if key not in {"page", "sort"}),
    }
    template = "leads/_lead_results.html" if _htmx_fragment(request) else "leads/lead_list.html"
    response = render(request, template, context)
    patch_vary_headers(response, ["HX-Request"])
    return response


def _detail_response(
    request: HttpRequest, lead: Lead, transition_form: TransitionForm | None = None
) -> HttpResponse:
    allowed = allowed_next_stages(lead.stage)
    if transition_form is None:
        transition_form = TransitionForm(allowed=allowed)
    context = {
        "lead": lead,
        "timeline": selectors.lead_timeline(lead=lead),
        "opportunities": selectors.lead_opportunities(lead=lead),
        "consents": selectors.lead_consents(lead=lead),
        "transition_form": transition_form,
        "allowed_stages": allowed,
    }
    return render(request, "leads/lead_detail.html", context)


@require_GET
@lead_permission("leads.view_lead")
def lead_detail(request: HttpRequest, pk: int) -> HttpResponse:
    lead = get_object_or_404(selectors.lead_detail(user=request.user), pk=pk)
    return _detail_response(request, lead)


@require_POST
@lead_permission("leads.transition_lead")
def lead_transition(request: HttpRequest, pk: int) -> HttpResponse:
    lead = get_object_or_404(selectors.lead_detail(user=request.user), pk=pk)
    form = TransitionForm(request.POST, allowed=allowed_next_stages(lead.stage))
    if form.is_valid():
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
        except ValidationError as exc:
            add_service_error(form, exc)
        else:
            messages.success(
                request,
                _("Moved to stage “%(stage)s”.") % {"stage": transition.get_to_stage_display()},
            )
            return redirect("leads:detail", pk=lead.pk)
    return _detail_response(request, lead, form)


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
        except ValidationError as exc:
            add_service_error(form, exc)
            # The service changed the instance before it refused; show the stored lead.
            lead = selectors.lead_detail(user=request.user).get(pk=pk)
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
