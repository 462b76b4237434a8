"""What the demo business is made of: its campaigns, markets, towns, job titles and the words its
people write. Plain data; ``demo.generator`` draws from it.

The demo company is a German CRM vendor selling to the DACH Mittelstand, with some customers in
the UK, Ireland and North America. Its leads' notes, reasons and opportunity names are written in
the lead's language (content, not interface text: they are not translated with gettext).
"""

from dataclasses import dataclass

from leads.lifecycle import Stage
from leads.models import Activity, Channel, CompanySize, Consent, EventKind, Industry, Seniority

# Every demo address and web domain ends in the reserved .example TLD: no mail ever leaves.
DEMO_TLD = "example"


@dataclass(frozen=True)
class CampaignSpec:
    name: str
    channel: str
    direction: str
    starts_weeks_ago: int  # the campaign starts on the Monday of that week
    runs_days: int | None  # None: ongoing
    monthly_cost: int  # EUR


CAMPAIGNS: list[CampaignSpec] = [
    CampaignSpec("Monthly newsletter", Channel.NEWSLETTER, "inbound", 56, None, 400),
    CampaignSpec("SEO content hub", Channel.SEO, "inbound", 56, None, 1200),
    CampaignSpec("Google Ads: CRM software", Channel.ADS, "inbound", 48, None, 4500),
    CampaignSpec("Customer referral programme", Channel.REFERRAL, "inbound", 52, None, 300),
    CampaignSpec("Webinar: Lead scoring sales trusts", Channel.WEBINAR, "inbound", 43, 56, 2500),
    CampaignSpec("Webinar: From MQL to revenue", Channel.WEBINAR, "inbound", 18, 56, 2500),
    CampaignSpec("E-book: B2B funnel benchmarks", Channel.EBOOK, "inbound", 37, 120, 1800),
    CampaignSpec("LinkedIn: marketing leaders DACH", Channel.SOCIAL, "inbound", 29, 90, 3000),
    CampaignSpec(
        "Cold e-mail: Mittelstand manufacturing", Channel.COLD_EMAIL, "outbound", 22, 45, 900
    ),
    CampaignSpec("Cold calls: logistics", Channel.COLD_CALL, "outbound", 17, 60, 2200),
    # Tuesday to Thursday of its week (see generator.campaign_plans).
    CampaignSpec(
        "Trade fair: Digital Marketing Expo", Channel.TRADE_FAIR, "outbound", 34, 2, 18000
    ),
    CampaignSpec(
        "Purchased list: trade association", Channel.PURCHASED_LIST, "outbound", 13, 30, 5000
    ),
]

# Where leads come from (relative weights): content, search and referrals bring most; purchased
# lists and cold calls few. DIRECT: typed the address or came without a campaign.
CHANNEL_WEIGHTS: dict[str, int] = {
    Channel.SEO: 22,
    Channel.ADS: 12,
    Channel.NEWSLETTER: 11,
    Channel.WEBINAR: 10,
    Channel.EBOOK: 9,
    Channel.REFERRAL: 8,
    Channel.SOCIAL: 7,
    Channel.TRADE_FAIR: 4,
    Channel.COLD_EMAIL: 4,
    Channel.COLD_CALL: 2,
    Channel.PURCHASED_LIST: 3,
    Channel.DIRECT: 8,
}

