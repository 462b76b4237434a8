"""The lead list: every sort, keyset pages, capped counts, day bounds, columns, saved and
built-in views, bulk actions and the API's count."""

import csv
import io
import time
from datetime import UTC, datetime

import pytest
from django.urls import reverse

from leads.lifecycle import Stage
from leads.listing import SORTS
from leads.models import Lead, LeadChange, SavedView, StageTransition
from leads.selectors import lead_page
from tests.factories import CompanyFactory, LeadFactory

pytestmark = pytest.mark.django_db

LIST_URL = reverse("leads:list")
BULK_URL = reverse("leads:bulk")


def names(response) -> list[str]:
    return [lead.last_name for lead in response.context["leads"]]


def at(day: int, hour: int = 12, minute: int = 0) -> datetime:
    return datetime(2026, 3, day, hour, minute, tzinfo=UTC)


@pytest.fixture
def five_leads(db):
    """Five leads whose every sortable value is chosen so each sort gives a known order."""
    acme, zeta = CompanyFactory(name="acme"), CompanyFactory(name="Zeta")
    rows = [
        # last name, first, company, created, score, rank, stage changed
        ("Adams", "Zoe", zeta, at(3), 10.0, "C2", at(9)),
        ("Brown", "Amy", None, at(5), 80.0, "A1", at(4)),
        ("adams", "Amy", acme, at(1), 55.0, "A1", at(6)),
        ("Clark", "Bob", acme, at(4), 20.0, "B3", at(8)),
        ("Diaz", "Eve", None, at(2), 35.0, "D4", at(7)),
    ]
    for last, first, company, created, score, rank, changed in rows:
        LeadFactory(
            last_name=last,
            first_name=first,
            company=company,
            created_at=created,
            behaviour_score=score,
            rank=rank,
            grade=rank[0],
            stage_changed_at=changed,
        )


@pytest.mark.parametrize(
    ("sort", "expected"),
    [
        ("newest", ["Brown", "Clark", "Adams", "Diaz", "adams"]),
        ("oldest", ["adams", "Diaz", "Adams", "Clark", "Brown"]),
        # Case-insensitive last name, then first name: adams Amy before Adams Zoe.
        ("name", ["adams", "Adams", "Brown", "Clark", "Diaz"]),
        ("score", ["Brown", "adams", "Diaz", "Clark", "Adams"]),
        # A1 (the higher score first), B3, C2, D4.
        ("rank", ["Brown", "adams", "Clark", "Adams", "Diaz"]),
        ("stage_changed", ["Adams", "Clark", "Diaz", "adams", "Brown"]),
        # acme (case-insensitive, older lead first by id), Zeta, then leads without a company.
        ("company", ["adams", "Clark", "Adams", "Brown", "Diaz"]),
    ],
)
def test_each_sort_lists_the_leads_in_its_order(client, marketer, five_leads, sort, expected):
    client.force_login(marketer)

    assert names(client.get(LIST_URL, {"sort": sort})) == expected


@pytest.mark.parametrize("sort", list(SORTS))
def test_keyset_pages_never_skip_or_repeat_a_lead_while_leads_arrive(marketer, sort):
    companies = [CompanyFactory(name=name) for name in ("b", "a", "c")]
    for number in range(11):
        LeadFactory(
            last_name=f"L{number % 4}",
            company=companies[number % 3] if number % 4 else None,
            behaviour_score=float(number % 3),
            rank=["A1", "B2", "C3"][number % 3],
            created_at=at(1 + number % 5),
            stage_changed_at=at(1 + number % 2),
        )
    original = set(Lead.objects.values_list("pk", flat=True))
    leads = Lead.objects.all()
    seen: list[int] = []
    page = lead_page(leads=leads, sort=SORTS[sort], size=3)
    while True:
        seen += [lead.pk for lead in page.leads]
        # A lead arrives between two clicks on "Next", sorting anywhere.
        LeadFactory(created_at=at(3, 13), behaviour_score=1.0, company=None)
        if page.next_cursor is None:
            break
        page = lead_page(leads=leads, sort=SORTS[sort], cursor=page.next_cursor, size=3)
    shown_originals = [pk for pk in seen if pk in original]
    assert sorted(shown_originals) == sorted(original)
    assert len(seen) == len(set(seen))


