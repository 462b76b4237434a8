"""The "Score" card on the lead page: fit, behaviour points with their decay, review flag."""

import re
from datetime import UTC, datetime, timedelta
from html.parser import HTMLParser

import pytest
import time_machine
from django.urls import reverse

from leads import event_services
from leads.lifecycle import Stage
from leads.models import Lead
from leads.panels import detail_panels
from scoring import services
from scoring.models import MqlReview
from tests.factories import CompanyFactory, EventFactory, LeadFactory

pytestmark = pytest.mark.django_db

MONDAY = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)


class _Tables(HTMLParser):
    """The cell texts of every <table data-testid=…>, row by row, and the page's plain text."""

    def __init__(self) -> None:
        super().__init__()
        self.tables: dict[str, list[list[str]]] = {}
        self._table: str | None = None
        self._row: list[str] | None = None
        self._cell: list[str] | None = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "table" and "data-testid" in attrs:
            self._table = attrs["data-testid"]
            self.tables[self._table] = []
        elif tag == "tr" and self._table:
            self._row = []
        elif tag in {"td", "th"} and self._row is not None:
            self._cell = []

    def handle_endtag(self, tag):
        if tag == "table":
            self._table = None
        elif tag == "tr" and self._row is not None and self._table:
            self.tables[self._table].append(self._row)
            self._row = None
        elif tag in {"td", "th"} and self._cell is not None and self._row is not None:
            self._row.append(" ".join(" ".join(self._cell).split()))
            self._cell = None

    def handle_data(self, data):
        if self._cell is not None:
            self._cell.append(data)


def tables(html: str) -> dict[str, list[list[str]]]:
    parser = _Tables()
    parser.feed(html)
    return parser.tables


def scored_lead(*, history: list[tuple[str, int, str]], **fields) -> Lead:
    """Director (+20), "Head of" (+15), software (+20), AT (+10): 65 fit points, grade B; then
    (event kind, days before MONDAY, URL) scored by the starter rules."""
    company = CompanyFactory(industry="software", size_band="1-10", annual_revenue=None)
    lead = LeadFactory(
        first_name="Ada",
        last_name="Lovelace",
        seniority="director",
        job_title="Head of IT",
        country="AT",
        company=company,
        **fields,
    )
    services.lead_rescore_fit(lead_id=lead.pk)
    with time_machine.travel(MONDAY, tick=False):
        for kind, days_ago, url in history:
            event = event_services.event_record(
                lead=lead, kind=kind, occurred_at=MONDAY - timedelta(days=days_ago), url=url
            )
            services.event_score(event_id=event.pk)
    lead.refresh_from_db()
    return lead


def detail(client, lead: Lead) -> str:
    return client.get(reverse("leads:detail", args=[lead.pk])).content.decode()


@time_machine.travel(MONDAY, tick=False)
def test_it_explains_the_fit_grade_rule_by_rule(client, marketer):
    lead = scored_lead(history=[])
    client.force_login(marketer)

    found = tables(detail(client, lead))

    assert found["matched-grade-rules"] == [
        ["Field", "Operator", "Value", "Points"],
        ["Seniority", "is one of", "director", "+20"],
        [
            "Job title",
            "contains any of",
            "CEO, CTO, CIO, CMO, CFO, Head of, Director, Geschäftsführer, Leiter, VP",
            "+15",
        ],
        [
            "Industry",
            "is one of",
            "software, it_services, financial_services, manufacturing",
            "+20",
        ],
        ["Country", "is one of", "DE, AT, CH", "+10"],
        ["Fit points, grade B", "65"],
    ]
    assert found["unmatched-grade-rules"][1:] == [
        ["Seniority", "is one of", "c_level, vp", "+30"],
        ["Seniority", "is one of", "manager", "+10"],
        ["Job title", "contains any of", "Student, Intern, Praktikant, Werkstudent", "-20"],
        ["Company size", "is one of", "51-200, 201-1000, 1001-5000, 5001+", "+20"],
        ["Annual revenue", "is at least", "10000000", "+15"],
    ]