# Country mix of inbound leads; outbound campaigns target Germany or DACH only.
COUNTRY_WEIGHTS: dict[str, int] = {
    "DE": 56,
    "AT": 8,
    "CH": 7,
    "GB": 10,
    "IE": 3,
    "US": 11,
    "CA": 5,
}
DACH = ("DE", "AT", "CH")
CHANNEL_COUNTRIES: dict[str, tuple[str, ...]] = {
    Channel.SOCIAL: DACH,
    Channel.COLD_EMAIL: DACH,
    Channel.TRADE_FAIR: DACH,
    Channel.COLD_CALL: ("DE",),
    Channel.PURCHASED_LIST: ("DE",),
}
# Faker locale for names and company names by country.
LOCALES: dict[str, str] = {
    "DE": "de_DE",
    "AT": "de_DE",
    "CH": "de_DE",
    "GB": "en_GB",
    "IE": "en_GB",
    "US": "en_US",
    "CA": "en_US",
}
# Legal forms of company names by Faker locale, with weights.
LEGAL_FORMS: dict[str, dict[str, int]] = {
    "de_DE": {"GmbH": 60, "GmbH & Co. KG": 15, "AG": 10, "KG": 6, "SE": 3, "e.K.": 6},
    "en_GB": {"Ltd": 70, "PLC": 8, "LLP": 8, "Group": 14},
    "en_US": {"Inc.": 50, "LLC": 30, "Corp.": 10, "Group": 10},
}
CURRENCIES: dict[str, str] = {"GB": "GBP", "US": "USD", "CA": "CAD", "CH": "CHF"}
# Share of leads in a German-speaking country who want English (international teams).
ENGLISH_IN_DACH = 0.08
# Business hours in Europe/Berlin in which people of each country work: North America's morning
# is Berlin's afternoon.
BERLIN_HOURS: dict[str, tuple[int, int]] = {
    "DE": (8, 18),
    "AT": (8, 18),
    "CH": (8, 18),
    "GB": (9, 18),
    "IE": (9, 18),
    "US": (14, 18),
    "CA": (14, 18),
}

# (town, area code, weight): area codes without the trunk 0, as dialled from abroad.
TOWNS: dict[str, list[tuple[str, str, int]]] = {
    "DE": [
        ("Berlin", "30", 36),
        ("Hamburg", "40", 18),
        ("München", "89", 15),
        ("Köln", "221", 11),
        ("Frankfurt am Main", "69", 8),
        ("Stuttgart", "711", 6),
        ("Düsseldorf", "211", 6),
        ("Leipzig", "341", 6),
        ("Dortmund", "231", 6),
        ("Essen", "201", 6),
        ("Bremen", "421", 6),
        ("Dresden", "351", 6),
        ("Hannover", "511", 5),
        ("Nürnberg", "911", 5),
        ("Bielefeld", "521", 3),
        ("Bonn", "228", 3),
        ("Münster", "251", 3),
        ("Mannheim", "621", 3),
        ("Karlsruhe", "721", 3),
        ("Augsburg", "821", 3),
        ("Freiburg im Breisgau", "761", 2),
        ("Aachen", "241", 2),
        ("Kiel", "431", 2),
        ("Regensburg", "941", 2),
        ("Ulm", "731", 1),
        ("Paderborn", "5251", 1),
        ("Ingolstadt", "841", 1),
        ("Wolfsburg", "5361", 1),
        ("Heidelberg", "6221", 1),
        ("Jena", "3641", 1),
    ],
    "AT": [
        ("Wien", "1", 10),
        ("Graz", "316", 3),
        ("Linz", "732", 3),
        ("Salzburg", "662", 2),
        ("Innsbruck", "512", 2),
    ],
    "CH": [
        ("Zürich", "44", 6),
        ("Basel", "61", 3),
        ("Bern", "31", 3),
        ("Luzern", "41", 2),
        ("St. Gallen", "71", 1),
        ("Winterthur", "52", 1),
    ],
    # UK and US numbers are from the ranges Ofcom and NANPA keep for fiction.
    "GB": [
        ("London", "20 7946", 10),
        ("Manchester", "161 496", 3),
        ("Birmingham", "121 496", 3),
        ("Leeds", "113 496", 2),
        ("Bristol", "117 496", 2),
        ("Edinburgh", "131 496", 2),
        ("Glasgow", "141 496", 2),
    ],
    "IE": [("Dublin", "1", 5), ("Cork", "21", 2), ("Galway", "91", 1)],
    "US": [
        ("New York", "212", 5),
        ("Boston", "617", 3),
        ("Chicago", "312", 3),
        ("Atlanta", "404", 2),
        ("Austin", "512", 2),
        ("Philadelphia", "215", 2),
    ],
    "CA": [("Toronto", "416", 4), ("Montreal", "514", 2), ("Ottawa", "613", 1)],
}
MOBILE_PREFIXES: dict[str, list[str]] = {
    "DE": ["151", "152", "160", "170", "171", "172", "176", "177", "179"],
    "AT": ["650", "660", "664", "676", "699"],
    "CH": ["76", "77", "78", "79"],
}
COUNTRY_CALLING_CODES: dict[str, str] = {
    "DE": "49",
    "AT": "43",
    "CH": "41",
    "GB": "44",
    "IE": "353",
    "US": "1",
    "CA": "1",
}

