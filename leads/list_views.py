"""The lead list page and what it posts: bulk actions, chosen columns, saved views. Thin views;
reads through leads.selectors, writes through leads.list_services."""

import csv
from dataclasses import dataclass
from datetime import date
from urllib.parse import urlsplit

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.cache import patch_vary_headers
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_GET, require_POST

from leads import list_services, selectors
from leads.exceptions import LeadChangedMeanwhile
from leads.filters import LeadFilter
from leads.forms import OwnerChoiceField, owner_label
from leads.lifecycle import Stage
from leads.listing import COLUMNS, DEFAULT_SORT, SORTS, STAGE_SHORT, built_in_views, joins_for
from leads.models import Channel, Temperature
from leads.permissions import can_claim_leads
from leads.views import _htmx_fragment, _next_url, lead_permission

PAGE_SIZE = 50
ASCENDING_SORTS = {"oldest", "name", "company"}


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
# Filters folded under "More filters" in the toolbar.
MORE_FILTERS = ("grade", "rank", "source_channel", "campaign", "created_after", "created_before")


def _filter_chips(filterset: LeadFilter, form: forms.Form) -> list[dict[str, str]]:
    """The active filters, one chip per value, each with the list's address without it."""
    if not filterset.is_bound or not filterset.is_valid():
        return []
    params, data = filterset.data, form.cleaned_data

    def without(name: str, value: str | None = None) -> str:
        query = params.copy()
        query.pop("cursor", None)
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


def _add_labels(leads: list) -> None:
    """Each row's choice labels, looked up once per page: get_FOO_display() rebuilds its
    choices for every call, a good part of the page's time at 50 rows."""
    # Translated once here: each lazy label would look its translation up again in every row.
    stages, channels, temperatures, short = (
        {value: str(label) for value, label in labels}
        for labels in (Stage.choices, Channel.choices, Temperature.choices, STAGE_SHORT.items())
    )
    for lead in leads:
        lead.stage_label = stages.get(lead.stage, lead.stage)
        lead.stage_short = short.get(lead.stage, lead.stage)
        lead.channel_label = channels.get(lead.source_channel, lead.source_channel)
        lead.temperature_label = temperatures.get(lead.temperature, lead.temperature)


@dataclass(frozen=True)
class HeaderCell:
    key: str
    label: str
    # The address a click on the header goes to, and how the column sorts now (for aria-sort).
    query: str | None
    sorted: str  # "ascending", "descending" or ""


def _header(columns: list[str], params, sort: str) -> list[HeaderCell]:
    cells = []
    for key in columns:
        column = COLUMNS[key]
        query, state = None, ""
        if column.sorts:
            following = (
                column.sorts[1] if sort == column.sorts[0] and len(column.sorts) > 1 else None
            )
            target = following or column.sorts[0]
            changed = params.copy()
            changed.pop("cursor", None)
            changed["sort"] = target
            query = changed.urlencode()
            if sort in column.sorts:
                state = "ascending" if sort in ASCENDING_SORTS else "descending"
        cells.append(HeaderCell(key, str(column.label), query, state))
    return cells


def _active_view(request: HttpRequest, saved: list, built_in: list) -> tuple[str, object]:
    """Which view the list shows now: ("saved", view) when ?view= names one the user may open,
    else the built-in view whose filters equal the current ones, else ("", None)."""
    current = list_services.clean_view_query(request.GET.urlencode())
    requested = request.GET.get("view", "")
    for view in saved:
        if str(view.pk) == requested:
            return "saved", view
    for view in built_in:
        if list_services.clean_view_query(view.query) == current:
            return "built_in", view
    return "", None


