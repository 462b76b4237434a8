from django.utils.translation import gettext as _

from leadcrm.exceptions import Conflict
from leads.lifecycle import Stage


class NotAnMql(Conflict):
    """Sales accepts or rejects marketing-qualified leads only; this one has moved on."""

    def __init__(self, *, lead_id: int, stage: str) -> None:
        super().__init__(
            _(
                "Only a marketing-qualified lead can be accepted or rejected; "
                "this one is “%(stage)s”."
            )
            % {"stage": dict(Stage.choices).get(stage, stage)},
            lead_id=lead_id,
            stage=stage,
        )


class ReasonInUse(Conflict):
    def __init__(self, *, reason_id: int, count: int) -> None:
        super().__init__(
            _("This reason is recorded on %(count)d rejections; deactivate it instead.")
            % {"count": count},
            reason_id=reason_id,
            count=count,
        )