INDUSTRY_WEIGHTS: dict[str, int] = {
    Industry.MANUFACTURING: 9,
    Industry.MECHANICAL_ENGINEERING: 12,
    Industry.SOFTWARE: 8,
    Industry.IT_SERVICES: 6,
    Industry.LOGISTICS: 7,
    Industry.AUTOMOTIVE: 5,
    Industry.RETAIL: 9,
    Industry.FINANCIAL_SERVICES: 4,
    Industry.INSURANCE: 3,
    Industry.HEALTHCARE: 6,
    Industry.ENERGY: 3,
    Industry.CONSTRUCTION: 7,
    Industry.CONSULTING: 6,
    Industry.EDUCATION: 3,
    Industry.TELECOMMUNICATIONS: 2,
    Industry.CHEMICALS: 2,
    Industry.MEDIA: 3,
    Industry.UNKNOWN: 4,
}
# size band: (weight, revenue low, revenue high), revenue in the company's currency
SIZES: dict[str, tuple[int, int, int]] = {
    CompanySize.S1_10: (25, 200_000, 2_000_000),
    CompanySize.S11_50: (34, 1_000_000, 10_000_000),
    CompanySize.S51_200: (18, 8_000_000, 50_000_000),
    CompanySize.S201_1000: (8, 40_000_000, 300_000_000),
    CompanySize.S1001_5000: (6, 250_000_000, 2_000_000_000),
    CompanySize.S5001_PLUS: (2, 1_500_000_000, 30_000_000_000),
    CompanySize.UNKNOWN: (5, 0, 0),
}

# (German title, English title, seniority, weight)
JOBS: list[tuple[str, str, str, int]] = [
    ("Marketing-Referentin", "Marketing Specialist", Seniority.STAFF, 18),
    ("Online-Marketing-Manager", "Digital Marketing Executive", Seniority.STAFF, 10),
    ("Vertriebsinnendienst", "Inside Sales Representative", Seniority.STAFF, 9),
    ("Einkäufer", "Purchasing Agent", Seniority.STAFF, 6),
    ("Marketing Manager", "Marketing Manager", Seniority.MANAGER, 16),
    ("Teamleiter Vertrieb", "Sales Team Lead", Seniority.MANAGER, 7),
    ("Produktmanagerin", "Product Manager", Seniority.MANAGER, 7),
    ("Leiterin Marketing", "Head of Marketing", Seniority.DIRECTOR, 4),
    ("Vertriebsleiter", "Sales Director", Seniority.DIRECTOR, 3),
    ("IT-Leiter", "Head of IT", Seniority.DIRECTOR, 2),
    ("Bereichsleiterin Vertrieb", "VP Sales", Seniority.VP, 1),
    ("Bereichsleiter Marketing", "VP Marketing", Seniority.VP, 1),
    ("Geschäftsführerin", "Managing Director", Seniority.C_LEVEL, 2),
    ("Geschäftsführer", "CEO", Seniority.C_LEVEL, 2),
    ("", "", Seniority.UNKNOWN, 6),
]

