"""Campaign pages for marketers: list with budget vs spend, create and edit, costs (one-off, per
period, CSV import). Thin: forms check input, reporting.services writes."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from leads.forms import add_service_error
from leads.models import Campaign
from reporting import selectors, services
from reporting.forms import CampaignForm, CostForm, CostImportForm, ExchangeRateForm

# Larger files are not cost lists.
IMPORT_MAX_BYTES = 2 * 1024 * 1024


def _marketing(perm: str):
    def decorator(view):
        @login_required
        @permission_required(perm, raise_exception=True)
        def wrapper(request: HttpRequest, *args, **kwargs) -> HttpResponse:
            if not selectors.sees_everyones_figures(request.user):
                raise PermissionDenied
            return view(request, *args, **kwargs)

        return wrapper

    return decorator


@_marketing("leads.view_campaign")
def campaign_list(request: HttpRequest) -> HttpResponse:
    context = {"can_add": request.user.has_perm("leads.add_campaign")}
    try:
        context["campaigns"] = [
            (campaign, selectors.Spend.of(campaign)) for campaign in selectors.campaign_list()
        ]
    except ValidationError as exc:
        context["campaigns"] = [(campaign, None) for campaign in Campaign.objects.order_by("name")]
        context["report_error"] = " ".join(exc.messages)
    return render(request, "reporting/campaign_list.html", context)


def _campaign_form(request: HttpRequest, campaign: Campaign | None) -> HttpResponse:
    initial = {}
    if campaign:
        initial = {
            field: getattr(campaign, field)
            for field in (
                "name",
                "channel",
                "direction",
                "starts_on",
                "ends_on",
                "budget",
                "budget_currency",
            )
        }
    form = CampaignForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            if campaign is None:
                campaign = services.campaign_create(**form.cleaned_data)
                messages.success(request, _("Campaign “%(name)s” created.") % {"name": campaign})
            else:
                campaign = services.campaign_update(campaign_id=campaign.pk, **form.cleaned_data)
                messages.success(request, _("Campaign “%(name)s” saved.") % {"name": campaign})
            return redirect("campaigns:costs", pk=campaign.pk)
        except ValidationError as exc:
            add_service_error(form, exc)
    status = 400 if request.method == "POST" else 200
    return render(
        request,
        "reporting/campaign_form.html",
        {"form": form, "campaign": campaign},
        status=status,
    )


@require_http_methods(["GET", "POST"])
@_marketing("leads.add_campaign")
def campaign_create(request: HttpRequest) -> HttpResponse:
    return _campaign_form(request, None)


@require_http_methods(["GET", "POST"])
@_marketing("leads.change_campaign")
def campaign_edit(request: HttpRequest, pk: int) -> HttpResponse:
    return _campaign_form(request, get_object_or_404(Campaign, pk=pk))


def _costs_page(request, campaign, *, cost_form=None, import_form=None, errors=(), status=200):
    context = {
        "campaign": campaign,
        "costs": selectors.campaign_costs(campaign_id=campaign.pk)[:200],
        "cost_form": cost_form or CostForm(),
        "import_form": import_form or CostImportForm(),
        "import_errors": list(errors),
        "can_add": request.user.has_perm("leads.add_campaigncost"),
    }
    try:
        context["spend"] = selectors.campaign_spend(campaign_id=campaign.pk)
    except ValidationError as exc:
        context["report_error"] = " ".join(exc.messages)
    return render(request, "reporting/campaign_costs.html", context, status=status)


@_marketing("leads.view_campaigncost")
def campaign_costs(request: HttpRequest, pk: int) -> HttpResponse:
    return _costs_page(request, get_object_or_404(Campaign, pk=pk))


@require_POST
@_marketing("leads.add_campaigncost")
def cost_add(request: HttpRequest, pk: int) -> HttpResponse:
    campaign = get_object_or_404(Campaign, pk=pk)
    form = CostForm(request.POST)
    if form.is_valid():
        try:
            rows = services.cost_add(campaign_id=campaign.pk, **form.cleaned_data)
        except ValidationError as exc:
            add_service_error(form, exc)
        else:
            messages.success(
                request,
                _("Cost saved (%(count)d entries).") % {"count": len(rows)},
            )
            return redirect("campaigns:costs", pk=campaign.pk)
    return _costs_page(request, campaign, cost_form=form, status=400)


@require_POST
@_marketing("leads.delete_campaigncost")
def cost_delete(request: HttpRequest, pk: int, cost_pk: int) -> HttpResponse:
    campaign = get_object_or_404(Campaign, pk=pk)
    services.cost_delete(cost_id=cost_pk, campaign_id=campaign.pk)
    messages.success(request, _("Cost deleted."))
    return redirect("campaigns:costs", pk=campaign.pk)


@require_POST
@_marketing("leads.add_campaigncost")
def cost_import(request: HttpRequest, pk: int) -> HttpResponse:
    campaign = get_object_or_404(Campaign, pk=pk)
    form = CostImportForm(request.POST, request.FILES)
    errors: list[str] = []
    if form.is_valid():
        upload = form.cleaned_data["file"]
        if upload.size > IMPORT_MAX_BYTES:
            errors = [_("The file is larger than 2 MB.")]
        else:
            raw = upload.read()
            try:
                text = raw.decode("utf-8-sig")
            except UnicodeDecodeError:
                text = raw.decode("cp1252", errors="replace")
            result = services.costs_import_csv(text=text)
            errors = result.errors
            if not errors:
                messages.success(
                    request, _("%(count)d costs imported.") % {"count": result.created}
                )
                return redirect("campaigns:costs", pk=campaign.pk)
    return _costs_page(request, campaign, import_form=form, errors=errors, status=400)


@require_http_methods(["GET", "POST"])
@_marketing("reporting.view_exchangerate")
def exchange_rates(request: HttpRequest) -> HttpResponse:
    """The rates reports convert other currencies to euros with; marketers and admins keep them."""
    can_change = request.user.has_perm("reporting.add_exchangerate") and request.user.has_perm(
        "reporting.change_exchangerate"
    )
    form = ExchangeRateForm(request.POST or None)
    status = 200
    if request.method == "POST":
        if not can_change:
            raise PermissionDenied
        if form.is_valid():
            try:
                rate = services.exchange_rate_set(**form.cleaned_data, by_user=request.user)
            except ValidationError as exc:
                add_service_error(form, exc)
            else:
                messages.success(request, _("Saved: %(rate)s.") % {"rate": rate})
                return redirect("campaigns:rates")
        status = 400
    context = {
        "form": form,
        "rates": selectors.exchange_rates(),
        "missing": selectors.currencies_without_rate(),
        "can_change": can_change,
    }
    return render(request, "reporting/exchange_rates.html", context, status=status)