def test_previous_goes_back_to_the_same_leads_and_numbers_them(marketer, five_leads):
    leads = Lead.objects.all()
    first = lead_page(leads=leads, sort=SORTS["oldest"], size=2)
    second = lead_page(leads=leads, sort=SORTS["oldest"], cursor=first.next_cursor, size=2)
    third = lead_page(leads=leads, sort=SORTS["oldest"], cursor=second.next_cursor, size=2)
    back = lead_page(leads=leads, sort=SORTS["oldest"], cursor=third.previous_cursor, size=2)

    assert [lead.last_name for lead in third.leads] == ["Brown"]
    assert (third.start, third.end, third.next_cursor) == (5, 5, None)
    assert [lead.last_name for lead in back.leads] == ["Adams", "Clark"]
    assert (back.start, back.end) == (3, 4)
    assert first.previous_cursor is None


def test_a_garbled_cursor_starts_at_the_first_page(client, marketer, five_leads):
    client.force_login(marketer)

    response = client.get(LIST_URL, {"sort": "oldest", "cursor": "not-a-cursor"})

    assert response.status_code == 200
    assert names(response)[0] == "adams"


def test_the_count_stops_at_the_cap_and_says_so(client, marketer, monkeypatch):
    monkeypatch.setattr("leadcrm.paging.LIST_COUNT_CAP", 3)
    LeadFactory.create_batch(4)
    client.force_login(marketer)

    body = client.get(LIST_URL).content.decode()

    assert "3+ leads" in body
    api = client.get(reverse("api-lead-list")).json()
    assert (api["count"], api["count_capped"], len(api["results"])) == (3, True, 4)


def test_a_count_over_the_cap_is_remembered_for_a_while_and_one_under_it_never(
    client, marketer, sales_rep, monkeypatch
):
    monkeypatch.setattr("leadcrm.paging.LIST_COUNT_CAP", 3)
    monkeypatch.setattr("leadcrm.paging.CAPPED_COUNT_SECONDS", 1)
    grade_a = LeadFactory.create_batch(4, grade="A", owner=sales_rep)
    LeadFactory.create_batch(2, grade="B")
    client.force_login(marketer)

    def counted(user, grade: str) -> tuple[int, bool]:
        client.force_login(user)
        body = client.get(reverse("api-lead-list"), {"grade": grade}).json()
        return body["count"], body["count_capped"]

    assert counted(marketer, "A") == (3, True)
    assert counted(marketer, "B") == (2, False)
    for lead in grade_a[:2]:
        lead.delete()
    LeadFactory.create_batch(2, grade="B")

    # Over the cap a moment ago: still "3+" (the page says so too); under it: counted afresh.
    assert counted(marketer, "A") == (3, True)
    assert "3+ leads" in client.get(LIST_URL, {"grade": "A"}).content.decode()
    assert counted(marketer, "B") == (3, True)
    # Another user's list is another count: the rep's own 2 grade A leads.
    assert counted(sales_rep, "A") == (2, False)
    time.sleep(1.1)
    assert counted(marketer, "A") == (2, False)
    assert "2 leads" in client.get(LIST_URL, {"grade": "A"}).content.decode()


def test_the_api_counts_what_matches_and_pages_by_the_size_asked(client, marketer, five_leads):
    client.force_login(marketer)

    body = client.get(reverse("api-lead-list"), {"grade": "A", "page_size": 1}).json()

    assert (body["count"], body["count_capped"], len(body["results"])) == (2, False, 1)
    assert body["next"] is not None


def test_an_api_page_left_empty_by_a_deletion_still_counts_what_matches(client, marketer):
    # The count comes beside the page's rows; a page with no rows counts on its own.
    first, second = LeadFactory(grade="A"), LeadFactory(grade="A")
    LeadFactory(grade="B")
    client.force_login(marketer)
    page = client.get(reverse("api-lead-list"), {"grade": "A", "page_size": 1}).json()
    assert [lead["id"] for lead in page["results"]] == [second.pk]
    second.delete()

    following = client.get(page["next"]).json()

    assert [lead["id"] for lead in following["results"]] == [first.pk]
    assert (following["count"], following["count_capped"]) == (1, False)
    first.delete()
    empty = client.get(page["next"]).json()
    assert (empty["results"], empty["count"], empty["count_capped"]) == ([], 0, False)
    LeadFactory(grade="A")
    past_the_end = client.get(page["next"]).json()
    assert (past_the_end["results"], past_the_end["count"]) == ([], 1)


