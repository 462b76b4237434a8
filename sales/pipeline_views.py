"""The opportunity pipeline in the browser: converting an SQL, the board, moving, winning and
losing an opportunity."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from leadcrm.exceptions import Conflict
from leads.exceptions import LeadChangedMeanwhile, TransitionNotAllowed
from leads.forms import add_service_error
from leads.lifecycle import Stage
from leads.models import Opportunity, PipelineStage
from leads.selectors import assignable_owners, lead_visible_to
from sales import pipeline, selectors
from sales.forms import ConvertForm, LoseForm, WinForm

REFUSED = (LeadChangedMeanwhile, TransitionNotAllowed, Conflict, PermissionDenied)


@login_required
@permission_required("leads.view_opportunity", raise_exception=True)
@require_GET
def board(request: HttpRequest) -> HttpResponse:
    owners = list(assignable_owners(for_user=request.user))
    owner_id = request.GET.get("owner", "")
    owner = next((user for user in owners if str(user.pk) == owner_id), None)
    columns = selectors.pipeline_board(user=request.user, owner_id=owner.pk if owner else None)
    return render(
        request,
        "sales/pipeline.html",
        {
            "columns": columns,
            "stages": [column.stage for column in columns],
            "owners": owners if len(owners) > 1 else [],
            "owner": owner,
            "may_change": request.user.has_perm("leads.change_opportunity"),
        },
    )


@login_required
@permission_required("leads.add_opportunity", raise_exception=True)
@require_http_methods(["GET", "POST"])
def convert(request: HttpRequest, pk: int) -> HttpResponse:
    lead = get_object_or_404(lead_visible_to(request.user).select_related("company"), pk=pk)
    if lead.stage != Stage.SQL:
        messages.error(request, _("Only a sales-qualified lead becomes an opportunity."))
        return redirect("leads:detail", pk=lead.pk)
    form = ConvertForm(request.POST or None, initial={"name": lead.company or lead.full_name})
    if form.is_valid():
        try:
            pipeline.opportunity_convert(lead_id=lead.pk, by_user=request.user, **form.cleaned_data)
        except ValidationError as exc:
            add_service_error(form, exc)
        except REFUSED as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(request, _("“%(lead)s” is now an opportunity.") % {"lead": lead})
            return redirect("sales:pipeline")
    status = 400 if form.is_bound else 200
    return render(request, "sales/convert.html", {"lead": lead, "form": form}, status=status)


def _open_opportunity(request: HttpRequest, pk: int) -> Opportunity:
    return get_object_or_404(
        Opportunity.objects.select_related("lead", "pipeline_stage").filter(
            lead__in=lead_visible_to(request.user)
        ),
        pk=pk,
    )


@login_required
@permission_required("leads.change_opportunity", raise_exception=True)
@require_POST
def move(request: HttpRequest, pk: int) -> HttpResponse:
    """From the board: the step chosen in the card's menu, or where the card was dropped (the
    script then gets a 204 and reloads the board, totals and all)."""
    opportunity = _open_opportunity(request, pk)
    stage = PipelineStage.objects.filter(pk=request.POST.get("stage") or 0).first()
    try:
        pipeline.opportunity_move(
            opportunity_id=opportunity.pk, stage_id=stage.pk if stage else 0, by_user=request.user
        )
    except (ValidationError, *REFUSED) as exc:
        message = "; ".join(exc.messages) if isinstance(exc, ValidationError) else str(exc)
        if request.headers.get("X-Requested-With") == "fetch":
            return HttpResponse(message, status=400, content_type="text/plain; charset=utf-8")
        messages.error(request, message)
        return redirect("sales:pipeline")
    if request.headers.get("X-Requested-With") == "fetch":
        return HttpResponse(status=204)
    messages.success(
        request,
        _("“%(name)s” moved to %(stage)s.") % {"name": opportunity.name, "stage": stage.label},
    )
    return redirect(f"{reverse('sales:pipeline')}#opportunity-{opportunity.pk}")


@login_required
@permission_required("leads.change_opportunity", raise_exception=True)
@require_http_methods(["GET", "POST"])
def close(request: HttpRequest, pk: int) -> HttpResponse:
    opportunity = _open_opportunity(request, pk)
    outcome = request.POST.get("outcome") or request.GET.get("outcome", "won")
    win_form = WinForm(
        request.POST if outcome == "won" and request.method == "POST" else None,
        initial={"amount": opportunity.amount, "gross_margin": opportunity.expected_margin},
    )
    lose_form = LoseForm(request.POST if outcome == "lost" and request.method == "POST" else None)
    form = win_form if outcome == "won" else lose_form
    if request.method == "POST" and form.is_valid():
        try:
            if outcome == "won":
                pipeline.opportunity_win(
                    opportunity_id=opportunity.pk, by_user=request.user, **win_form.cleaned_data
                )
                message = _("Won: “%(name)s”. %(lead)s is a customer now.")
            else:
                pipeline.opportunity_lose(
                    opportunity_id=opportunity.pk,
                    by_user=request.user,
                    reason_id=lose_form.cleaned_data["lost_because"].pk,
                    note=lose_form.cleaned_data["note"],
                )
                message = _("Lost: “%(name)s”. %(lead)s goes back to nurture.")
        except ValidationError as exc:
            add_service_error(form, exc)
        except REFUSED as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(
                request, message % {"name": opportunity.name, "lead": opportunity.lead}
            )
            return redirect("sales:pipeline")
    context = {
        "opportunity": opportunity,
        "outcome": outcome,
        "win_form": win_form,
        "lose_form": lose_form,
    }
    status = 400 if request.method == "POST" else 200
    return render(request, "sales/close_opportunity.html", context, status=status)
