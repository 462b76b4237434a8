"""Capture forms in the browser: the public landing page (``/f/<slug>/``), the embedded form and
its script, the double opt-in link, and the marketers' pages to build forms and see the e-mails
that went out."""

import math
import time
from functools import cache as memoize
from pathlib import Path

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db.models import Count, Max
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from capture import form_services
from capture.form_forms import CaptureFormForm, FormFieldFormSet
from capture.intake import UTM_FIELDS
from capture.landing import HONEYPOT, PublicForm, public_form
from capture.models import CaptureForm, OutboundEmail
from leadcrm.throttling import client_ip
from leads.forms import add_service_error

EMBED_SCRIPT_PATH = Path(__file__).resolve().parent / "static" / "capture" / "embed.js"


# --- the visitor's side ------------------------------------------------------------------------


def _language(request: HttpRequest) -> str:
    wanted = request.GET.get("lang", "")
    if wanted in dict(settings.LANGUAGES):
        return wanted
    return "de" if translation.get_language().startswith("de") else "en"


def _rate_limited(request: HttpRequest, capture_form: CaptureForm) -> int | None:
    """Seconds to wait when this address or this form sent too much lately, else None."""
    now = time.time()
    for key, (limit, period) in (
        (f"ip:{client_ip(request)}", settings.LEADCRM_FORM_RATE_PER_IP),
        (f"form:{capture_form.pk}", settings.LEADCRM_FORM_RATE_PER_FORM),
    ):
        counter = f"capture:form-rate:{key}:{int(now // period)}"
        cache.add(counter, 0, timeout=period + 1)
        if cache.incr(counter) > limit:
            return max(1, math.ceil(period - now % period))
    return None


def _active_form(slug: str) -> CaptureForm:
    return get_object_or_404(
        CaptureForm.objects.select_related("campaign").prefetch_related("fields"),
        slug=slug,
        is_active=True,
    )


def _context(capture_form: CaptureForm, form: PublicForm, language: str, **extra) -> dict:
    return {
        "capture_form": capture_form,
        "form": form,
        "language": language,
        "title": capture_form.text("title", language) or capture_form.name,
        "intro": capture_form.text("intro", language),
        "submit_label": capture_form.text("submit", language) or _("Send"),
        "honeypot": form[HONEYPOT],
        **extra,
    }


def _submit(request: HttpRequest, capture_form: CaptureForm, language: str):
    """Validate and store a submission: (form, thank-you message or None, status)."""
    form = public_form(capture_form, language, data=request.POST)
    if form.is_bot:
        return form, capture_form.text("thank_you", language) or _("Thank you!"), 200
    if not form.is_valid():
        return form, None, 400
    try:
        submitted = form_services.form_submit(
            capture_form=capture_form,
            values=form.lead_fields(),
            consent_given=bool(form.cleaned_data.get("consent")),
            language=language,
            ip_address=client_ip(request),
            page_url=form.cleaned_data.get("page") or request.headers.get("Referer", ""),
            visitor_id=form.cleaned_data.get("visitor_id", ""),
        )
    except ValidationError as exc:
        add_service_error(form, exc)
        return form, None, 400
    thanks = capture_form.text("thank_you", language) or _("Thank you!")
    if submitted.needs_confirmation:
        thanks = f"{thanks} " + _("We have sent you an e-mail: please confirm with the link in it.")
    return form, thanks, 200


def _too_many(wait: int) -> HttpResponse:
    response = HttpResponse(
        _("Too many submissions; please try again in %(seconds)d seconds.") % {"seconds": wait},
        status=429,
        content_type="text/plain; charset=utf-8",
    )
    response["Retry-After"] = str(wait)
    return response