def test_hot_leads_by_score_are_the_hot_ones_highest_first_page_after_page(client, marketer):
    rows = [
        ("Hot30", "hot", 30.0),
        ("Warm90", "warm", 90.0),
        ("Hot75", "hot", 75.0),
        ("Cold99", "cold", 99.0),
        ("Hot80", "hot", 80.0),
        ("Hot10", "hot", 10.0),
    ]
    for last_name, temperature, score in rows:
        LeadFactory(last_name=last_name, temperature=temperature, behaviour_score=score)
    client.force_login(marketer)

    page = client.get(LIST_URL, {"temperature": "hot", "sort": "score"})
    api = client.get(
        reverse("api-lead-list"),
        {"temperature": "hot", "ordering": "-behaviour_score", "page_size": 2},
    ).json()
    api_next = client.get(api["next"]).json()
    api_rising = client.get(
        reverse("api-lead-list"), {"temperature": "hot", "ordering": "behaviour_score"}
    ).json()
    searched = client.get(LIST_URL, {"temperature": "hot", "sort": "score", "q": "hot7"})
    api_searched = client.get(
        reverse("api-lead-list"),
        {"temperature": "hot", "ordering": "-behaviour_score", "q": "Hot"},
    ).json()

    assert names(page) == ["Hot80", "Hot75", "Hot30", "Hot10"]
    assert page.context["page"].count == 4
    assert [lead["last_name"] for lead in api["results"]] == ["Hot80", "Hot75"]
    assert api["count"] == 4
    assert [lead["last_name"] for lead in api_next["results"]] == ["Hot30", "Hot10"]
    assert [lead["last_name"] for lead in api_rising["results"]] == [
        "Hot10",
        "Hot30",
        "Hot75",
        "Hot80",
    ]
    assert (names(searched), searched.context["page"].count) == (["Hot75"], 1)
    assert [lead["last_name"] for lead in api_searched["results"]] == [
        "Hot80",
        "Hot75",
        "Hot30",
        "Hot10",
    ]
    assert api_searched["count"] == 4


def test_grade_filter_takes_every_rank_of_the_grade(client, marketer, five_leads):
    client.force_login(marketer)

    assert sorted(names(client.get(LIST_URL, {"grade": ["A", "B"]}))) == [
        "Brown",
        "Clark",
        "adams",
    ]


def test_created_dates_are_days_in_berlin(client, marketer):
    # 1 March 23:30 in Berlin is 22:30 UTC; 2 March 00:15 in Berlin is 1 March 23:15 UTC.
    LeadFactory(last_name="Late", created_at=datetime(2026, 3, 1, 22, 30, tzinfo=UTC))
    LeadFactory(last_name="Early", created_at=datetime(2026, 3, 1, 23, 15, tzinfo=UTC))
    client.force_login(marketer)

    assert names(client.get(LIST_URL, {"created_before": "2026-03-01"})) == ["Late"]
    assert names(client.get(LIST_URL, {"created_after": "2026-03-02"})) == ["Early"]
    api = client.get(reverse("api-lead-list"), {"created_after": "2026-03-02"}).json()
    assert [lead["last_name"] for lead in api["results"]] == ["Early"]


def test_a_header_click_sorts_and_a_second_click_reverses_the_dates(client, marketer, five_leads):
    client.force_login(marketer)

    header = {cell.key: cell for cell in client.get(LIST_URL).context["header"]}
    assert header["created"].sorted == "descending"
    assert header["created"].query == "sort=oldest"
    assert header["name"].query == "sort=name"
    assert header["owner"].query is None
    reversed_header = {
        cell.key: cell for cell in client.get(LIST_URL, {"sort": "oldest"}).context["header"]
    }
    assert reversed_header["created"].sorted == "ascending"
    assert reversed_header["created"].query == "sort=newest"


def test_chosen_columns_are_remembered_per_user(client, marketer, sales_manager, five_leads):
    client.force_login(marketer)
    client.post(
        reverse("leads:columns"),
        {"column": ["stage", "job_title", "bogus"], "next": f"{LIST_URL}?sort=name"},
    )

    response = client.get(LIST_URL)
    assert response.context["columns"] == ["name", "stage", "job_title"]
    assert [cell.label for cell in response.context["header"]] == ["Name", "Stage", "Job title"]
    assert '<th scope="col" class="col-job_title">' in response.content.decode()
    client.force_login(sales_manager)
    assert client.get(LIST_URL).context["columns"] == [
        "name",
        "rank",
        "score",
        "company",
        "stage",
        "owner",
        "channel",
        "created",
    ]


