from django.db.models import QuerySet

from capture.models import TrackingRule


def tracking_rules() -> QuerySet[TrackingRule]:
    """In the order they are checked: the first whose pattern matches wins."""
    return TrackingRule.objects.order_by("position", "id")
