"""The demo business as plain rows, from one seeded random generator.

``seed_demo`` writes these rows with the ORM (a few thousand leads) and ``bench.generate`` with
COPY (a million): both get the same shapes from here. Nothing here touches the database. Related
rows point at each other by position (a lead's ``company`` is an index into ``companies()``, its
``owner`` an index into the sales reps the caller has); the writer maps positions to ids. The row
types are in ``demo.rows``.

Grades come from the product's scoring profile and owners from a stand-in for assignment rules,
both through ``demo.rules``, the one place where the generator meets the product's rules. The
leads are drawn unscored: the writers let the scoring app score their events afterwards.
"""

import functools
import itertools
import random
import unicodedata
from collections.abc import Iterable, Iterator
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from faker import Faker

from demo import content, rules
from demo.rows import (
    ActivityRow,
    CampaignRow,
    CompanyRow,
    ConsentRow,
    CostRow,
    EventRow,
    LeadRow,
    OpportunityRow,
    TransitionRow,
)
from leads.lifecycle import Stage
from leads.models import Activity, Channel, Consent, EventKind
from leads.normalize import normalize_email

BERLIN = ZoneInfo("Europe/Berlin")
HOUR = timedelta(hours=1)
DAY = timedelta(days=1)
# How long an MQL whose journey ends there has been waiting for sales, at most.
WAITING = 5 * DAY
# Share of leads created on a weekday in business hours; the rest come in evenings and weekends.
BUSINESS_HOURS_SHARE = 0.9


def anchor_now() -> datetime:
    """Today's midnight (UTC): all generated times lie before it, so a seed gives the same data
    all day long."""
    today = datetime.now(tz=UTC).date()
    return datetime(today.year, today.month, today.day, tzinfo=UTC)


@functools.lru_cache(maxsize=65536)
def ascii_slug(text: str, sep: str = "-") -> str:
    text = text.lower()
    for umlaut, plain in (("ä", "ae"), ("ö", "oe"), ("ü", "ue"), ("ß", "ss")):
        text = text.replace(umlaut, plain)
    plain = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return sep.join("".join(ch if ch.isalnum() else " " for ch in plain).split())


def _weighted(table: dict[str, int]) -> tuple[list[str], list[int]]:
    keys = list(table)
    return keys, list(itertools.accumulate(table[key] for key in keys))


def _pick(rng: random.Random, table: tuple[list, list[int]]) -> object:
    keys, cum_weights = table
    return rng.choices(keys, cum_weights=cum_weights)[0]


def berlin_time(day: date, seconds: float) -> datetime:
    """``seconds`` after midnight of ``day`` in Europe/Berlin, as UTC."""
    # Aware arithmetic is wall-clock arithmetic: 09:00 stays 09:00 on the days clocks change.
    return (datetime.combine(day, time(), tzinfo=BERLIN) + timedelta(seconds=seconds)).astimezone(
        UTC
    )