def test_every_column_costs_the_same_queries_for_3_or_30_leads(
    client, marketer, django_assert_num_queries
):
    client.force_login(marketer)
    client.post(reverse("leads:columns"), {"column": ["company", "owner", "campaign", "city"]})
    LeadFactory.create_batch(3)
    # session, user, roles and permissions, saved views, columns, count, page, owners (filter
    # and bulk), campaigns
    with django_assert_num_queries(10):
        assert len(client.get(LIST_URL).context["leads"]) == 3
    LeadFactory.create_batch(27)
    with django_assert_num_queries(10):
        assert len(client.get(LIST_URL).context["leads"]) == 30


def test_a_saved_view_is_private_until_shared(client, marketer, sales_manager, five_leads):
    client.force_login(marketer)
    response = client.post(
        reverse("leads:view-create"),
        {"name": "Big A", "query": "grade=A&sort=score&cursor=xyz&bogus=1"},
    )
    view = SavedView.objects.get()
    assert (view.owner, view.query) == (marketer, "grade=A&sort=score")
    assert response["Location"] == f"{LIST_URL}?grade=A&sort=score&view={view.pk}"
    opened = client.get(response["Location"])
    assert opened.context["active_view"] == view
    assert names(opened) == ["Brown", "adams"]

    client.force_login(sales_manager)
    assert client.get(LIST_URL).context["saved_views"] == []

    client.force_login(marketer)
    client.post(reverse("leads:view-create"), {"name": "big a", "query": "grade=A", "shared": "on"})
    view.refresh_from_db()
    assert (SavedView.objects.count(), view.shared, view.query) == (1, True, "grade=A")
    client.force_login(sales_manager)
    assert client.get(LIST_URL).context["saved_views"] == [view]


def test_only_the_owner_deletes_a_view(client, marketer, sales_manager):
    view = SavedView.objects.create(owner=marketer, name="Mine", shared=True)
    client.force_login(sales_manager)

    client.post(reverse("leads:view-delete", args=[view.pk]))
    assert SavedView.objects.filter(pk=view.pk).exists()

    client.force_login(marketer)
    client.post(reverse("leads:view-delete", args=[view.pk]))
    assert not SavedView.objects.filter(pk=view.pk).exists()


def test_a_saved_view_restores_its_columns(client, marketer):
    view = SavedView.objects.create(
        owner=marketer, name="Phones", query="sort=name", columns=["phone", "city"]
    )
    client.force_login(marketer)

    assert client.get(LIST_URL, {"sort": "name", "view": view.pk}).context["columns"] == [
        "name",
        "city",
        "phone",
    ]


def test_reps_find_their_own_views_built_in(client, sales_rep):
    client.force_login(sales_rep)

    views = {view.slug: view.query for view in client.get(LIST_URL).context["built_in_views"]}

    assert views["my-open-sqls"] == f"stage=sql&owner={sales_rep.pk}&sort=rank"
    assert views["unassigned-mqls"] == "stage=mql&unassigned=true&sort=rank"
    assert "hot-this-week" not in views


def test_a_manager_assigns_selected_leads_in_bulk(client, sales_manager, sales_rep):
    first, second, untouched = LeadFactory.create_batch(3, stage=Stage.MQL)
    client.force_login(sales_manager)

    response = client.post(
        BULK_URL,
        {
            "action": "assign",
            "owner": sales_rep.pk,
            "lead": [first.pk, second.pk],
            "next": LIST_URL,
        },
        follow=True,
    )

    assert "2 leads assigned to" in response.content.decode()
    assert set(Lead.objects.filter(owner=sales_rep).values_list("pk", flat=True)) == {
        first.pk,
        second.pk,
    }
    untouched.refresh_from_db()
    assert untouched.owner is None
    change = LeadChange.objects.get(lead=first)
    assert (change.field, change.old_value, change.by_user) == ("owner", "", sales_manager)


def test_a_rep_assigns_only_to_themselves_and_only_leads_they_see(client, sales_rep, other_rep):
    open_mql = LeadFactory(stage=Stage.MQL)
    others = LeadFactory(stage=Stage.SQL, owner=other_rep)
    client.force_login(sales_rep)

    client.post(BULK_URL, {"action": "assign", "owner": other_rep.pk, "lead": [open_mql.pk]})
    client.post(
        BULK_URL, {"action": "assign", "owner": sales_rep.pk, "lead": [open_mql.pk, others.pk]}
    )

    open_mql.refresh_from_db()
    others.refresh_from_db()
    assert (open_mql.owner, others.owner) == (None, other_rep)
    assert not LeadChange.objects.exists()


