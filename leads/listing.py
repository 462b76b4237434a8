"""What the lead list offers: its sorts, its columns and the views built into it per role.

Pages, saved views and the bulk actions read these tables; nothing here touches the database.
"""

from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any
from urllib.parse import urlencode

from django.db.models import F, Q
from django.db.models.functions import Lower
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from leadcrm.roles import Role, has_role, sees_all_leads


@dataclass(frozen=True)
class Key:
    """One column of a sort: annotated as ``name`` so a keyset cursor can compare against it."""

    name: str
    expression: Any
    kind: str  # how a cursor stores its value: "int", "float", "str" or "datetime"


@dataclass(frozen=True)
class Phase:
    """A stretch of a sort read from one index: the leads ``condition`` admits, in ``keys``
    order. A sort of several phases lists each phase's leads after the previous phase's."""

    keys: tuple[Key, ...]
    condition: Q | None = None


@dataclass(frozen=True)
class Sort:
    label: Promise
    phases: tuple[Phase, ...]
    descending: bool = False


def _keys(*columns: tuple[str, str]) -> tuple[Key, ...]:
    return tuple(Key(f"k_{column}", F(column), kind) for column, kind in columns)


ID = ("id", "int")
# Every sort ends in a unique column, so pages never overlap, and runs in one direction, so a
# cursor is one row comparison an index answers at any depth (indexes in Lead.Meta.indexes).
SORTS: dict[str, Sort] = {
    "newest": Sort(_("Newest first"), (Phase(_keys(("created_at", "datetime"), ID)),), True),
    "oldest": Sort(_("Oldest first"), (Phase(_keys(("created_at", "datetime"), ID)),)),
    "name": Sort(
        _("Name"),
        (
            Phase(
                (
                    Key("k_last_name", Lower("last_name"), "str"),
                    Key("k_first_name", Lower("first_name"), "str"),
                    *_keys(ID),
                )
            ),
        ),
    ),
    # Read in order from the scores' own index (leadscore_score), each joined to its lead. Every
    # lead has a score row: the condition only makes the join an inner one, which the planner
    # may start from the score side.
    "score": Sort(
        _("Highest score"),
        (
            Phase(
                (
                    Key("k_score", F("score__behaviour_score"), "float"),
                    Key("k_score_lead", F("score__lead_id"), "int"),
                ),
                Q(score__isnull=False),
            ),
        ),
        True,
    ),
    # A1 first, then the newest (index lead_best_rank).
    "rank": Sort(
        _("Best rank"),
        (Phase(_keys(("rank_order", "int"), ("created_at", "datetime"), ID)),),
        True,
    ),
    "stage_changed": Sort(
        _("Stage changed recently"), (Phase(_keys(("stage_changed_at", "datetime"), ID)),), True
    ),
    # Companies A to Z, read company by company from the companies' name index, then the leads
    # without a company (a LEFT JOIN sorted on the company's name could use no index at all).
    "company": Sort(
        _("Company"),
        (
            Phase(
                (
                    Key("k_company", Lower("company__name"), "str"),
                    *_keys(("company_id", "int"), ID),
                ),
                Q(company__isnull=False),
            ),
            Phase(_keys(ID), Q(company__isnull=True)),
        ),
    ),
}
DEFAULT_SORT = "newest"


@dataclass(frozen=True)
class Column:
    key: str
    label: Promise
    # The sorts a click on the header cycles through: the first, then the second if any.
    sorts: tuple[str, ...] = ()
    default: bool = True
    # select_related() names this column needs; a hidden column costs no join.
    joins: tuple[str, ...] = field(default_factory=tuple)


COLUMNS: dict[str, Column] = {
    column.key: column
    for column in [
        Column("name", _("Name"), sorts=("name",)),
        Column("rank", _("Rank"), sorts=("rank",)),
        Column("score", _("Score"), sorts=("score",), joins=("score",)),
        Column("company", _("Company"), sorts=("company",), joins=("company",)),
        Column("stage", _("Stage"), sorts=("stage_changed",)),
        Column("owner", _("Owner"), joins=("owner",)),
        Column("channel", _("Channel")),
        Column("created", _("Created"), sorts=("newest", "oldest")),
        Column("email", _("E-mail"), default=False),
        Column("job_title", _("Job title"), default=False),
        Column("country", _("Country"), default=False),
        Column("city", _("City"), default=False),
        Column("phone", _("Phone"), default=False),
        Column("campaign", _("Campaign"), default=False, joins=("first_campaign",)),
        Column("stage_changed", _("Stage changed"), sorts=("stage_changed",), default=False),
    ]
}
DEFAULT_COLUMNS = [key for key, column in COLUMNS.items() if column.default]


def clean_columns(keys: list[str] | None) -> list[str]:
    """Known columns in the table's order, the name always first; the defaults for none."""
    chosen = {key for key in keys or [] if key in COLUMNS}
    if not chosen:
        return DEFAULT_COLUMNS
    return [key for key in COLUMNS if key in chosen or key == "name"]


def joins_for(columns: list[str]) -> list[str]:
    return sorted({join for key in columns for join in COLUMNS[key].joins})


# The table's stage badges: short, so the column stays narrow in German too (the full name is
# the badge's tooltip).
STAGE_SHORT = {
    "unqualified": _("Unqualified"),
    "mql": pgettext_lazy("stage, short", "MQL"),
    "sql": pgettext_lazy("stage, short", "SQL"),
    "opportunity": _("Opportunity"),
    "customer": _("Customer"),
    "nurture": _("Nurture"),
    "disqualified": _("Disqualified"),
}


@dataclass(frozen=True)
class BuiltInView:
    slug: str
    name: Promise
    query: str  # filters and sort as in the list's address


def built_in_views(user) -> list[BuiltInView]:
    """The views a role finds ready: what a rep, a manager or a marketer opens most."""
    week_ago = (timezone.localdate() - timedelta(days=7)).isoformat()
    views = [BuiltInView("all", _("All leads"), "")]
    if has_role(user, Role.SALES_REP):
        views += [
            BuiltInView(
                "my-open-sqls",
                _("My open SQLs"),
                urlencode({"stage": "sql", "owner": user.pk, "sort": "rank"}),
            ),
            BuiltInView(
                "my-mqls",
                _("My MQLs"),
                urlencode({"stage": "mql", "owner": user.pk, "sort": "rank"}),
            ),
        ]
    if has_role(user, Role.SALES_REP) or sees_all_leads(user):
        views.append(
            BuiltInView(
                "unassigned-mqls",
                _("Unassigned MQLs"),
                urlencode({"stage": "mql", "unassigned": "true", "sort": "rank"}),
            )
        )
    if sees_all_leads(user):
        views += [
            BuiltInView(
                "hot-this-week",
                _("Hot leads this week"),
                urlencode({"temperature": "hot", "created_after": week_ago, "sort": "score"}),
            ),
            BuiltInView(
                "open-sqls", _("Open SQLs"), urlencode({"stage": "sql", "sort": "stage_changed"})
            ),
        ]
    return views
