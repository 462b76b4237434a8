from django.utils.translation import gettext as _

from leadcrm.exceptions import Conflict
from leads.lifecycle import Stage


class TransitionNotAllowed(Conflict):
    """The lifecycle table forbids the move; carries what is allowed so callers can say so."""

    def __init__(self, *, from_stage: str, to_stage: str, allowed: list[str]) -> None:
        self.from_stage = from_stage
        self.to_stage = to_stage
        self.allowed = allowed
        labels = dict(Stage.choices)
        super().__init__(
            _("A lead in stage “%(from)s” cannot move to “%(to)s”.")
            % {"from": labels.get(from_stage, from_stage), "to": labels.get(to_stage, to_stage)},
            from_stage=from_stage,
            to_stage=to_stage,
            allowed=allowed,
        )


class LeadChangedMeanwhile(Conflict):
    """The lead was reassigned or deleted between the moment the user looked and the write."""

    def __init__(self, *, lead_id: int) -> None:
        super().__init__(
            _("This lead was reassigned or deleted in the meantime; reload and check."),
            lead_id=lead_id,
        )


class LeadAlreadyClaimed(Conflict):
    """Another rep claimed the MQL first, or it is no longer an unassigned MQL."""

    def __init__(self, *, lead_id: int) -> None:
        super().__init__(
            _("Someone else claimed this lead first, or it is no longer an unassigned MQL."),
            lead_id=lead_id,
        )


class StageManagedElsewhere(Conflict):
    """An allowed move that a flow of an upper app makes (``lifecycle.manage_stage``)."""

    def __init__(self, *, from_stage: str, to_stage: str, how: str, allowed: list[str]) -> None:
        super().__init__(how, from_stage=from_stage, to_stage=to_stage, allowed=allowed)
