"""One filter set for the lead list page and the lead list API, so both filter alike."""

import copy
import operator
from datetime import date, datetime, time, timedelta
from functools import reduce

import django_filters
from django import forms
from django.db.models import Q, QuerySet
from django.http import QueryDict
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema_field

from leadcrm.api import MAX_ID
from leads.forms import OwnerChoiceField
from leads.lifecycle import Stage
from leads.models import RANK_ORDER, RANKS, Campaign, Channel, Company, Grade, Lead, Temperature
from leads.selectors import assignable_owners

# A search lists the leads of at most this many companies of its prefix: one matching more
# is too vague for the rest to matter.
MAX_SEARCH_COMPANIES = 500


def start_of_day(day: date) -> datetime:
    """Midnight of ``day`` in the current time zone (the user's; Europe/Berlin by default)."""
    return timezone.make_aware(datetime.combine(day, time.min))


class OwnerFilter(django_filters.ModelChoiceFilter):
    """Owners by full name, as everywhere else."""

    field_class = OwnerChoiceField


class LeadFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(method="search", label=_("Search"))
    # distinct=False: no join here can duplicate rows, and DISTINCT would force PostgreSQL to sort
    # every matching lead instead of reading one page from the index (bench/lead_list.py).
    stage = django_filters.MultipleChoiceFilter(
        choices=Stage.choices, distinct=False, label=_("Stage")
    )
    # A sales rep is offered (and may name) only themselves, as in the lead form.
    owner = OwnerFilter(
        queryset=lambda request: assignable_owners(for_user=getattr(request, "user", None)),
        label=_("Owner"),
        empty_label=_("All"),
    )
    unassigned = django_filters.BooleanFilter(
        field_name="owner", lookup_expr="isnull", label=_("Unassigned")
    )
    grade = django_filters.MultipleChoiceFilter(
        choices=Grade.choices, method="filter_grade", label=_("Grade")
    )
    rank = django_filters.MultipleChoiceFilter(
        choices=[(rank, rank) for rank in RANKS], method="filter_rank", label=_("Rank")
    )
    temperature = django_filters.ChoiceFilter(
        choices=Temperature.choices,
        method="filter_temperature",
        label=_("Temperature"),
        empty_label=_("All"),
    )
    source_channel = django_filters.ChoiceFilter(
        choices=Channel.choices, label=_("Channel"), empty_label=_("All")
    )
    campaign = django_filters.ModelChoiceFilter(
        field_name="first_campaign",
        queryset=Campaign.objects.all(),
        label=_("Campaign"),
        empty_label=_("All"),
    )
    # Days of the user's time zone turned into aware bounds, so the lead_created index serves
    # them (created_at::date would need an index of its own, in one fixed zone).
    created_after = django_filters.DateFilter(
        method="filter_created_after", label=_("Created from")
    )
    created_before = django_filters.DateFilter(
        method="filter_created_before", label=_("Created until")
    )

    class Meta:
        model = Lead
        fields = [
            "q",
            "stage",
            "owner",
            "unassigned",
            "grade",
            "rank",
            "temperature",
            "source_channel",
        ]

    # The parameter and values that sort the list by score (the page's ?sort=, the API's
    # ?ordering=).
    SCORE_SORT = ("sort", {"score"})

    # True while counted_qs filters (see filter_temperature).
    counting = False

    def _sorted_by_score(self) -> bool:
        parameter, values = self.SCORE_SORT
        return self.data.get(parameter, "").strip() in values

    def filter_temperature(self, queryset, name, value):
        """Sorted by score, on the score row's copy of the temperature, so PostgreSQL reads the
        hot leads in score order from their own index (leadscore_hot) instead of walking every
        score and looking up each lead. (On both columns, it took them for independent and
        expected 13 hot leads of 1,000,000: a plan for 13 rows, sorting all 3,692.) Otherwise,
        and for the count, on the lead's (index lead_temperature, read alone: counting through
        the copy looked up each hot lead by primary key, 17 ms)."""
        if self._sorted_by_score() and not self.counting:
            return queryset.filter(score__temperature=value)
        return queryset.filter(temperature=value)

    @property
    def counted_qs(self) -> QuerySet:
        """The leads of ``qs``, filtered the way a count reads them fastest; ``qs`` itself
        unless the list is sorted by score and filtered by temperature, without a search (a
        search counts from its arms, search_arms)."""
        searching = bool(self.data.get("q", "").strip())
        if searching or not (
            self._sorted_by_score() and self.is_valid() and self.data.get("temperature")
        ):
            return self.qs
        self.counting = True
        try:
            return self.filter_queryset(self.queryset.all())
        finally:
            self.counting = False

    def filter_created_after(self, queryset, name, value: date):
        return queryset.filter(created_at__gte=start_of_day(value))

    def filter_created_before(self, queryset, name, value: date):
        return queryset.filter(created_at__lt=start_of_day(value + timedelta(days=1)))

    def filter_grade(self, queryset, name, value):
        """A grade is four ranks (A = A1…A4): filtered on ``rank_order`` like ?rank=, so the
        lead_best_rank index serves it instead of a grade index of its own."""
        return queryset.filter(
            rank_order__in=[RANK_ORDER[f"{grade}{band}"] for grade in value for band in "1234"]
        )

    def filter_rank(self, queryset, name, value):
        """By ``rank_order``, the first column of the lead_best_rank index, so a rank filter and
        the best-rank ordering are read from one index, in order."""
        return queryset.filter(rank_order__in=[RANK_ORDER[rank] for rank in value])

    def filter_queryset(self, queryset):
        """django-filter's, with the search applied last: ``unsearched`` keeps every other filter
        for search_arms."""
        search = None
        for name, value in self.form.cleaned_data.items():
            if name == "q":
                search = value
                continue
            queryset = self.filters[name].filter(queryset, value)
        self.unsearched = queryset
        return self.filters["q"].filter(queryset, search)

    def search(self, queryset, name, value):
        """E-mail prefix, name prefix or company name; prefixes keep it index-friendly."""
        self.search_conditions = search_conditions(value or "")
        if not self.search_conditions:
            return queryset
        return queryset.filter(reduce(operator.or_, self.search_conditions))

    def search_arms(self) -> list[QuerySet] | None:
        """The search's matches one way of matching at a time (e-mail, last name, first name,
        company …), each with every other filter: together they are ``qs``. Each arm is read
        from its own covering index (migration 0020), index only; the OR of them all could
        only be read from a bitmap of every match and then the table (leadcrm.paging.scan_page).
        None without a search (or before ``qs`` was read)."""
        conditions = getattr(self, "search_conditions", None)
        if not conditions:
            return None
        return [self.unsearched.filter(condition) for condition in conditions]