class Generator:
    """Draws the demo business: ``campaigns()``, ``costs()``, ``companies(n)``, ``leads(n)``."""

    def __init__(
        self,
        *,
        seed: int,
        reps: int,
        scoring: rules.Scoring,
        taken_domains: Iterable[str] = (),
        taken_emails: Iterable[str] = (),
    ) -> None:
        self.rng = random.Random(seed)
        self.reps = reps
        self.scoring = scoring
        self.now = anchor_now()
        self.today = self.now.date()
        fake = Faker(sorted(set(content.LOCALES.values())))
        fake.seed_instance(seed)
        self.first_names = {
            loc: sorted({fake[loc].first_name() for _ in range(500)}) for loc in fake.locales
        }
        self.last_names = {
            loc: sorted({fake[loc].last_name() for _ in range(700)}) for loc in fake.locales
        }
        self.domains = set(taken_domains)
        self.emails = set(taken_emails)
        self.campaign_rows = self._campaign_rows()
        # Each campaign's run in UTC: from its first day's midnight to its last day's end (Berlin).
        self._runs = [
            (
                berlin_time(row.starts_on, 0),
                berlin_time(row.ends_on + DAY, 0) if row.ends_on else None,
            )
            for row in self.campaign_rows
        ]
        self.by_channel: dict[str, list[int]] = {}
        for index, campaign in enumerate(self.campaign_rows):
            self.by_channel.setdefault(campaign.channel, []).append(index)
        self.company_rows: list[CompanyRow] = []
        self.companies_by_country: dict[str, list[int]] = {}
        self._channels = _weighted(content.CHANNEL_WEIGHTS)
        self._countries = {
            channel: _weighted({c: w for c, w in content.COUNTRY_WEIGHTS.items() if c in countries})
            for channel, countries in content.CHANNEL_COUNTRIES.items()
        }
        self._all_countries = _weighted(content.COUNTRY_WEIGHTS)
        self._legal_forms = {
            locale: _weighted(forms) for locale, forms in content.LEGAL_FORMS.items()
        }
        self._jobs = (
            list(range(len(content.JOBS))),
            list(itertools.accumulate(job[3] for job in content.JOBS)),
        )
        self._towns = {
            country: (
                [(t, a) for t, a, _w in towns],
                list(itertools.accumulate(w for *_, w in towns)),
            )
            for country, towns in content.TOWNS.items()
        }

    # --- campaigns and companies -------------------------------------------------------------

    def _campaign_rows(self) -> list[CampaignRow]:
        monday = self.today - timedelta(days=self.today.weekday())
        rows = []
        for spec in content.CAMPAIGNS:
            starts_on = monday - timedelta(weeks=spec.starts_weeks_ago)
            if spec.channel == Channel.TRADE_FAIR:
                starts_on += DAY  # Tuesday to Thursday
            ends_on = starts_on + timedelta(days=spec.runs_days) if spec.runs_days else None
            created = berlin_time(starts_on - timedelta(days=14), 10 * 3600)
            rows.append(
                CampaignRow(
                    spec.name,
                    spec.channel,
                    spec.direction,
                    starts_on,
                    ends_on,
                    created,
                    spec.monthly_cost,
                )
            )
        return rows

    def campaigns(self) -> list[CampaignRow]:
        return self.campaign_rows

    def costs(self) -> list[CostRow]:
        rows = []
        for index, campaign in enumerate(self.campaign_rows):
            last = min(campaign.ends_on or self.today, self.today - DAY)
            day = campaign.starts_on
            while day <= last:
                amount = Decimal(campaign.monthly_cost * self.rng.uniform(0.8, 1.2))
                note = self.rng.choice(content.COST_NOTES)
                rows.append(CostRow(index, day, amount.quantize(Decimal("0.01")), note))
                day += timedelta(days=30)
        return rows

    def companies(self, count: int) -> list[CompanyRow]:
        rng = self.rng
        sizes = _weighted({size: spec[0] for size, spec in content.SIZES.items()})
        industries = _weighted(content.INDUSTRY_WEIGHTS)
        rows = []
        for _ in range(count):
            country = _pick(rng, self._all_countries)
            name = self._company_name(content.LOCALES[country])
            base = ascii_slug(name) or "company"
            domain, suffix = f"{base}.{content.DEMO_TLD}", 1
            while domain in self.domains:
                suffix += 1
                domain = f"{base}-{suffix}.{content.DEMO_TLD}"
            self.domains.add(domain)
            size = _pick(rng, sizes)
            _weight, low, high = content.SIZES[size]
            revenue = None
            if size and rng.random() < 0.8:
                revenue = Decimal(round(rng.uniform(low, high), -3))
            self.companies_by_country.setdefault(country, []).append(len(self.company_rows))
            row = CompanyRow(
                name=name,
                domain=domain,
                industry=_pick(rng, industries),
                size_band=size,
                annual_revenue=revenue,
                revenue_currency=content.CURRENCIES.get(country, "EUR"),
                created_at=self.now - timedelta(seconds=rng.uniform(400 * 86400, 900 * 86400)),
                country=country,
                town=self._town(country),
            )
            self.company_rows.append(row)
            rows.append(row)
        return rows

    def _company_name(self, locale: str) -> str:
        """A family-name firm, as the Mittelstand and its peers abroad are often called."""
        rng, names = self.rng, self.last_names[locale]
        base = rng.choice(names)
        if rng.random() < 0.25:
            base = f"{base} & {rng.choice(names)}"
        return f"{base} {_pick(rng, self._legal_forms[locale])}"

    def _town(self, country: str) -> tuple[str, str]:
        return _pick(self.rng, self._towns[country])

    # --- leads ---------------------------------------------------------------------------------

    def leads(self, count: int, *, events_per_lead: int | None = None) -> Iterator[LeadRow]:
        """``count`` leads; ``events_per_lead`` fixes each lead's number of events (else 2 to 20).
        The first leads are drawn until each stage has one, so even a small demo shows the whole
        funnel."""
        wanted = [stage.value for stage in Stage]
        for number in range(count):
            lead = self._lead(number, events_per_lead)
            if number < len(wanted):
                for _ in range(1000):
                    if lead.stage == wanted[number]:
                        break
                    lead = self._lead(number, events_per_lead)
            self.emails.add(lead.email_key)
            yield lead

    def _lead(self, number: int, events_per_lead: int | None) -> LeadRow:
        rng = self.rng
        channel = _pick(rng, self._channels)
        campaign = rng.choice(self.by_channel[channel]) if channel in self.by_channel else None
        countries = self._countries.get(channel, self._all_countries)
        country = _pick(rng, countries)
        german = country in content.DACH and rng.random() >= content.ENGLISH_IN_DACH
        language = "de" if german else "en"
        locale = content.LOCALES[country]
        company_index = None
        if rng.random() < 0.85 and self.companies_by_country.get(country):
            company_index = rng.choice(self.companies_by_country[country])
        company = self.company_rows[company_index] if company_index is not None else None
        title_de, title_en, seniority, _w = content.JOBS[_pick(rng, self._jobs)]
        job_title = title_de if german else title_en
        town, area = company.town if company and rng.random() < 0.8 else self._town(country)
        points = self.scoring.fit_points(
            {
                "job_title": job_title,
                "seniority": seniority,
                "company__industry": company.industry if company else None,
                "company__size_band": company.size_band if company else None,
                "company__annual_revenue": company.annual_revenue if company else None,
                "country": country,
                "city": town,
                "age_band": "",
            }
        )
        created = self._created(country, campaign)
        steps = self._journey(self.scoring.can_become_mql(points), created, language)
        stage = steps[-1].to_stage
        picked_up = stage == Stage.MQL and rng.random() < 0.5
        owner = None
        if picked_up or any(step.actor == "owner" for step in steps):
            owner = rules.assign_owner(country=country, number=number, reps=self.reps)
        scores = self.scoring.unscored(points)
        first, last = rng.choice(self.first_names[locale]), rng.choice(self.last_names[locale])
        email = self._email(first, last, company.domain if company else None)
        has_phone = channel == Channel.COLD_CALL or rng.random() < 0.75
        utm_source, utm_medium = (
            content.UTM.get(channel, ("", "")) if campaign is not None else ("", "")
        )
        last_campaign = campaign
        if campaign is not None and rng.random() < 0.4:
            last_campaign = self._campaign_between(created, self.now) or campaign
        lead = LeadRow(
            email=email,
            email_key=normalize_email(email),
            first_name=first,
            last_name=last,
            phone=self._phone(country, area) if has_phone else "",
            job_title=job_title,
            seniority=seniority,
            country=country,
            city=town,
            language=language,
            company=company_index,
            stage=stage,
            stage_changed_at=steps[-1].at,
            owner=owner,
            grade=scores.grade,
            fit_points=scores.fit_points,
            behaviour_score=scores.behaviour_score,
            rank=scores.rank,
            temperature=scores.temperature,
            source_channel=channel,
            first_campaign=campaign,
            last_campaign=last_campaign,
            utm_source=utm_source,
            utm_medium=utm_medium,
            utm_campaign=ascii_slug(self.campaign_rows[campaign].name) if utm_source else "",
            utm_term=rng.choice(content.AD_TERMS) if utm_medium == "cpc" else "",
            utm_content=rng.choice(["", "variant-a", "variant-b"]) if utm_source else "",
            created_at=created,
            transitions=steps,
        )
        lead.events = self._events(lead, events_per_lead)
        lead.opportunity = self._opportunity(lead, company)
        if owner is not None:
            lead.activities = self._activities(lead)
        lead.consents = self._consents(lead)
        return lead

    def _created(self, country: str, campaign: int | None) -> datetime:
        """A moment in the campaign's run (or the last year), mostly on a weekday in the lead's
        business hours that are also Berlin's."""
        rng = self.rng
        first_day, last_day = self.today - timedelta(days=365), self.today - DAY
        if campaign is not None:
            row = self.campaign_rows[campaign]
            first_day = row.starts_on
            last_day = min(row.ends_on or last_day, last_day)
        days = (last_day - first_day).days + 1
        business = rng.random() < BUSINESS_HOURS_SHARE
        day = first_day + timedelta(days=rng.randrange(days))
        for _ in range(10):
            if not business or day.weekday() < 5:
                break
            day = first_day + timedelta(days=rng.randrange(days))
        if business:
            opens, closes = content.BERLIN_HOURS[country]
            return berlin_time(day, rng.uniform(opens * 3600, closes * 3600))
        return berlin_time(day, rng.uniform(0, 86400))

    def _business(self, moment: datetime) -> datetime:
        """``moment`` if it is in Berlin business hours, else a time on the next working morning."""
        local = moment.astimezone(BERLIN)
        if local.weekday() < 5 and 8 <= local.hour < 17:
            return moment
        day = local.date() + (DAY if local.hour >= 8 else timedelta())
        while day.weekday() >= 5:
            day += DAY
        return berlin_time(day, self.rng.uniform(8 * 3600, 12 * 3600))

    def _journey(self, good_fit: bool, created: datetime, language: str) -> list[TransitionRow]:
        rng = self.rng
        journeys = content.GOOD_FIT_JOURNEYS if good_fit else content.OTHER_JOURNEYS
        path = rng.choices([j for j, _w in journeys], weights=[w for _j, w in journeys])[0]
        steps = [TransitionRow("", path[0], created, "marketer", "")]
        for previous, stage in itertools.pairwise(path):
            low, mode, high = content.STEP_DAYS[(previous, stage)]
            at = steps[-1].at + timedelta(days=rng.triangular(low, high, mode))
            if stage == Stage.MQL:
                actor = "rule"
            elif previous in (Stage.UNQUALIFIED, Stage.NURTURE, Stage.DISQUALIFIED):
                actor = "marketer"
            else:
                actor = "owner"
            if actor != "rule":
                at = self._business(at)
            if at >= self.now:
                break
            steps.append(
                TransitionRow(previous, stage, at, actor, self._reason(previous, stage, language))
            )
        last = steps[-1]
        if len(steps) == len(path) and last.to_stage == Stage.MQL and self.now - last.at > WAITING:
            # A journey that ends as an MQL ends lately: sales works an MQL within days, so one
            # still waiting became an MQL recently (with the strong signal that made it one).
            at = self.now - timedelta(seconds=rng.uniform(0.1, 1) * WAITING.total_seconds())
            last.at = max(at, steps[-2].at + HOUR)
        return steps

    def _reason(self, previous: str, stage: str, language: str) -> str:
        reasons = content.REASONS[language]
        options = reasons.get((previous, stage)) or reasons.get((stage,))
        return self.rng.choice(options) if options else ""

    def _email(self, first: str, last: str, domain: str | None) -> str:
        rng = self.rng
        domain = domain or f"mail.{content.DEMO_TLD}"
        first_slug, last_slug = ascii_slug(first, "."), ascii_slug(last, ".")
        pattern = rng.random()
        if pattern < 0.6:
            local = f"{first_slug}.{last_slug}"
        elif pattern < 0.8:
            local = f"{first_slug[:1]}.{last_slug}"
        else:
            local = f"{first_slug}{last_slug}".replace(".", "")
        if rng.random() < 0.1:  # typed with capitals; the key is lower-case
            local = ".".join(part.capitalize() for part in local.split("."))
        email, suffix = f"{local}@{domain}", 1
        while normalize_email(email) in self.emails:
            suffix += 1
            email = f"{local}{suffix}@{domain}"
        return email

    def _phone(self, country: str, area: str) -> str:
        rng = self.rng
        code = content.COUNTRY_CALLING_CODES[country]
        mobiles = content.MOBILE_PREFIXES.get(country)
        if country in ("US", "CA"):
            return f"+1 {area}-555-01{rng.randrange(100):02d}"
        if country == "GB":
            return f"+44 {area} 0{rng.randrange(1000):03d}"
        if country == "CH":
            prefix = rng.choice(mobiles) if rng.random() < 0.3 else area
            number = f"{rng.randrange(200, 1000)} {rng.randrange(100):02d} {rng.randrange(100):02d}"
            return f"+41 {prefix} {number}"
        if mobiles and rng.random() < 0.3:
            return f"+{code} {rng.choice(mobiles)} {rng.randrange(1_000_000, 100_000_000)}"
        if country == "DE":
            digits = max(5, 10 - len(area))
        else:  # AT, IE
            digits = 7 if len(area) == 1 or country == "IE" else 6
        return f"+{code} {area} {rng.randrange(2 * 10 ** (digits - 1), 10**digits)}"

    def _active(self, campaign: int | None, moment: datetime) -> bool:
        if campaign is None:
            return False
        starts, ends = self._runs[campaign]
        return starts <= moment and (ends is None or moment < ends)

    def _campaign_between(self, start: datetime, end: datetime) -> int | None:
        """A campaign running at some moment between ``start`` and ``end``."""
        moment = start + (end - start) * self.rng.random()
        running = [i for i in range(len(self.campaign_rows)) if self._active(i, moment)]
        return self.rng.choice(running) if running else None

    def _channel_campaign(self, channel: str, moment: datetime) -> int | None:
        for index in self.by_channel.get(channel, ()):
            if self._active(index, moment):
                return index
        return None

    # --- a lead's events, opportunity, activities and consents ------------------------------

    def _events(self, lead: LeadRow, count: int | None) -> list[EventRow]:
        rng = self.rng
        worked = lead.owner is not None and any(s.to_stage == Stage.SQL for s in lead.transitions)
        events = []
        first_kind = content.FIRST_EVENT.get(lead.source_channel)
        if first_kind:
            events.append(self._event(lead, first_kind, lead.created_at, lead.first_campaign))
        mql_at = next((s.at for s in lead.transitions if s.to_stage == Stage.MQL), None)
        if mql_at is not None:
            # What made the MQL rule promote the lead: a look at the prices and a strong signal
            # in the hours before.
            strong = rng.choice(content.MQL_SIGNALS)
            for kind in (EventKind.PRICING_PAGE_VIEW, *strong):
                at = max(lead.created_at, mql_at - timedelta(hours=rng.uniform(0.5, 36)))
                events.append(self._event(lead, kind, at, lead.first_campaign))
        if worked:
            # Sales accepted the lead after it asked for a demo.
            sql_at = next(s.at for s in lead.transitions if s.to_stage == Stage.SQL)
            at = max(lead.created_at, sql_at - timedelta(hours=rng.uniform(2, 72)))
            events.append(self._event(lead, EventKind.DEMO_REQUEST, at, lead.last_campaign))
        weights = [late if worked else early for _k, early, late in content.EVENT_MIX]
        kinds = [kind for kind, _e, _l in content.EVENT_MIX]
        if lead.stage in (Stage.MQL, Stage.SQL, Stage.OPPORTUNITY):
            # Leads in play are still engaging: a few visits, clicks or webinars lately.
            since = max(lead.created_at, self.now - 21 * DAY)
            recent = (self.now - since).total_seconds()
            late = [late for _k, _early, late in content.EVENT_MIX]
            for _ in range(rng.randint(0, 4)):
                at = since + timedelta(seconds=rng.uniform(0, recent))
                events.append(self._event(lead, rng.choices(kinds, weights=late)[0], at, None))
        if count is None:
            count = len(events) + rng.randint(2, 16) + (4 if worked else 0)
        span = (self.now - lead.created_at).total_seconds()
        while len(events) < count:
            at = lead.created_at + timedelta(seconds=rng.uniform(0, span))
            kind = rng.choices(kinds, weights=weights)[0]
            events.append(self._event(lead, kind, at, None))
        del events[count:]
        if count > 1 and rng.random() < 0.03:
            at = lead.created_at + timedelta(seconds=rng.uniform(0, span))
            events[-1] = self._event(lead, EventKind.UNSUBSCRIBE, at, None)
        return events

    def _event(self, lead: LeadRow, kind: str, at: datetime, campaign: int | None) -> EventRow:
        rng = self.rng
        base = f"https://www.leadcrm.{content.DEMO_TLD}"
        url, asset, properties = f"{base}{rng.choice(content.PAGES)}", "", {}
        if kind == EventKind.PRICING_PAGE_VIEW:
            url = f"{base}/pricing"
        elif kind == EventKind.DOWNLOAD:
            asset = rng.choice(content.ASSETS)
            url = f"{base}/downloads/{asset}"
            campaign = (
                campaign if campaign is not None else self._channel_campaign(Channel.EBOOK, at)
            )
        elif kind in (EventKind.WEBINAR_REGISTERED, EventKind.WEBINAR_ATTENDED):
            if campaign is None:
                campaign = self._channel_campaign(Channel.WEBINAR, at)
            asset = self.campaign_rows[campaign].name if campaign is not None else ""
            url = f"{base}/webinars"
        elif kind in (EventKind.EMAIL_OPEN, EventKind.EMAIL_CLICK, EventKind.UNSUBSCRIBE):
            campaign = self._channel_campaign(Channel.NEWSLETTER, at)
            url = "" if kind == EventKind.EMAIL_OPEN else url
            properties = {"message_id": f"nl-{at:%Y%m}"}
        elif kind in (EventKind.FORM_SUBMIT, EventKind.NEWSLETTER_SIGNUP):
            url = f"{base}/contact"
        elif kind in (EventKind.DEMO_REQUEST, EventKind.QUOTE_REQUEST):
            url = f"{base}/{'demo' if kind == EventKind.DEMO_REQUEST else 'quote'}"
        elif lead.utm_source and self._active(lead.first_campaign, at):
            properties = {"utm_source": lead.utm_source, "utm_medium": lead.utm_medium}
            campaign = lead.first_campaign
        if campaign is not None and not self._active(campaign, at):
            campaign = None
        return EventRow(kind, url, asset, campaign, at, properties)

    def _opportunity(self, lead: LeadRow, company: CompanyRow | None) -> OpportunityRow | None:
        rng = self.rng
        stages = [step.to_stage for step in lead.transitions]
        if Stage.OPPORTUNITY not in stages:
            return None
        position = stages.index(Stage.OPPORTUNITY)
        opened = lead.transitions[position].at
        amount = Decimal(rng.randrange(3_000, 120_000, 500))
        row = OpportunityRow(
            name=f"{company.name if company else f'{lead.first_name} {lead.last_name}'}: "
            f"{content.OPPORTUNITY_NAMES[lead.language]}",
            amount=amount,
            currency=company.revenue_currency if company else "EUR",
            expected_margin=(amount * Decimal(rng.uniform(0.2, 0.45))).quantize(Decimal("0.01")),
            probability=rng.choice([20, 40, 60, 80]),
            expected_close_on=(self.now + timedelta(days=rng.randint(7, 120))).date(),
            status="open",
            lost_reason="",
            closed_at=None,
            created_at=opened,
        )
        if position + 1 < len(stages):
            won = stages[position + 1] == Stage.CUSTOMER
            row.status = "won" if won else "lost"
            row.probability = 100 if won else 0
            row.closed_at = lead.transitions[position + 1].at
            row.expected_close_on = row.closed_at.date()
            row.lost_reason = "" if won else rng.choice(content.LOST_REASONS[lead.language])
        return row

    def _activities(self, lead: LeadRow) -> list[ActivityRow]:
        rng = self.rng
        texts = content.ACTIVITIES[lead.language]
        start = lead.transitions[1].at if len(lead.transitions) > 1 else lead.created_at
        end = min(lead.stage_changed_at + timedelta(days=30), self.now - DAY)
        rows = []
        for _ in range(rng.randint(1, 5) if end > start else 0):
            kind = rng.choice(list(texts))
            created = self._business(start + (end - start) * rng.random())
            if created >= self.now:
                continue
            subjects, notes = texts[kind]
            due_at = done_at = None
            if kind == Activity.Kind.TASK:
                due_at = created + timedelta(days=rng.randint(1, 14))
                done_at = due_at if due_at < self.now and rng.random() < 0.7 else None
            elif kind in (Activity.Kind.CALL, Activity.Kind.MEETING):
                done_at = created
            rows.append(
                ActivityRow(kind, rng.choice(subjects), rng.choice(notes), due_at, done_at, created)
            )
        return rows

    def _consents(self, lead: LeadRow) -> list[ConsentRow]:
        """Marketing e-mail consent as the channel gets it: double opt-in on the web, signed at a
        trade fair, asked for (and only sometimes confirmed) for a purchased list."""
        rng, channel, at = self.rng, lead.source_channel, lead.created_at
        source = content.CONSENT_SOURCES[channel]
        web = source in (Consent.Source.WEB_FORM, Consent.Source.LANDING_PAGE)
        ip = f"198.51.100.{rng.randint(1, 254)}" if web else None  # TEST-NET-2
        marketing, purpose = [], Consent.Purpose.MARKETING_EMAIL
        draw = rng.random()
        if channel == Channel.PURCHASED_LIST:
            if draw < 0.15:
                confirmed = at + timedelta(hours=rng.uniform(1, 72))
                marketing.append(ConsentRow(purpose, "granted", source, at, None, confirmed))
            elif draw < 0.5:
                marketing.append(ConsentRow(purpose, "pending", source, at, None, None))
        elif channel == Channel.TRADE_FAIR:
            if draw < 0.8:
                marketing.append(ConsentRow(purpose, "granted", source, at, None, None))
        elif channel in (Channel.COLD_CALL, Channel.COLD_EMAIL):
            if draw < 0.2:
                confirmed = at + timedelta(minutes=rng.uniform(2, 600))
                marketing.append(ConsentRow(purpose, "granted", source, at, ip, confirmed))
        elif draw < 0.88:
            confirmed = at + timedelta(minutes=rng.uniform(2, 600))
            marketing.append(ConsentRow(purpose, "granted", source, at, ip, confirmed))
            if channel == Channel.NEWSLETTER:
                newsletter = Consent.Purpose.NEWSLETTER
                marketing.append(ConsentRow(newsletter, "granted", source, at, ip, confirmed))
        elif draw < 0.94:
            marketing.append(ConsentRow(purpose, "pending", source, at, ip, None))
        rows = marketing
        unsubscribed = [e.occurred_at for e in lead.events if e.kind == EventKind.UNSUBSCRIBE]
        if unsubscribed and marketing:
            withdrawn = max(unsubscribed[0], at + HOUR)
            rows.append(
                ConsentRow(
                    purpose, "withdrawn", Consent.Source.UNSUBSCRIBE_LINK, withdrawn, None, None
                )
            )
        if channel == Channel.COLD_CALL and rng.random() < 0.3:
            rows.append(ConsentRow(Consent.Purpose.PHONE, "granted", source, at, None, None))
        if web and rng.random() < 0.6:
            banner = Consent.Source.COOKIE_BANNER
            rows.append(ConsentRow(Consent.Purpose.TRACKING, "granted", banner, at, ip, None))
        return rows