@time_machine.travel(MONDAY, tick=False)
def test_it_lists_every_point_with_its_value_now_and_when_it_halves(client, marketer):
    lead = scored_lead(
        history=[
            ("demo_request", 45, ""),
            ("webinar_attended", 10, "https://www.example.com/webinars/spring"),
            ("page_view", 2, "https://www.example.com/careers/jobs"),
        ]
    )
    client.force_login(marketer)

    html = detail(client, lead)

    assert tables(html)["score-entries"] == [
        ["Rule", "Event", "Date", "Points", "Value now", "Halves next"],
        # one careers page view: +1 from "Page view" (written last, shown first), and
        # -10 * 0.5^(2/30) = -9.55 from "Careers page"
        ["Page view", "Page view /careers/jobs", "02/28/2026",
         "+1", "0.95", "03/30/2026"],
        ["Careers page", "Page view /careers/jobs", "02/28/2026",
         "-10", "-9.55", "03/30/2026"],
        # 20 * 0.5^(10/30) = 15.87, halves on the 30th day
        ["Webinar attended", "Webinar attended /webinars/spring",
         "02/20/2026", "+20", "15.87", "03/22/2026"],
        # 40 * 0.5^(45/30) = 14.14, halves again on the 60th day
        ["Demo request", "Demo request", "01/16/2026", "+40", "14.14", "03/17/2026"],
    ]  # fmt: skip
    # 15.87 + 14.14 - 9.55 + 0.95 = 21.41: band 4, rank B4, cold
    assert re.search(r"Behaviour score</dt><dd>([^<]*)</dd>", html).group(1) == "21.4"
    assert "Every point loses half its value every 30 days" in html
    assert (
        'Rank and temperature</dt><dd><span class="score-signal"><span class="badge rank rank-B">'
        '<span class="visually-hidden">Rank </span>B4</span> <span class="traffic traffic-cold" '
        'data-testid="traffic-light"><span class="traffic-dot" aria-hidden="true"></span>Cold'
        "</span></span>"
    ) in html
    assert 'title="https://www.example.com/careers/jobs">/careers/jobs</span>' in html
    assert 'data-testid="mql-review"' not in html


def test_it_shows_that_an_mql_waits_for_review(client, sales_manager):
    lead = scored_lead(history=[("demo_request", 3, "")], stage=Stage.MQL)
    MqlReview.objects.create(
        lead=lead,
        flagged_at=datetime(2026, 3, 1, 9, 0, tzinfo=UTC),
        behaviour_score=37.8,
        grade="B",
    )
    client.force_login(sales_manager)

    html = " ".join(detail(client, lead).split())

    assert (
        "<strong>Flagged for MQL review</strong> · Since 03/01/2026 this MQL no longer meets the "
        "MQL condition (grade B, behaviour score 37.8 when flagged)."
    ) in html


def test_it_says_so_when_nothing_scored_yet(client, marketer):
    lead = LeadFactory(seniority="", job_title="", country="", company=None)
    client.force_login(marketer)

    html = detail(client, lead)

    assert "No grade rule matched this lead." in html
    assert "No behaviour points yet." in html
    assert "9 grade rules did not match" in html


@pytest.mark.parametrize("events", [1, 20])
def test_it_renders_the_page_with_a_fixed_number_of_queries(
    client, marketer, django_assert_num_queries, events
):
    lead = scored_lead(history=[("email_click", day * 8, "") for day in range(events)])
    EventFactory.create_batch(events, lead=lead)
    client.force_login(marketer)

    # session, user, roles and permissions, the lead; transitions, events,
    # activities and changes for the timeline; opportunities; consents; the score card:
    # profile, grade rules, rule matches with the review flag, ledger with rules and events;
    # the sales cards: assignments, qualification, open tasks, the people a task can go to
    with django_assert_num_queries(18):
        response = client.get(reverse("leads:detail", args=[lead.pk]))

    assert len(response.context["panels"][0].context["rows"]) == events


def test_it_is_added_by_scoring_through_the_leads_panel_registry():
    assert [(panel.name, panel.template) for panel in detail_panels()] == [
        ("score", "scoring/_lead_score.html"),
        ("assignment", "sales/_assignment_panel.html"),
        ("qualification", "sales/_qualification_panel.html"),
        ("opportunity", "sales/_opportunity_panel.html"),
        ("activities", "sales/_activities_panel.html"),
    ]