def test_bulk_stage_moves_what_the_lifecycle_allows_and_reports_the_rest(client, sales_manager):
    fresh = LeadFactory(stage=Stage.UNQUALIFIED)
    mql = LeadFactory(stage=Stage.MQL)
    customer = LeadFactory(stage=Stage.CUSTOMER)
    client.force_login(sales_manager)

    without_reason = client.post(
        BULK_URL,
        {
            "action": "stage",
            "to_stage": Stage.NURTURE,
            "lead": [fresh.pk, mql.pk],
            "next": LIST_URL,
        },
        follow=True,
    )
    assert "Say why the lead leaves the funnel." in without_reason.content.decode()
    assert not StageTransition.objects.exists()

    response = client.post(
        BULK_URL,
        {
            "action": "stage",
            "to_stage": Stage.NURTURE,
            "reason": "Budget next year",
            "lead": [fresh.pk, mql.pk, customer.pk],
            "next": LIST_URL,
        },
        follow=True,
    )

    body = response.content.decode()
    assert "2 leads moved to “Nurture”." in body
    assert "1 lead stayed where it was" in body
    stages = dict(Lead.objects.values_list("pk", "stage"))
    assert stages == {fresh.pk: Stage.NURTURE, mql.pk: Stage.NURTURE, customer.pk: Stage.CUSTOMER}
    assert set(StageTransition.objects.values_list("reason", flat=True)) == {"Budget next year"}


def test_bulk_stage_refuses_stages_with_a_flow_of_their_own(client, sales_manager):
    sql = LeadFactory(stage=Stage.SQL)
    client.force_login(sales_manager)

    response = client.post(
        BULK_URL, {"action": "stage", "to_stage": Stage.OPPORTUNITY, "lead": [sql.pk]}
    )

    assert response.status_code == 302
    sql.refresh_from_db()
    assert sql.stage == Stage.SQL


def test_export_holds_the_selected_leads_the_user_may_see(client, sales_rep, other_rep):
    mine = LeadFactory(stage=Stage.SQL, owner=sales_rep, email="mine@example.com")
    LeadFactory(stage=Stage.SQL, owner=sales_rep, email="not-selected@example.com")
    theirs = LeadFactory(stage=Stage.SQL, owner=other_rep, email="theirs@example.com")
    client.force_login(sales_rep)

    response = client.post(BULK_URL, {"action": "export", "lead": [mine.pk, theirs.pk]})

    assert response["Content-Type"] == "text/csv; charset=utf-8"
    rows = list(csv.reader(io.StringIO(response.content.decode())))
    assert rows[0][:3] == ["ID", "E-mail", "First name"]
    assert [row[1] for row in rows[1:]] == ["mine@example.com"]


def test_bulk_actions_need_a_selection(client, sales_manager):
    client.force_login(sales_manager)

    response = client.post(BULK_URL, {"action": "export", "next": LIST_URL}, follow=True)

    assert "Select at least one lead." in response.content.decode()


def test_someone_without_a_role_gets_no_bulk_action(client, no_role_user):
    lead = LeadFactory()
    client.force_login(no_role_user)

    assert client.post(BULK_URL, {"action": "export", "lead": [lead.pk]}).status_code == 403


def test_unassigning_a_sales_stage_lead_is_refused_for_the_whole_batch(
    client, sales_manager, sales_rep
):
    mql = LeadFactory(stage=Stage.MQL, owner=sales_rep)
    sql = LeadFactory(stage=Stage.SQL, owner=sales_rep)
    client.force_login(sales_manager)

    response = client.post(
        BULK_URL,
        {"action": "assign", "owner": "", "lead": [mql.pk, sql.pk], "next": LIST_URL},
        follow=True,
    )

    assert "A lead in a sales stage needs an owner." in response.content.decode()
    assert set(Lead.objects.values_list("owner", flat=True)) == {sales_rep.pk}
    assert not LeadChange.objects.exists()


def test_a_reps_own_list_holds_exactly_their_leads(client, sales_rep, other_rep):
    mine = LeadFactory(stage=Stage.CUSTOMER, owner=sales_rep)
    LeadFactory(stage=Stage.MQL)  # unassigned: visible to the rep, but not theirs
    LeadFactory(stage=Stage.SQL, owner=other_rep)
    client.force_login(sales_rep)

    page = client.get(LIST_URL, {"owner": sales_rep.pk})
    api = client.get(reverse("api-lead-list"), {"owner": sales_rep.pk}).json()
    others = client.get(reverse("api-lead-list"), {"owner": other_rep.pk}).json()

    assert [lead.pk for lead in page.context["leads"]] == [mine.pk]
    assert [lead["id"] for lead in api["results"]] == [mine.pk]
    assert others["results"] == []
