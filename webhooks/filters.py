import django_filters
from django.utils.translation import gettext_lazy as _

from webhooks.models import TEST_EVENT, EventType, WebhookDelivery, WebhookEndpoint


def event_type_choices() -> list[tuple[str, str]]:
    return [*EventType.choices, (TEST_EVENT, _("Test event"))]


class DeliveryFilter(django_filters.FilterSet):
    endpoint = django_filters.ModelChoiceFilter(
        queryset=WebhookEndpoint.objects.order_by("url", "id"),
        label=_("Endpoint"),
        empty_label=_("All"),
    )
    status = django_filters.ChoiceFilter(
        choices=WebhookDelivery.Status.choices, label=_("Status"), empty_label=_("All")
    )
    event_type = django_filters.ChoiceFilter(
        choices=event_type_choices, label=_("Event"), empty_label=_("All")
    )
    event_id = django_filters.UUIDFilter(label=_("Event id"))

    class Meta:
        model = WebhookDelivery
        fields = ["endpoint", "status", "event_type", "event_id"]
