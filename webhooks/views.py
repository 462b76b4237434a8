"""Browser pages for webhooks, for admins only: thin views over the selectors and services."""

import json
from collections.abc import Callable
from functools import wraps

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from leadcrm.roles import Role, has_role
from leads.forms import add_service_error
from webhooks import selectors, services, tasks
from webhooks.filters import DeliveryFilter
from webhooks.forms import EndpointForm
from webhooks.models import WebhookDelivery, WebhookEndpoint

PAGE_SIZE = 50


def admin_only(view: Callable) -> Callable:
    """Sign-in first (anonymous users go to the login page), then the admin role, else 403."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        if not has_role(request.user, Role.ADMIN):
            raise PermissionDenied
        return view(request, *args, **kwargs)

    return login_required(wrapper)


def _enqueue(delivery: WebhookDelivery) -> None:
    transaction.on_commit(lambda: tasks.webhook_deliver.delay(delivery.pk))


@require_GET
@admin_only
def endpoint_list(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "webhooks/endpoint_list.html",
        {"endpoints": selectors.endpoint_list(), "statuses": WebhookDelivery.Status.choices},
    )


def _form_page(request: HttpRequest, form: EndpointForm, endpoint=None, status=200) -> HttpResponse:
    return render(
        request, "webhooks/endpoint_form.html", {"form": form, "endpoint": endpoint}, status=status
    )


@require_http_methods(["GET", "POST"])
@admin_only
def endpoint_create(request: HttpRequest) -> HttpResponse:
    form = EndpointForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            endpoint = services.webhook_endpoint_create(by_user=request.user, **form.cleaned_data)
        except ValidationError as exc:
            add_service_error(form, exc)
        else:
            messages.success(
                request,
                _("Webhook registered. Copy its signing secret into the receiving system."),
            )
            return redirect("webhooks:detail", pk=endpoint.pk)
    return _form_page(request, form, status=400 if request.method == "POST" else 200)


@require_http_methods(["GET", "POST"])
@admin_only
def endpoint_edit(request: HttpRequest, pk: int) -> HttpResponse:
    endpoint = get_object_or_404(WebhookEndpoint, pk=pk)
    initial = {
        "url": endpoint.url,
        "description": endpoint.description,
        "events": endpoint.events,
        "is_active": endpoint.is_active,
    }
    form = EndpointForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            services.webhook_endpoint_update(endpoint_id=endpoint.pk, **form.cleaned_data)
        except ValidationError as exc:
            add_service_error(form, exc)
        else:
            messages.success(request, _("Webhook saved."))
            return redirect("webhooks:detail", pk=endpoint.pk)
    return _form_page(request, form, endpoint, status=400 if request.method == "POST" else 200)


@require_GET
@admin_only
def endpoint_detail(request: HttpRequest, pk: int) -> HttpResponse:
    endpoint = get_object_or_404(WebhookEndpoint, pk=pk)
    return render(
        request,
        "webhooks/endpoint_detail.html",
        {
            "endpoint": endpoint,
            "deliveries": selectors.endpoint_recent_deliveries(endpoint=endpoint),
            "signature_header": services.SIGNATURE_HEADER,
        },
    )


@require_POST
@admin_only
def endpoint_test(request: HttpRequest, pk: int) -> HttpResponse:
    endpoint = get_object_or_404(WebhookEndpoint, pk=pk)
    _enqueue(services.webhook_test_create(endpoint_id=endpoint.pk))
    messages.success(request, _("Test event queued; its delivery appears below."))
    return redirect("webhooks:detail", pk=endpoint.pk)


@require_POST
@admin_only
def endpoint_rotate_secret(request: HttpRequest, pk: int) -> HttpResponse:
    endpoint = get_object_or_404(WebhookEndpoint, pk=pk)
    services.webhook_endpoint_rotate_secret(endpoint_id=endpoint.pk)
    messages.success(
        request, _("New signing secret made. Update the receiving system: the old one is void.")
    )
    return redirect("webhooks:detail", pk=endpoint.pk)


@require_http_methods(["GET", "POST"])
@admin_only
def endpoint_delete(request: HttpRequest, pk: int) -> HttpResponse:
    endpoint = get_object_or_404(WebhookEndpoint, pk=pk)
    if request.method == "POST":
        services.webhook_endpoint_delete(endpoint_id=endpoint.pk)
        messages.success(request, _("Webhook deleted."))
        return redirect("webhooks:list")
    return render(request, "webhooks/endpoint_confirm_delete.html", {"endpoint": endpoint})


@require_GET
@admin_only
def delivery_list(request: HttpRequest) -> HttpResponse:
    filterset = DeliveryFilter(request.GET or None, queryset=selectors.delivery_list())
    invalid = filterset.is_bound and not filterset.is_valid()
    deliveries = filterset.queryset.none() if invalid else filterset.qs
    page = Paginator(deliveries, PAGE_SIZE).get_page(request.GET.get("page"))
    params = request.GET.copy()
    params.pop("page", None)
    return render(
        request,
        "webhooks/delivery_list.html",
        {
            "filter_form": filterset.form,
            "filter_invalid": invalid,
            "page": page,
            "deliveries": page.object_list,
            "query_string": params.urlencode(),
        },
        status=400 if invalid else 200,
    )


@require_GET
@admin_only
def delivery_detail(request: HttpRequest, pk: int) -> HttpResponse:
    delivery = get_object_or_404(WebhookDelivery.objects.select_related("endpoint"), pk=pk)
    return render(
        request,
        "webhooks/delivery_detail.html",
        {
            "delivery": delivery,
            "payload_json": json.dumps(delivery.payload, indent=2, ensure_ascii=False),
        },
    )


@require_POST
@admin_only
def delivery_redeliver(request: HttpRequest, pk: int) -> HttpResponse:
    original = get_object_or_404(WebhookDelivery, pk=pk)
    delivery = services.webhook_redeliver(delivery_id=original.pk)
    _enqueue(delivery)
    messages.success(request, _("Event queued for delivery again."))
    return redirect("webhooks:delivery", pk=delivery.pk)