@csrf_exempt  # public: the signed render token, honeypot and rate limits guard it instead
@require_http_methods(["GET", "POST"])
def landing_page(request: HttpRequest, slug: str) -> HttpResponse:
    capture_form = _active_form(slug)
    language = _language(request)
    with translation.override(language):
        if request.method == "GET":
            # The landing page's own address carries the campaign's UTM parameters.
            initial = {name: request.GET.get(name, "")[:100] for name in UTM_FIELDS}
            initial["page"] = request.build_absolute_uri()[:2000]
            form = public_form(capture_form, language, initial=initial)
            return render(request, "capture/landing.html", _context(capture_form, form, language))
        wait = _rate_limited(request, capture_form)
        if wait is not None:
            return _too_many(wait)
        form, thanks, status = _submit(request, capture_form, language)
        if thanks is not None and capture_form.redirect_url and not form.is_bot:
            return HttpResponseRedirect(capture_form.redirect_url)
        context = _context(capture_form, form, language, thanks=thanks)
        return render(request, "capture/landing.html", context, status=status)


def _origin_allowed(request: HttpRequest, capture_form: CaptureForm) -> str | None:
    origin = request.headers.get("Origin", "").rstrip("/").lower()
    return origin if origin and origin in capture_form.origins() else None


def _with_cors(response: HttpResponse, origin: str) -> HttpResponse:
    response["Access-Control-Allow-Origin"] = origin
    response["Vary"] = "Origin"
    response["Cache-Control"] = "no-store"
    return response


@csrf_exempt  # cross-origin from the allowed websites only: checked against the Origin header
@require_http_methods(["GET", "POST", "OPTIONS"])
def embedded_form(request: HttpRequest, slug: str) -> HttpResponse:
    """The form as an HTML fragment for ``embed.js`` on another website, and its submissions.
    Only the origins the form allows get an answer (CORS); any other is refused with 403 and
    nothing is stored."""
    capture_form = _active_form(slug)
    origin = _origin_allowed(request, capture_form)
    if origin is None:
        response = HttpResponse(
            _("This website may not embed this form."),
            status=403,
            content_type="text/plain; charset=utf-8",
        )
        response["Vary"] = "Origin"
        return response
    if request.method == "OPTIONS":
        response = HttpResponse(status=204)
        response["Access-Control-Allow-Methods"] = "GET, POST"
        response["Access-Control-Max-Age"] = "3600"
        return _with_cors(response, origin)
    language = _language(request)
    with translation.override(language):
        if request.method == "GET":
            form = public_form(capture_form, language)
            context = _context(capture_form, form, language, embedded=True)
            return _with_cors(render(request, "capture/_embedded.html", context), origin)
        wait = _rate_limited(request, capture_form)
        if wait is not None:
            return _with_cors(_too_many(wait), origin)
        form, thanks, status = _submit(request, capture_form, language)
        context = _context(capture_form, form, language, thanks=thanks, embedded=True)
        if thanks is not None and capture_form.redirect_url:
            context["redirect_url"] = capture_form.redirect_url
        response = render(request, "capture/_embedded.html", context, status=status)
        return _with_cors(response, origin)


@memoize
def _embed_script() -> bytes:
    return EMBED_SCRIPT_PATH.read_bytes()


@require_GET
def embed_script(request: HttpRequest) -> HttpResponse:
    response = HttpResponse(_embed_script(), content_type="text/javascript; charset=utf-8")
    response["Cache-Control"] = "public, max-age=3600"
    response["Cross-Origin-Resource-Policy"] = "cross-origin"
    return response


@require_GET
def confirm_consent(request: HttpRequest, token: str) -> HttpResponse:
    """The link in the double opt-in e-mail."""
    try:
        consent, now_confirmed = form_services.consent_confirm_link(token=token)
    except form_services.ConfirmationRefused as refused:
        context = {"expired": refused.expired}
        return render(request, "capture/confirm.html", context, status=400)
    return render(
        request,
        "capture/confirm.html",
        {"consent": consent, "now_confirmed": now_confirmed},
    )


# --- the marketers' side -----------------------------------------------------------------------