# UTM source and medium a campaign's links carry.
UTM: dict[str, tuple[str, str]] = {
    Channel.NEWSLETTER: ("newsletter", "email"),
    Channel.WEBINAR: ("webinar", "event"),
    Channel.EBOOK: ("linkedin", "paid_social"),
    Channel.SEO: ("google", "organic"),
    Channel.SOCIAL: ("linkedin", "social"),
    Channel.ADS: ("google", "cpc"),
    Channel.COLD_EMAIL: ("outreach", "email"),
}
AD_TERMS = ["crm software", "lead management", "lead scoring tool", "b2b crm", "crm mittelstand"]

PAGES = ["/", "/features", "/integrations", "/blog/lead-scoring", "/blog/mql-vs-sql", "/about"]
ASSETS = ["b2b-funnel-benchmarks.pdf", "lead-scoring-checklist.pdf", "crm-buyers-guide.pdf"]
# The event that made the lead known, by channel; outbound channels start without one.
FIRST_EVENT: dict[str, str] = {
    Channel.NEWSLETTER: EventKind.NEWSLETTER_SIGNUP,
    Channel.WEBINAR: EventKind.WEBINAR_REGISTERED,
    Channel.EBOOK: EventKind.DOWNLOAD,
    Channel.SEO: EventKind.FORM_SUBMIT,
    Channel.ADS: EventKind.FORM_SUBMIT,
    Channel.SOCIAL: EventKind.FORM_SUBMIT,
    Channel.REFERRAL: EventKind.FORM_SUBMIT,
    Channel.DIRECT: EventKind.FORM_SUBMIT,
}
# The strong signals one of which came before the MQL rule promoted a lead.
MQL_SIGNALS: list[tuple[str, ...]] = [
    (EventKind.DEMO_REQUEST,),
    (EventKind.QUOTE_REQUEST,),
    (EventKind.WEBINAR_REGISTERED, EventKind.WEBINAR_ATTENDED),
]
# (kind, weight for leads before sales, weight for leads sales worked on)
EVENT_MIX: list[tuple[str, int, int]] = [
    (EventKind.PAGE_VIEW, 40, 30),
    (EventKind.PRICING_PAGE_VIEW, 4, 10),
    (EventKind.DOWNLOAD, 6, 6),
    (EventKind.WEBINAR_REGISTERED, 3, 4),
    (EventKind.WEBINAR_ATTENDED, 2, 3),
    (EventKind.EMAIL_OPEN, 25, 20),
    (EventKind.EMAIL_CLICK, 8, 8),
    (EventKind.FORM_SUBMIT, 2, 2),
    (EventKind.QUOTE_REQUEST, 0, 2),
]

# How long a lead takes for a move, in days: (shortest, most likely, longest).
STEP_DAYS: dict[tuple[str, str], tuple[float, float, float]] = {
    (Stage.UNQUALIFIED, Stage.MQL): (1, 6, 35),
    (Stage.UNQUALIFIED, Stage.NURTURE): (7, 20, 60),
    (Stage.UNQUALIFIED, Stage.DISQUALIFIED): (0.5, 3, 14),
    (Stage.MQL, Stage.SQL): (0.5, 2, 10),
    (Stage.MQL, Stage.NURTURE): (1, 4, 14),
    (Stage.MQL, Stage.DISQUALIFIED): (1, 3, 10),
    (Stage.SQL, Stage.OPPORTUNITY): (3, 10, 35),
    (Stage.SQL, Stage.NURTURE): (5, 14, 45),
    (Stage.SQL, Stage.DISQUALIFIED): (3, 10, 30),
    (Stage.OPPORTUNITY, Stage.CUSTOMER): (14, 35, 100),
    (Stage.OPPORTUNITY, Stage.NURTURE): (14, 40, 100),
    (Stage.OPPORTUNITY, Stage.DISQUALIFIED): (10, 30, 60),
    (Stage.NURTURE, Stage.MQL): (20, 60, 150),
    (Stage.NURTURE, Stage.DISQUALIFIED): (30, 90, 200),
    (Stage.DISQUALIFIED, Stage.UNQUALIFIED): (1, 3, 14),
}

