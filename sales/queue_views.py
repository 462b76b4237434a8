"""The rep's queue (a rep's home page) and its bulk actions. Thin views: reads through
sales.queue and sales.selectors, writes through the services."""

from datetime import datetime, time, timedelta

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.cache import patch_vary_headers
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from django.views.decorators.http import require_GET, require_POST

from leadcrm.exceptions import Conflict
from leads import list_services
from leads.exceptions import LeadChangedMeanwhile
from leads.lifecycle import Stage
from leads.models import Temperature
from leads.selectors import assignable_owners, lead_page
from leads.views import _next_url
from sales import services
from sales.assignment import leads_reassign, may_reassign
from sales.queue import QUEUE_PAGE_SIZE, QUEUE_SORT, queue_leads
from sales.selectors import SlaState, team_load
from sales.views import _is_htmx, sales_permission


class QueueFilter(forms.Form):
    owner = forms.IntegerField(required=False, min_value=1)
    stage = forms.ChoiceField(
        required=False,
        choices=[("", gettext_lazy("MQLs and SQLs")), (Stage.MQL, "MQL"), (Stage.SQL, "SQL")],
        label=gettext_lazy("Stage"),
    )
    temperature = forms.ChoiceField(
        required=False,
        choices=[("", gettext_lazy("All")), *Temperature.choices],
        label=gettext_lazy("Temperature"),
    )
    overdue = forms.BooleanField(required=False, label=gettext_lazy("Only overdue"))


def _owner(request: HttpRequest, wanted: int | None):
    """Whose queue: one's own, or for managers and admins (who reassign leads) the rep they
    chose (None: the team)."""
    manager = may_reassign(request.user)
    if wanted and wanted != request.user.pk:
        if not manager:
            raise PermissionDenied
        return get_user_model().objects.filter(pk=wanted, is_active=True).first()
    if manager and not wanted:
        return None
    return request.user


@require_GET
@sales_permission("leads.view_lead")
def queue(request: HttpRequest) -> HttpResponse:
    form = QueueFilter(request.GET)
    filters = form.cleaned_data if form.is_valid() else {}
    manager = may_reassign(request.user)
    load = team_load(request.user) if manager else []
    owner = _owner(request, filters.get("owner"))
    # A manager's own queue is the team's: every rep of the teams they manage, and their own.
    owner_ids = [owner.pk] if owner else [rep.user_id for rep in load] + [request.user.pk]
    leads = queue_leads(
        user=request.user,
        owner_ids=owner_ids,
        stage=filters.get("stage", ""),
        temperature=filters.get("temperature", ""),
        overdue_only=bool(filters.get("overdue")),
    )
    page = lead_page(
        leads=leads,
        sort=QUEUE_SORT,
        cursor=request.GET.get("cursor"),
        size=QUEUE_PAGE_SIZE,
        counted=leads.values("pk"),
    )
    params = request.GET.copy()
    params.pop("cursor", None)
    context = {
        "form": form,
        "owner": owner,
        "own_queue": owner is not None and owner.pk == request.user.pk,
        "team_queue": owner is None,
        "page": page,
        "leads": page.leads,
        "query_string": params.urlencode(),
        "overdue_state": SlaState.OVERDUE,
        "load": load,
        "manager": manager,
        "may_reassign": manager,
        "owners": assignable_owners(for_user=request.user) if manager else [],
        "today": timezone.localdate(),
        "refresh_seconds": settings.LEADCRM_QUEUE_REFRESH_SECONDS,
    }
    template = "sales/_queue_results.html" if _is_htmx(request) else "sales/queue.html"
    response = render(request, template, context)
    patch_vary_headers(response, ["HX-Request"])
    return response


class QueueBulkForm(forms.Form):
    action = forms.ChoiceField(choices=[("reassign", ""), ("nurture", ""), ("task", "")])
    lead = forms.TypedMultipleChoiceField(coerce=int, required=False)
    to_user = forms.ModelChoiceField(queryset=get_user_model().objects.none(), required=False)
    reason = forms.CharField(required=False, max_length=2000)
    subject = forms.CharField(required=False, max_length=200)
    due_on = forms.DateField(required=False)

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["to_user"].queryset = assignable_owners(for_user=user)
        self.fields["lead"].valid_value = lambda value: str(value).isdecimal()


def _due_at(day) -> datetime:
    """A task due "on" a day is due at the end of that working day (17:00 local time)."""
    return timezone.make_aware(datetime.combine(day, time(17)))


@require_POST
@sales_permission("leads.view_lead")
def queue_bulk(request: HttpRequest) -> HttpResponse:
    back = _next_url(request, default=reverse("sales:queue"))
    form = QueueBulkForm(request.POST, user=request.user)
    if not form.is_valid():
        messages.error(request, _("Choose an action and at least one lead."))
        return redirect(back)
    data = form.cleaned_data
    lead_ids = data["lead"]
    try:
        list_services.check_selection(lead_ids)
        if data["action"] == "reassign":
            if data["to_user"] is None:
                raise ValidationError({"to_user": _("Choose who gets the leads.")})
            done = len(
                leads_reassign(lead_ids=lead_ids, to_user=data["to_user"], by_user=request.user)
            )
            message = ngettext(
                "%(count)d lead reassigned.", "%(count)d leads reassigned.", done
            ) % {"count": done}
        elif data["action"] == "nurture":
            if not request.user.has_perm("leads.transition_lead"):
                raise PermissionDenied
            result = list_services.leads_transition(
                lead_ids=lead_ids,
                to_stage=Stage.NURTURE,
                by_user=request.user,
                reason=data["reason"],
            )
            done = result.moved
            message = ngettext(
                "%(count)d lead moved to nurture.", "%(count)d leads moved to nurture.", done
            ) % {"count": done}
            if result.skipped:
                messages.warning(request, " ".join(sorted(set(result.skipped.values()))))
        else:
            if not request.user.has_perm("leads.add_activity"):
                raise PermissionDenied
            if not data["subject"].strip():
                raise ValidationError({"subject": _("Say what the task is.")})
            due = _due_at(data["due_on"] or timezone.localdate() + timedelta(days=1))
            with transaction.atomic():  # a task for every selected lead, or for none
                for lead_id in sorted(set(lead_ids)):
                    services.task_create(
                        lead_id=lead_id, by_user=request.user, subject=data["subject"], due_at=due
                    )
            done = len(set(lead_ids))
            message = ngettext("%(count)d task created.", "%(count)d tasks created.", done) % {
                "count": done
            }
    except (LeadChangedMeanwhile, Conflict) as exc:
        messages.error(request, str(exc))
        return redirect(back)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
        return redirect(back)
    messages.success(request, message)
    return redirect(back)