@login_required
@permission_required("capture.view_captureform", raise_exception=True)
def form_list(request: HttpRequest) -> HttpResponse:
    forms = CaptureForm.objects.select_related("campaign").annotate(
        submission_count=Count("submissions"), last_submission=Max("submissions__submitted_at")
    )
    return render(
        request,
        "capture/form_list.html",
        {"capture_forms": forms, "can_add": request.user.has_perm("capture.add_captureform")},
    )


def _embed_snippet(request: HttpRequest, capture_form: CaptureForm) -> str:
    src = request.build_absolute_uri(reverse("landing:embed-script"))
    return f'<script src="{src}" data-leadcrm-form="{capture_form.slug}" async></script>'


@login_required
@permission_required("capture.view_captureform", raise_exception=True)
@require_http_methods(["GET", "POST"])
def form_edit(request: HttpRequest, pk: int | None = None) -> HttpResponse:
    capture_form = (
        get_object_or_404(CaptureForm.objects.prefetch_related("fields"), pk=pk)
        if pk is not None
        else CaptureForm()
    )
    may_change = request.user.has_perm(
        "capture.change_captureform" if pk is not None else "capture.add_captureform"
    )
    if request.method == "POST":
        if not may_change:
            return HttpResponse(status=403)
        form = CaptureFormForm(request.POST, instance=capture_form)
        fields = FormFieldFormSet(request.POST, prefix="fields")
        if form.is_valid() and fields.is_valid():
            try:
                saved = form_services.capture_form_save(
                    capture_form=form.save(commit=False), fields=fields.field_specs()
                )
            except ValidationError as exc:
                add_service_error(form, exc)
            else:
                messages.success(request, _("The form “%(name)s” is saved.") % {"name": saved})
                return redirect("forms:edit", pk=saved.pk)
    else:
        form = CaptureFormForm(instance=capture_form)
        fields = FormFieldFormSet(
            prefix="fields", initial=FormFieldFormSet.initial_for(capture_form)
        )
    preview_language = _language(request)
    preview = _preview_form(form, fields, preview_language)
    context = {
        "form": form,
        "fields": fields,
        "capture_form": capture_form if capture_form.pk else None,
        "may_change": may_change,
        "preview": preview,
        "snippet": _embed_snippet(request, capture_form) if capture_form.pk else "",
        "landing_url": request.build_absolute_uri(reverse("landing:page", args=[capture_form.slug]))
        if capture_form.pk
        else "",
        "submissions": capture_form.submissions.select_related("lead", "consent")[:10]
        if capture_form.pk
        else [],
    }
    status = 400 if request.method == "POST" else 200
    return render(request, "capture/form_edit.html", context, status=status)


def _preview_form(form: CaptureFormForm, fields: FormFieldFormSet, language: str) -> dict:
    """What the visitor would see, from the editor's current (unsaved) values."""
    draft = form.draft()
    specs = fields.draft_fields()
    public = PublicForm(capture_form=draft, language=language, fields_override=specs)
    return _context(draft, public, language, preview=True)


@login_required
@permission_required("capture.view_captureform", raise_exception=True)
@require_POST
def form_preview(request: HttpRequest) -> HttpResponse:
    """The editor's live preview, re-rendered (HTMX) as the marketer types."""
    form = CaptureFormForm(request.POST)
    fields = FormFieldFormSet(request.POST, prefix="fields")
    language = request.POST.get("preview_language", "en")
    language = language if language in dict(settings.LANGUAGES) else "en"
    with translation.override(language):
        context = _preview_form(form, fields, language)
        return render(request, "capture/_preview.html", {"preview": context})


@login_required
@permission_required("capture.view_outboundemail", raise_exception=True)
def outbox(request: HttpRequest) -> HttpResponse:
    page = Paginator(OutboundEmail.objects.order_by("-created_at", "-id"), 50).get_page(
        request.GET.get("page")
    )
    return render(request, "capture/outbox.html", {"page": page, "emails": page.object_list})
