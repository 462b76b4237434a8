"""Browser pages of scoring: the rules (edit → preview → save), a rescoring's progress and
outcome, and the versions. Thin: the services judge and write, the selectors read."""

from collections.abc import Callable

from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.cache import patch_vary_headers
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from leads import selectors as lead_selectors
from leads.lifecycle import Stage
from leads.models import Temperature
from scoring import proposals, selectors, services
from scoring.forms import BEHAVIOUR_PREFIX, GRADE_PREFIX, RulesForms, with_added_row
from scoring.models import Rescoring
from scoring.rescoring import rescoring_progress, rescoring_save_preview, rescoring_start

VERSIONS_PAGE_SIZE = 25
EDIT_PERMISSIONS = ("scoring.change_scoringprofile", "scoring.add_rescoring")


def scoring_permission(perm: str) -> Callable:
    def decorator(view: Callable) -> Callable:
        return login_required(permission_required(perm, raise_exception=True)(view))

    return decorator


def can_edit_rules(user) -> bool:
    return user.has_perms(EDIT_PERMISSIONS)


@require_http_methods(["GET", "POST"])
@scoring_permission("scoring.view_scoringprofile")
def rules(request: HttpRequest) -> HttpResponse:
    profile = selectors.profile_in_force()
    editable = can_edit_rules(request.user)
    if request.method == "POST":
        if not editable:
            raise PermissionDenied
        return _rules_post(request, profile)
    source = None
    proposal, base_version = proposals.snapshot(profile), profile.version
    if editable and request.GET.get("from", "").isdigit():
        # "Change again": the proposal of an earlier preview, on the version it was made on.
        source = get_object_or_404(
            Rescoring, pk=int(request.GET["from"]), kind=Rescoring.Kind.PREVIEW
        )
        proposal, base_version = source.proposal, source.base_version
    forms = RulesForms.build(proposal=proposal, base_version=base_version, editable=editable)
    return _rules_page(request, profile, forms, editable=editable, source=source)


def _rules_post(request: HttpRequest, profile) -> HttpResponse:
    added = request.POST.get("add")
    if added in {GRADE_PREFIX, BEHAVIOUR_PREFIX}:
        forms = RulesForms.build(data=with_added_row(request.POST, added))
        return _rules_page(request, profile, forms, editable=True, added=added)
    forms = RulesForms.build(data=request.POST)
    if forms.is_valid():
        try:
            rescoring = rescoring_start(
                kind=Rescoring.Kind.PREVIEW,
                proposal=forms.proposal(),
                by_user=request.user,
                base_version=forms.profile.cleaned_data["base_version"],
            )
        except ValidationError as exc:
            forms.add_service_error(exc)
        else:
            return redirect("scoring:rescoring", pk=rescoring.pk)
    return _rules_page(request, profile, forms, editable=True, status=400)


def _rules_page(
    request: HttpRequest,
    profile,
    forms: RulesForms,
    *,
    editable: bool,
    source: Rescoring | None = None,
    added: str | None = None,
    status: int = 200,
) -> HttpResponse:
    context = {
        "profile": profile,
        "forms": forms,
        "form": forms.profile,
        "errors": forms.error_list() if status == 400 else [],
        "editable": editable,
        "source": source,
        "added": added,
        "last_rescoring": Rescoring.objects.filter(profile=profile)
        .select_related("created_by")
        .first(),
    }
    return render(request, "scoring/rules.html", context, status=status)


@require_GET
@scoring_permission("scoring.view_rescoring")
def rescoring_detail(request: HttpRequest, pk: int) -> HttpResponse:
    rescoring = get_object_or_404(Rescoring.objects.select_related("created_by", "profile"), pk=pk)
    context = _rescoring_context(request, rescoring)
    fragment = bool(request.htmx) and not request.htmx.history_restore_request
    template = "scoring/_rescoring_status.html" if fragment else "scoring/rescoring.html"
    response = render(request, template, context)
    patch_vary_headers(response, ["HX-Request"])
    return response


def _rescoring_context(request: HttpRequest, rescoring: Rescoring) -> dict:
    done, total = rescoring_progress(rescoring=rescoring)
    result = rescoring.result or {}
    samples = result.get("samples", [])
    # The samples name leads: show each person only those they may see.
    visible = set(
        lead_selectors.lead_list(user=request.user)
        .filter(pk__in=[sample["id"] for sample in samples])
        .values_list("pk", flat=True)
    )
    finished = rescoring.status in {Rescoring.Status.DONE, Rescoring.Status.FAILED}
    profile = rescoring.profile
    return {
        "rescoring": rescoring,
        "finished": finished,
        "percent": round(100 * done / total) if total else 0,
        "done": done,
        "total": total,
        "result": result,
        "grade_moves": sorted(result.get("grade_moves", {}).items()),
        "samples": [_labelled(sample) for sample in samples if sample["id"] in visible],
        "hidden_samples": len(samples) - len(visible),
        # Our own messages (a stale save) were stored in the worker's language: say them in the
        # reader's; any other error stays as it was written.
        "error": _(rescoring.error) if rescoring.error else "",
        "can_save": can_edit_rules(request.user)
        and rescoring.kind == Rescoring.Kind.PREVIEW
        and rescoring.status == Rescoring.Status.DONE
        and profile.version == rescoring.base_version,
        "stale": rescoring.kind == Rescoring.Kind.PREVIEW
        and profile.version != rescoring.base_version,
        "can_edit": can_edit_rules(request.user),
    }


def _labelled(sample: dict) -> dict:
    stages, temperatures = dict(Stage.choices), dict(Temperature.choices)
    return {
        **sample,
        "stage_label": stages.get(sample["stage"], sample["stage"]),
        "temperature_label": temperatures.get(sample["temperature"], sample["temperature"]),
        "new_temperature_label": temperatures.get(
            sample["new_temperature"], sample["new_temperature"]
        ),
    }


@require_POST
@scoring_permission("scoring.add_rescoring")
def rescoring_save(request: HttpRequest, pk: int) -> HttpResponse:
    if not can_edit_rules(request.user):
        raise PermissionDenied
    preview = get_object_or_404(Rescoring, pk=pk, kind=Rescoring.Kind.PREVIEW)
    try:
        saved = rescoring_save_preview(preview_id=preview.pk, by_user=request.user)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
        return redirect("scoring:rescoring", pk=preview.pk)
    messages.success(request, _("The rules are being saved and every lead rescored."))
    return redirect("scoring:rescoring", pk=saved.pk)


@require_GET
@scoring_permission("scoring.view_profileversion")
def versions(request: HttpRequest) -> HttpResponse:
    profile = services.active_profile()
    page = Paginator(
        profile.versions.select_related("saved_by").order_by("-version"), VERSIONS_PAGE_SIZE
    ).get_page(request.GET.get("page"))
    history = selectors.profile_version_history(profile=profile, versions=list(page.object_list))
    return render(
        request, "scoring/versions.html", {"profile": profile, "page": page, "history": history}
    )