def search_conditions(value: str) -> list[Q]:
    """The ways a lead matches the search box's ``value``: their OR is the search. None for an
    empty value."""
    value = value.strip()
    if not value:
        return []
    if "@" in value:
        return [Q(email_key__startswith=value.lower())]
    # The companies as a subquery of their own rather than a join, so that this way of
    # matching reads the companies' name index, then each one's leads from lead_company.
    # Unordered: for a prefix of thousands of companies, sorting them all by name only to keep
    # 500 took 13 ms ("M", 6,200 companies of 100,000).
    companies = Company.objects.filter(name__istartswith=value).order_by().values("id")
    conditions = [
        Q(email_key__startswith=value.lower()),
        Q(last_name__istartswith=value),
        Q(first_name__istartswith=value),
        Q(company_id__in=companies[:MAX_SEARCH_COMPANIES]),
    ]
    parts = value.split()
    if len(parts) == 2:
        conditions.append(Q(first_name__istartswith=parts[0], last_name__istartswith=parts[1]))
    return conditions


class StrictBooleanField(forms.Field):
    """``true`` or ``false`` (also ``1``/``0``); anything else is an error, not "no filter"."""

    VALUES = {"true": True, "1": True, "false": False, "0": False}
    default_error_messages = {"invalid": _("Enter true or false.")}

    def to_python(self, value):
        if value in (None, ""):
            return None
        try:
            return self.VALUES[str(value).strip().lower()]
        except KeyError:
            raise forms.ValidationError(self.error_messages["invalid"], code="invalid") from None


@extend_schema_field({"type": "integer", "minimum": 1, "maximum": MAX_ID})
class IdFilter(django_filters.NumberFilter):
    field_class = forms.IntegerField

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("min_value", 1)
        kwargs.setdefault("max_value", MAX_ID)
        super().__init__(*args, **kwargs)


@extend_schema_field({"type": "boolean"})
class StrictBooleanFilter(django_filters.BooleanFilter):
    field_class = StrictBooleanField


class NoBlankValuesForm(forms.Form):
    """API filters: ``?owner=`` is a mistake to report, not "no filter" as on a page's form."""

    def clean(self):
        cleaned = super().clean()
        for name, field in self.fields.items():
            if isinstance(field, forms.CharField) or name not in self.data:
                continue
            if any(not value.strip() for value in self.data.getlist(name)):
                # This says what is wrong; "“” is not one of the choices" beside it would not.
                self.errors.pop(name, None)
                self.add_error(name, _("Give a value or leave the parameter out."))
        return cleaned


class LeadApiFilter(LeadFilter):
    """The lead list page's filters for the API, with ids taken as they come: an owner or
    campaign that does not exist finds no leads (the page offers choice lists instead), and a
    malformed value is a 400 naming the parameter rather than being ignored."""

    owner = IdFilter(field_name="owner_id", label=_("Owner"))
    unassigned = StrictBooleanFilter(
        field_name="owner", lookup_expr="isnull", label=_("Unassigned")
    )
    campaign = IdFilter(field_name="first_campaign_id", label=_("Campaign"))

    SCORE_SORT = ("ordering", {"behaviour_score", "-behaviour_score"})

    class Meta(LeadFilter.Meta):
        form = NoBlankValuesForm

    def __init__(self, data=None, queryset=None, *, request=None, prefix=None):
        """django-filter's, with the filters copied shallowly: its deep copy of every filter
        (their choices, labels, querysets) was a fifth of the API's filtering time. A filter
        keeps per-request state only in attributes of its own (``parent``, ``model``, the field
        it builds), and a filter with ``method=`` gets a FilterMethod bound to its copy."""
        if queryset is None:
            queryset = self._meta.model._default_manager.all()
        self.is_bound = data is not None
        self.data = data or QueryDict()
        self.queryset = queryset
        self.request = request
        self.form_prefix = prefix
        self.filters = {}
        for name, base in self.base_filters.items():
            filter_ = copy.copy(base)
            if base.method is not None:
                filter_.method = base.method
            filter_.model, filter_.parent = queryset.model, self
            self.filters[name] = filter_

    def get_form_class(self):
        """Built once per class: unlike the page's (whose owner choices depend on the user),
        these fields depend on nothing of the request, and building them was half of the
        filtering time of an API request."""
        cls = type(self)
        if "_form_class" not in cls.__dict__:
            cls._form_class = super().get_form_class()
        return cls._form_class