@require_GET
@lead_permission("leads.view_lead")
def lead_list(request: HttpRequest) -> HttpResponse:
    user = request.user
    saved = selectors.saved_views(user=user)
    built_in = built_in_views(user)
    view_kind, view = _active_view(request, saved, built_in)
    columns = selectors.list_columns(user=user)
    if view_kind == "saved" and view.columns:
        columns = [key for key in COLUMNS if key in set(view.columns) | {"name"}]
    joins = joins_for(columns)

    filterset = LeadFilter(
        request.GET or None,
        queryset=selectors.lead_list(user=user, joins=joins, owner=request.GET.get("owner")),
        request=request,
    )
    filter_form = _filter_form(filterset)
    sort = request.GET.get("sort", DEFAULT_SORT)
    if sort not in SORTS:
        sort = DEFAULT_SORT
    # A filter that does not validate is reported, as the API's 400 does, never silently dropped.
    filter_invalid = filterset.is_bound and not filterset.is_valid()
    leads = filterset.queryset.none() if filter_invalid else filterset.qs
    page = selectors.lead_page(
        leads=leads,
        counted=None if filter_invalid else filterset.counted_qs,
        sort=SORTS[sort],
        cursor=request.GET.get("cursor"),
        size=PAGE_SIZE,
        search=None if filter_invalid else filterset.search_arms(),
    )

    _add_labels(page.leads)

    params = request.GET.copy()
    params.pop("cursor", None)
    filtered = any(
        value for key, value in request.GET.items() if key not in {"page", "sort", "view"}
    )
    context = {
        "filter_form": filter_form,
        "filter_invalid": filter_invalid,
        "page": page,
        "leads": page.leads,
        "sort": sort,
        "sorts": [(key, entry.label) for key, entry in SORTS.items()],
        "query_string": params.urlencode(),
        "filtered": filtered,
        "chips": _filter_chips(filterset, filter_form),
        "more_filters_active": sum(bool(request.GET.getlist(name)) for name in MORE_FILTERS),
        "default_sort": DEFAULT_SORT,
        "can_claim": can_claim_leads(user),
        "columns": columns,
        "labels": {key: str(column.label) for key, column in COLUMNS.items()},
        "show": set(columns),
        "header": _header(columns, params, sort),
        "all_columns": [(key, column.label) for key, column in COLUMNS.items()],
        "built_in_views": built_in,
        "saved_views": saved,
        "active_view": view,
        "active_view_kind": view_kind,
        "bulk": _bulk_choices(user),
    }
    template = "leads/_lead_results.html" if _htmx_fragment(request) else "leads/lead_list.html"
    response = render(request, template, context, status=400 if filter_invalid else 200)
    patch_vary_headers(response, ["HX-Request"])
    return response


# Stages the bulk action offers: moves a lead can make without a flow of its own (opportunity and
# customer need amounts) and without a policy check of its own (MQL → SQL is qualification).
BULK_STAGES = [Stage.MQL, Stage.NURTURE, Stage.DISQUALIFIED, Stage.UNQUALIFIED]


def _bulk_choices(user) -> dict:
    return {
        "assign": user.has_perm("leads.change_lead"),
        "owners": selectors.assignable_owners(for_user=user)
        if user.has_perm("leads.change_lead")
        else [],
        "stage": user.has_perm("leads.transition_lead"),
        "stages": [(stage.value, stage.label) for stage in BULK_STAGES],
    }


class BulkForm(forms.Form):
    ACTIONS = [("assign", "assign"), ("stage", "stage"), ("export", "export")]

    action = forms.ChoiceField(choices=ACTIONS)
    lead = forms.TypedMultipleChoiceField(coerce=int, required=False)
    owner = OwnerChoiceField(queryset=None, required=False)
    to_stage = forms.ChoiceField(choices=[(s.value, s.label) for s in BULK_STAGES], required=False)
    reason = forms.CharField(required=False, max_length=2000)

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["owner"].queryset = selectors.assignable_owners(for_user=user)
        # Any whole numbers: which of them the user may touch is the service's question.
        self.fields["lead"].valid_value = lambda value: str(value).isdecimal()


EXPORT_FIELDS = [
    ("id", "ID"),
    ("email", _("E-mail")),
    ("first_name", _("First name")),
    ("last_name", _("Last name")),
    ("company", _("Company")),
    ("job_title", _("Job title")),
    ("stage", _("Stage")),
    ("owner", _("Owner")),
    ("grade", _("Grade")),
    ("behaviour_score", _("Score")),
    ("rank", _("Rank")),
    ("temperature", _("Temperature")),
    ("source_channel", _("Channel")),
    ("created_at", _("Created")),
]


def _export(request: HttpRequest, lead_ids: list[int]) -> HttpResponse:
    leads = (
        selectors.lead_list(user=request.user, joins=("company", "owner", "score"))
        .filter(pk__in=lead_ids)
        .order_by("pk")
    )
    stamp = timezone.localtime().strftime("%Y-%m-%d-%H%M")
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="leads-{stamp}.csv"'
    writer = csv.writer(response)
    writer.writerow([str(label) for _key, label in EXPORT_FIELDS])
    for lead in leads:
        writer.writerow(
            [
                lead.pk,
                lead.email,
                lead.first_name,
                lead.last_name,
                lead.company.name if lead.company else "",
                lead.job_title,
                lead.get_stage_display(),
                owner_label(lead.owner) if lead.owner else "",
                lead.grade,
                round(lead.score.behaviour_score, 2),
                lead.rank,
                lead.get_temperature_display(),
                lead.get_source_channel_display(),
                timezone.localtime(lead.created_at).isoformat(timespec="seconds"),
            ]
        )
    return response


