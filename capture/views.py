"""The public tracking endpoints (``/t/lc.js``, ``/t/e``) and the tracking settings pages."""

import hashlib
import json
import math
import time
from functools import cache
from pathlib import Path

from csp.decorators import csp_exempt
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods

from capture import selectors, services
from capture.buffer import get_buffer
from capture.forms import TrackingRuleForm
from capture.intake import BODY_MAX, parse_page_view
from capture.models import TrackingRule
from leadcrm.throttling import client_ip
from leads.forms import add_service_error
from leads.selectors import campaign_visitors

SCRIPT_PATH = Path(__file__).resolve().parent / "static" / "capture" / "lc.js"
YEAR = 365 * 24 * 3600
ACCEPTED_TYPES = ("text/plain", "application/json")


@cache
def tracking_script() -> tuple[bytes, str]:
    """The script and its version (a hash of its content): the embed snippet asks for
    ``/t/lc.js?v=<version>``, so a new script is a new URL and browsers fetch it."""
    body = SCRIPT_PATH.read_bytes()
    return body, hashlib.sha256(body).hexdigest()[:12]


@require_GET
def tracking_script_view(request: HttpRequest) -> HttpResponse:
    body, version = tracking_script()
    response = HttpResponse(body, content_type="text/javascript; charset=utf-8")
    response["ETag"] = f'"{version}"'
    if request.GET.get("v") == version:
        response["Cache-Control"] = f"public, max-age={YEAR}, immutable"
    else:
        # An old or missing version: serve today's script, but let caches ask again soon.
        response["Cache-Control"] = "public, max-age=3600"
    # Loaded by other websites' pages.
    response["Cross-Origin-Resource-Policy"] = "cross-origin"
    return response


def _cors(response: HttpResponse) -> HttpResponse:
    # Page views come from the customers' websites. No cookie of this site is read or set and
    # nothing comes back, so any origin may send (a script that ignores CORS could anyway).
    response["Access-Control-Allow-Origin"] = "*"
    response["Cache-Control"] = "no-store"
    return response


def _errors(errors: dict, status: int = 400, **headers: str) -> HttpResponse:
    response = JsonResponse(errors, status=status, json_dumps_params={"ensure_ascii": False})
    for name, value in headers.items():
        response[name.replace("_", "-")] = value
    return _cors(response)


def _check(request: HttpRequest) -> tuple[HttpResponse | None, bytes | None]:
    """The refusal for a bad request, else the buffer record of its page view."""
    if (request.content_type or "") not in ACCEPTED_TYPES:
        return _errors(
            {"detail": _("Send the page view as text/plain or application/json.")}, status=415
        ), None
    try:
        length = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        length = BODY_MAX + 1
    if length > BODY_MAX:
        return _errors(
            {"detail": _("The request body is larger than %(size)d bytes.") % {"size": BODY_MAX}},
            status=413,
        ), None
    record, errors = parse_page_view(request.body)
    if errors:
        return _errors(errors), None
    return None, json.dumps(record, separators=(",", ":")).encode()


@csp_exempt()  # an empty 204 for a script on another website: no page to protect
@csrf_exempt
@require_http_methods(["POST", "OPTIONS"])
def track_event(request: HttpRequest) -> HttpResponse:
    """A page view from the tracking script: validated, buffered, answered 204 at once.

    The database is not touched: ``capture.tasks.track_flush`` stores the buffer in batches.
    """
    if request.method == "OPTIONS":
        response = _cors(HttpResponse(status=204))
        response["Access-Control-Allow-Methods"] = "POST"
        response["Access-Control-Allow-Headers"] = "Content-Type"
        response["Access-Control-Max-Age"] = "86400"
        return response
    refusal, record = _check(request)
    # Every request counts against its address, refused ones too (one Redis round trip).
    limit, period = settings.LEADCRM_TRACK_RATE
    sent = get_buffer().admit(record, sender=client_ip(request), limit=limit, period=period)
    if sent > limit:
        wait = max(1, math.ceil(period - time.time() % period))
        return _errors(
            {"detail": _("Too many requests; try again in %(seconds)d s.") % {"seconds": wait}},
            status=429,
            Retry_After=str(wait),
        )
    if refusal is not None:
        return refusal
    return _cors(HttpResponse(status=204))


def _tracking_permission(perm: str):
    def decorator(view):
        return login_required(permission_required(perm, raise_exception=True)(view))

    return decorator


@_tracking_permission("capture.view_trackingrule")
@require_http_methods(["GET", "POST"])
def tracking_settings(request: HttpRequest) -> HttpResponse:
    """The embed snippet, the URL rules (add one here) and the visitors per campaign."""
    form = TrackingRuleForm(request.POST or None)
    if request.method == "POST":
        if not request.user.has_perm("capture.add_trackingrule"):
            raise PermissionDenied
        if form.is_valid():
            try:
                rule = services.tracking_rule_create(**form.cleaned_data)
            except ValidationError as exc:
                add_service_error(form, exc)
            else:
                messages.success(request, _("Rule “%(rule)s” added.") % {"rule": rule.pattern})
                return redirect("capture:settings")
    _body, version = tracking_script()
    script_url = request.build_absolute_uri(reverse("track:script")) + f"?v={version}"
    return render(
        request,
        "capture/tracking_settings.html",
        {
            "snippet": f'<script async src="{script_url}"></script>',
            "rules": selectors.tracking_rules(),
            "form": form,
            "campaign_rows": campaign_visitors(),
            "pending": get_buffer().pending(),
        },
        status=400 if form.errors else 200,
    )


@_tracking_permission("capture.change_trackingrule")
@require_http_methods(["GET", "POST"])
def tracking_rule_edit(request: HttpRequest, pk: int) -> HttpResponse:
    rule = get_object_or_404(TrackingRule, pk=pk)
    form = TrackingRuleForm(request.POST or None, instance=rule)
    if request.method == "POST" and form.is_valid():
        try:
            services.tracking_rule_update(rule_id=rule.pk, **form.cleaned_data)
        except ValidationError as exc:
            add_service_error(form, exc)
        else:
            messages.success(request, _("Rule “%(rule)s” saved.") % {"rule": rule.pattern})
            return redirect("capture:settings")
    return render(
        request,
        "capture/tracking_rule_form.html",
        {"form": form, "rule": rule},
        status=400 if form.errors else 200,
    )


@_tracking_permission("capture.delete_trackingrule")
@require_http_methods(["GET", "POST"])
def tracking_rule_delete(request: HttpRequest, pk: int) -> HttpResponse:
    rule = get_object_or_404(TrackingRule, pk=pk)
    if request.method == "POST":
        services.tracking_rule_delete(rule_id=rule.pk)
        messages.success(request, _("Rule “%(rule)s” deleted.") % {"rule": rule.pattern})
        return redirect("capture:settings")
    return render(request, "capture/tracking_rule_confirm_delete.html", {"rule": rule})
