"""The lead lifecycle: stages and the one table of allowed transitions."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class Stage(models.TextChoices):
    UNQUALIFIED = "unqualified", _("Unqualified")
    MQL = "mql", _("Marketing-qualified (MQL)")
    SQL = "sql", _("Sales-qualified (SQL)")
    OPPORTUNITY = "opportunity", _("Opportunity")
    CUSTOMER = "customer", _("Customer")
    NURTURE = "nurture", _("Nurture")
    DISQUALIFIED = "disqualified", _("Disqualified")


# The funnel order, used by reports and the stage filter; side exits come last.
FUNNEL = [Stage.UNQUALIFIED, Stage.MQL, Stage.SQL, Stage.OPPORTUNITY, Stage.CUSTOMER]

ALLOWED_TRANSITIONS: dict[str, frozenset[str]] = {
    Stage.UNQUALIFIED: frozenset({Stage.MQL, Stage.NURTURE, Stage.DISQUALIFIED}),
    # Sales accepts an MQL (-> SQL) or rejects it (-> nurture, with a reason).
    Stage.MQL: frozenset({Stage.SQL, Stage.NURTURE, Stage.DISQUALIFIED}),
    Stage.SQL: frozenset({Stage.OPPORTUNITY, Stage.NURTURE, Stage.DISQUALIFIED}),
    # A lost opportunity goes back to nurture; a won one makes a customer.
    Stage.OPPORTUNITY: frozenset({Stage.CUSTOMER, Stage.NURTURE, Stage.DISQUALIFIED}),
    Stage.CUSTOMER: frozenset(),
    # Recycled leads re-qualify as MQL when they engage again.
    Stage.NURTURE: frozenset({Stage.MQL, Stage.DISQUALIFIED}),
    # A disqualification made in error can be reopened.
    Stage.DISQUALIFIED: frozenset({Stage.UNQUALIFIED}),
}

# Moving a lead into these stages needs a reason, so the history explains the exit.
REASON_REQUIRED = frozenset({Stage.NURTURE, Stage.DISQUALIFIED})

# Sales works these stages: a lead in them always has an owner (service check and DB constraint).
OWNER_REQUIRED = frozenset({Stage.SQL, Stage.OPPORTUNITY})


# The moves from each stage in the order of Stage: every lead of an API page lists its own.
_NEXT_STAGES: dict[str, tuple[str, ...]] = {
    stage: tuple(s.value for s in Stage if s in allowed)
    for stage, allowed in ALLOWED_TRANSITIONS.items()
}


def allowed_next_stages(stage: str) -> list[str]:
    """The stages a lead in ``stage`` may move to, in the order of Stage."""
    return list(_NEXT_STAGES[stage])


def is_allowed(from_stage: str, to_stage: str) -> bool:
    return to_stage in ALLOWED_TRANSITIONS.get(from_stage, frozenset())


# Stages an upper app moves leads into through a flow of its own, because the move needs more
# than a stage (sales: an opportunity needs an amount; a customer the amount won). The generic
# stage form and transition API leave these moves to that flow; the service allows them (the
# flow calls it). Registered in the upper app's AppConfig.ready(): stage -> how to do it.
_managed: dict[str, object] = {}


def manage_stage(stage: str, *, how: object) -> None:
    _managed[stage] = how


def stage_managed_elsewhere(to_stage: str) -> str | None:
    """How an upper app's flow moves leads into ``to_stage``, if one does."""
    how = _managed.get(to_stage)
    return None if how is None else str(how)


def managed_elsewhere(from_stage: str, to_stage: str) -> str | None:
    """How to make an allowed move that an upper app's flow makes, else None."""
    return stage_managed_elsewhere(to_stage) if is_allowed(from_stage, to_stage) else None


def offered_next_stages(stage: str) -> list[str]:
    """The moves the generic stage form offers: the allowed ones no upper app's flow makes."""
    return [s for s in allowed_next_stages(stage) if s not in _managed]