@require_POST
@lead_permission("leads.view_lead")
def lead_bulk(request: HttpRequest) -> HttpResponse:
    back = _next_url(request, default=reverse("leads:list"))
    form = BulkForm(request.POST, user=request.user)
    if not form.is_valid():
        messages.error(request, " ".join(str(e) for errors in form.errors.values() for e in errors))
        return redirect(back)
    data = form.cleaned_data
    action, lead_ids = data["action"], data["lead"]
    try:
        if action == "export":
            list_services.check_selection(lead_ids)
            return _export(request, lead_ids)
        if action == "assign":
            if not request.user.has_perm("leads.change_lead"):
                raise PermissionDenied
            changed = list_services.leads_assign(
                lead_ids=lead_ids, owner=data["owner"], by_user=request.user
            )
            messages.success(
                request,
                ngettext(
                    "%(count)d lead assigned to %(owner)s.",
                    "%(count)d leads assigned to %(owner)s.",
                    changed,
                )
                % {
                    "count": changed,
                    "owner": owner_label(data["owner"]) if data["owner"] else _("nobody"),
                },
            )
            return redirect(back)
        if not request.user.has_perm("leads.transition_lead"):
            raise PermissionDenied
        if not data["to_stage"]:
            raise ValidationError({"to_stage": _("Choose the stage to move the leads to.")})
        result = list_services.leads_transition(
            lead_ids=lead_ids,
            to_stage=data["to_stage"],
            by_user=request.user,
            reason=data["reason"],
        )
    except LeadChangedMeanwhile:
        messages.error(
            request, _("A selected lead was reassigned or deleted meanwhile; nothing was changed.")
        )
        return redirect(back)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
        return redirect(back)
    stage = dict(Stage.choices)[data["to_stage"]]
    messages.success(
        request,
        ngettext(
            "%(count)d lead moved to “%(stage)s”.",
            "%(count)d leads moved to “%(stage)s”.",
            result.moved,
        )
        % {"count": result.moved, "stage": stage},
    )
    if result.skipped:
        reasons = sorted(set(result.skipped.values()))
        messages.warning(
            request,
            ngettext(
                "%(count)d lead stayed where it was: %(reasons)s",
                "%(count)d leads stayed where they were: %(reasons)s",
                len(result.skipped),
            )
            % {"count": len(result.skipped), "reasons": " ".join(reasons)},
        )
    return redirect(back)


@require_POST
@lead_permission("leads.view_lead")
def lead_list_columns(request: HttpRequest) -> HttpResponse:
    list_services.list_columns_set(user=request.user, columns=request.POST.getlist("column"))
    # Back to the same list, no longer through a saved view, whose own columns would hide the
    # choice just made.
    back = urlsplit(_next_url(request, default=reverse("leads:list")))
    query = QueryDict(back.query, mutable=True)
    query.pop("view", None)
    return redirect(f"{back.path}?{query.urlencode()}" if query else back.path)


class SavedViewForm(forms.Form):
    name = forms.CharField(max_length=80)
    query = forms.CharField(required=False, max_length=2000)
    shared = forms.BooleanField(required=False)


@require_POST
@lead_permission("leads.view_lead")
def saved_view_create(request: HttpRequest) -> HttpResponse:
    form = SavedViewForm(request.POST)
    back = _next_url(request, default=reverse("leads:list"))
    if not form.is_valid():
        messages.error(request, _("Give the view a name (up to 80 characters)."))
        return redirect(back)
    try:
        view = list_services.saved_view_save(
            owner=request.user,
            name=form.cleaned_data["name"],
            query=form.cleaned_data["query"],
            columns=selectors.list_columns(user=request.user),
            shared=form.cleaned_data["shared"],
        )
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
        return redirect(back)
    messages.success(request, _("View “%(name)s” saved.") % {"name": view.name})
    address = reverse("leads:list")
    return redirect(
        f"{address}?{view.query}&view={view.pk}" if view.query else f"{address}?view={view.pk}"
    )


@require_POST
@lead_permission("leads.view_lead")
def saved_view_delete(request: HttpRequest, pk: int) -> HttpResponse:
    try:
        list_services.saved_view_delete(view_id=pk, by_user=request.user)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, _("View deleted."))
    return redirect("leads:list")
