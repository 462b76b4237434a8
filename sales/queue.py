"""Reads for a sales rep's queue: their new MQLs and their SQLs, best rank first (then the newest),
with what a rep
decides on (traffic light, SLA, last activity, next task), one query per page."""

from django.contrib.auth.models import AbstractBaseUser
from django.db.models import F, OuterRef, QuerySet, Subquery
from django.utils.translation import gettext_lazy as _

from leadcrm.roles import sees_all_leads
from leads.lifecycle import Stage
from leads.listing import Key, Phase, Sort
from leads.models import Activity, Lead
from leads.selectors import lead_visible_to
from sales.selectors import SlaState, leads_with_sla

QUEUE_STAGES = (Stage.MQL, Stage.SQL)
QUEUE_PAGE_SIZE = 50

# The lead list's "Best rank" (A1 first, then the newest), read for one owner in order from the
# lead_owner_rank index (docs/benchmarks.md, "The rep's queue").
QUEUE_SORT = Sort(
    _("Best rank"),
    (
        Phase(
            (
                Key("k_rank_order", F("rank_order"), "int"),
                Key("k_created_at", F("created_at"), "datetime"),
                Key("k_id", F("id"), "int"),
            )
        ),
    ),
    descending=True,
)


def queue_leads(
    *,
    user: AbstractBaseUser,
    owner_ids: list[int],
    stage: str = "",
    temperature: str = "",
    overdue_only: bool = False,
) -> QuerySet[Lead]:
    """The open MQLs and SQLs of the ``owner_ids`` that ``user`` may see, with ``sla_state``,
    ``sla_due_at``, ``last_activity_at``, ``next_task_due`` and ``next_task_subject``."""
    if sees_all_leads(user) or set(owner_ids) == {user.pk}:
        # Each of these leads is visible to the user already (their own, or they see all):
        # without lead_visible_to's OR the planner reads one page from lead_owner_rank.
        leads = Lead.objects.all()
    else:
        leads = lead_visible_to(user)
    if len(owner_ids) == 1:
        leads = leads.filter(owner_id=owner_ids[0], stage__in=QUEUE_STAGES)
    else:
        leads = leads.filter(owner_id__in=owner_ids, stage__in=QUEUE_STAGES)
    if stage in QUEUE_STAGES:
        leads = leads.filter(stage=stage)
    if temperature:
        leads = leads.filter(temperature=temperature)
    latest = Activity.objects.filter(lead=OuterRef("pk")).order_by("-created_at", "-id")
    open_tasks = Activity.objects.filter(
        lead=OuterRef("pk"), kind=Activity.Kind.TASK, done_at__isnull=True
    ).order_by("due_at", "id")
    leads = leads_with_sla(leads.select_related("company", "owner")).annotate(
        last_activity_at=Subquery(latest.values("created_at")[:1]),
        next_task_due=Subquery(open_tasks.values("due_at")[:1]),
        next_task_subject=Subquery(open_tasks.values("subject")[:1]),
    )
    if overdue_only:
        leads = leads.filter(sla_state=SlaState.OVERDUE)
    return leads
