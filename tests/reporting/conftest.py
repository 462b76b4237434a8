"""A small business whose KPIs are worked out by hand in the tests (docs/reports.md, "Worked
example", walks through the same numbers).

March 2026 (Europe/Berlin). Campaigns: A webinar (inbound, 1,000 EUR in March, 500 EUR in
February), B cold calls (outbound, 600 EUR in March), C ads (inbound, no costs).

lead  created          first  last  path (margin)
L1    Mar 2 10:00      A      B     unq → mql Mar 3 → sql Mar 5 → opp Mar 6 → cust Mar 10 (3,000)
L2    Mar 2 10:00      A      A     unq → mql Mar 4
L3    Mar 9 10:00      A      A     unqualified
L4    Mar 9 10:00      B      A     unq → mql Mar 10 → nurture Mar 12
L5    Mar 15 10:00     B      B     imported as SQL (→ sql Mar 15)
L6    Feb 25 10:00     A      A     customer Feb 26 (outside March; 2,000)
L7    Mar 20 10:00     -      -     unqualified, source channel SEO
L8    Mar 21 10:00     C      C     unqualified
"""

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from leads.lifecycle import Stage
from leads.models import Campaign, Channel, Lead, Opportunity
from reporting.rollup import rollup_refresh
from reporting.selectors import ReportFilter
from tests.factories import (
    CampaignCostFactory,
    CampaignFactory,
    LeadFactory,
    OpportunityFactory,
    StageTransitionFactory,
    UserFactory,
)

BERLIN = ZoneInfo("Europe/Berlin")
MARCH = ReportFilter(since=dt.date(2026, 3, 1), until=dt.date(2026, 3, 31))


def at(month: int, day: int, hour: int = 10) -> dt.datetime:
    return dt.datetime(2026, month, day, hour, tzinfo=BERLIN)


@dataclass
class Shop:
    a: Campaign
    b: Campaign
    c: Campaign
    leads: dict[str, Lead]
    rep: object
    rep2: object


def _lead(name, created, first, last, stage, path, owner=None, **extra) -> Lead:
    lead = LeadFactory(
        email=f"{name.lower()}@example.com",
        created_at=created,
        first_campaign=first,
        last_campaign=last,
        source_channel=first.channel if first else Channel.SEO,
        stage=stage,
        owner=owner,
        **extra,
    )
    previous = ""
    for to_stage, when in path:
        StageTransitionFactory(lead=lead, from_stage=previous, to_stage=to_stage, at=when)
        previous = to_stage
    return lead


@pytest.fixture
def shop(db) -> Shop:
    from leadcrm.roles import Role

    rep = UserFactory(username="shop-rep", role=Role.SALES_REP)
    rep2 = UserFactory(username="shop-rep2", role=Role.SALES_REP)
    a = CampaignFactory(name="A webinar", channel=Channel.WEBINAR, direction="inbound")
    b = CampaignFactory(name="B cold calls", channel=Channel.COLD_CALL, direction="outbound")
    c = CampaignFactory(name="C ads", channel=Channel.ADS, direction="inbound")
    CampaignCostFactory(campaign=a, incurred_on=dt.date(2026, 3, 10), amount=Decimal("1000"))
    CampaignCostFactory(campaign=a, incurred_on=dt.date(2026, 2, 20), amount=Decimal("500"))
    CampaignCostFactory(campaign=b, incurred_on=dt.date(2026, 3, 5), amount=Decimal("600"))
    unq = Stage.UNQUALIFIED
    leads = {
        "L1": _lead(
            "L1",
            at(3, 2),
            a,
            b,
            Stage.CUSTOMER,
            [
                (unq, at(3, 2)),
                (Stage.MQL, at(3, 3)),
                (Stage.SQL, at(3, 5)),
                (Stage.OPPORTUNITY, at(3, 6)),
                (Stage.CUSTOMER, at(3, 10)),
            ],
            owner=rep,
        ),
        "L2": _lead("L2", at(3, 2), a, a, Stage.MQL, [(unq, at(3, 2)), (Stage.MQL, at(3, 4))]),
        "L3": _lead("L3", at(3, 9), a, a, unq, [(unq, at(3, 9))]),
        "L4": _lead(
            "L4",
            at(3, 9),
            b,
            a,
            Stage.NURTURE,
            [(unq, at(3, 9)), (Stage.MQL, at(3, 10)), (Stage.NURTURE, at(3, 12))],
            owner=rep2,
        ),
        "L5": _lead("L5", at(3, 15), b, b, Stage.SQL, [(Stage.SQL, at(3, 15))], owner=rep2),
        "L6": _lead(
            "L6", at(2, 25), a, a, Stage.CUSTOMER, [(Stage.CUSTOMER, at(2, 26))], owner=rep
        ),
        "L7": _lead("L7", at(3, 20), None, None, unq, [(unq, at(3, 20))]),
        "L8": _lead("L8", at(3, 21), c, c, unq, [(unq, at(3, 21))]),
    }
    OpportunityFactory(
        lead=leads["L1"],
        owner=rep,
        amount=Decimal("10000"),
        status=Opportunity.Status.WON,
        gross_margin=Decimal("3000"),
        closed_at=at(3, 10),
    )
    OpportunityFactory(
        lead=leads["L6"],
        owner=rep,
        amount=Decimal("8000"),
        status=Opportunity.Status.WON,
        gross_margin=Decimal("2000"),
        closed_at=at(2, 26),
    )
    # The reports read the rollup the beat task refreshes every minute: refresh it as it would.
    rollup_refresh()
    return Shop(a=a, b=b, c=c, leads=leads, rep=rep, rep2=rep2)