U, M, S, OPP, C = Stage.UNQUALIFIED, Stage.MQL, Stage.SQL, Stage.OPPORTUNITY, Stage.CUSTOMER
N, D = Stage.NURTURE, Stage.DISQUALIFIED
# The journeys leads set out on, with weights, for good fits (grade A/B: the MQL rule can promote
# them) and for the rest (no rule promotes them; marketing nurtures or disqualifies them). A lead
# gets as far along its journey as the time since its creation allows.
GOOD_FIT_JOURNEYS: list[tuple[tuple[str, ...], int]] = [
    ((U,), 24),
    ((U, M), 14),
    ((U, M, S), 10),
    ((U, M, S, OPP), 8),
    ((U, M, S, OPP, C), 12),
    ((U, M, N), 9),
    ((U, M, N, M), 4),
    ((U, M, S, N), 5),
    ((U, M, S, OPP, N), 6),
    ((U, M, D), 3),
    ((U, M, S, D), 3),
    ((U, M, S, OPP, D), 1),
    ((U, N), 1),
]
OTHER_JOURNEYS: list[tuple[tuple[str, ...], int]] = [
    ((U,), 62),
    ((U, N), 20),
    ((U, D), 14),
    ((U, D, U), 3),
    ((U, N, D), 1),
]

# Reasons for moves, by language: (to stage) or (from stage, to stage).
REASONS: dict[str, dict[tuple[str, ...], list[str]]] = {
    "en": {
        (N,): ["No budget this year", "Timing: revisit next quarter", "Not the decision maker"],
        (S, N): ["Went quiet after the demo", "Project postponed to next year"],
        (OPP, N): ["Opportunity lost to a competitor", "Lost on price"],
        (D,): ["Student / private person", "Competitor", "Company too small", "Invalid contact"],
        (D, U): ["Disqualified by mistake"],
    },
    "de": {
        (N,): [
            "Kein Budget in diesem Jahr",
            "Im nächsten Quartal wieder melden",
            "Kein Entscheider",
        ],
        (S, N): ["Nach der Demo keine Rückmeldung", "Projekt auf nächstes Jahr verschoben"],
        (OPP, N): ["An einen Wettbewerber verloren", "Am Preis gescheitert"],
        (D,): ["Student / Privatperson", "Wettbewerber", "Firma zu klein", "Kontaktdaten ungültig"],
        (D, U): ["Irrtümlich disqualifiziert"],
    },
}
LOST_REASONS: dict[str, list[str]] = {
    "en": ["Price", "Competitor chosen", "No decision", "Project postponed"],
    "de": ["Preis", "Wettbewerber gewählt", "Keine Entscheidung", "Projekt verschoben"],
}
OPPORTUNITY_NAMES: dict[str, str] = {"en": "CRM licence", "de": "CRM-Lizenz"}

# Activity subjects and notes, by language and kind. Every note is a sentence in that language.
ACTIVITIES: dict[str, dict[str, tuple[list[str], list[str]]]] = {
    "en": {
        Activity.Kind.CALL: (
            ["Discovery call", "Follow-up call", "Qualification call"],
            [
                "Budget is planned for next quarter; the decision lies with the managing director.",
                "They use spreadsheets and an old CRM and want to automate lead scoring.",
                "Asked for a call back after the trade fair.",
            ],
        ),
        Activity.Kind.MEETING: (
            ["Product demo", "Meeting with IT", "Proposal review"],
            [
                "Showed the lead list and the scoring rules; the team liked the SQL queue.",
                "IT asked about the API and single sign-on for the sales team.",
                "Went through the proposal line by line; they want a discount for two years.",
            ],
        ),
        Activity.Kind.EMAIL: (
            ["Sent proposal", "Sent case study", "Pricing questions answered"],
            [
                "Sent the proposal for the marketing and sales teams as discussed.",
                "Sent the case study of a logistics customer with the funnel figures.",
                "Answered the questions about the price per user and the contract term.",
            ],
        ),
        Activity.Kind.NOTE: (
            ["Budget confirmed", "Champion found", "Current tools"],
            [
                "The head of marketing is our champion and presents to the board in May.",
                "Budget is confirmed for the third quarter.",
                "Leads are tracked in a spreadsheet today; nobody trusts the numbers.",
            ],
        ),
        Activity.Kind.TASK: (
            ["Send contract draft", "Call back next week", "Prepare ROI estimate"],
            [
                "Send the draft contract to the purchasing department.",
                "Call back next week to agree on a date for the workshop.",
                "Prepare the ROI estimate with the figures from the last call.",
            ],
        ),
    },
    "de": {
        Activity.Kind.CALL: (
            ["Erstgespräch", "Rückruf", "Qualifizierungsgespräch"],
            [
                "Budget ist für das nächste Quartal eingeplant, die Entscheidung liegt bei der "
                "Geschäftsführung.",
                "Arbeitet bisher mit Excel und einem alten CRM und möchte die Lead-Bewertung "
                "automatisieren.",
                "Bittet um einen Rückruf nach der Messe.",
            ],
        ),
        Activity.Kind.MEETING: (
            ["Produktdemo", "Termin mit der IT", "Angebotsbesprechung"],
            [
                "Leadliste und Bewertungsregeln gezeigt, die Warteschlange für den Vertrieb kam "
                "gut an.",
                "Die IT hat nach der Schnittstelle und der Anmeldung über das Firmenkonto gefragt.",
                "Das Angebot Punkt für Punkt besprochen, gewünscht ist ein Rabatt bei zwei Jahren "
                "Laufzeit.",
            ],
        ),
        Activity.Kind.EMAIL: (
            ["Angebot verschickt", "Fallstudie gesendet", "Preisfragen beantwortet"],
            [
                "Angebot für Marketing und Vertrieb wie besprochen verschickt.",
                "Fallstudie eines Logistikkunden mit den Zahlen zum Trichter gesendet.",
                "Die Fragen zum Preis pro Nutzer und zur Vertragslaufzeit beantwortet.",
            ],
        ),
        Activity.Kind.NOTE: (
            ["Budget bestätigt", "Fürsprecherin gefunden", "Bisherige Werkzeuge"],
            [
                "Die Leiterin Marketing ist unsere Fürsprecherin und stellt das Projekt im Mai "
                "der Geschäftsführung vor.",
                "Das Budget für das dritte Quartal ist bestätigt.",
                "Leads werden heute in einer Tabelle gepflegt, den Zahlen traut niemand.",
            ],
        ),
        Activity.Kind.TASK: (
            ["Vertragsentwurf senden", "Nächste Woche zurückrufen", "ROI-Rechnung vorbereiten"],
            [
                "Den Vertragsentwurf an den Einkauf schicken.",
                "Nächste Woche zurückrufen und einen Termin für den Workshop vereinbaren.",
                "Die ROI-Rechnung mit den Zahlen aus dem letzten Gespräch vorbereiten.",
            ],
        ),
    },
}

# Consent sources by channel: where the lead gave (or was asked for) marketing e-mail consent.
CONSENT_SOURCES: dict[str, str] = {
    Channel.NEWSLETTER: Consent.Source.WEB_FORM,
    Channel.WEBINAR: Consent.Source.LANDING_PAGE,
    Channel.EBOOK: Consent.Source.LANDING_PAGE,
    Channel.SEO: Consent.Source.WEB_FORM,
    Channel.ADS: Consent.Source.LANDING_PAGE,
    Channel.SOCIAL: Consent.Source.LANDING_PAGE,
    Channel.REFERRAL: Consent.Source.WEB_FORM,
    Channel.DIRECT: Consent.Source.WEB_FORM,
    Channel.TRADE_FAIR: Consent.Source.TRADE_FAIR,
    Channel.COLD_CALL: Consent.Source.MANUAL,
    Channel.COLD_EMAIL: Consent.Source.WEB_FORM,
    Channel.PURCHASED_LIST: Consent.Source.IMPORT,
}
COST_NOTES = ["Agency invoice", "Media spend", "Tools", ""]
