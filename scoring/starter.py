"""The starter scoring profile: what most B2B teams begin with, editable by admins afterwards.

Grade rules reward decision makers, target industries, mid-sized to large companies, revenue and
the DACH region; behaviour rules reward the strong buying signals (pricing page, demo and quote
requests) far above the weak ones (opens, page views), and take points away for an unsubscribe or
a look at the careers page (a job seeker, not a buyer).
"""

PROFILE = {
    "name": "Default",
    "grade_a_min": 75,
    "grade_b_min": 50,
    "grade_c_min": 25,
    "band_1_min": 75,
    "band_2_min": 50,
    "band_3_min": 25,
    "half_life_days": 30,
    "hot_ranks": ["A1", "A2", "B1"],
    "warm_ranks": ["A3", "B2", "B3", "C1", "C2"],
    "mql_grades": "AB",
    "mql_min_score": 50,
}
# field, operator, value, points
GRADE_RULES = [
    ("seniority", "in", "c_level, vp", 30),
    ("seniority", "in", "director", 20),
    ("seniority", "in", "manager", 10),
    (
        "job_title",
        "contains",
        "CEO, CTO, CIO, CMO, CFO, Head of, Director, Geschäftsführer, Leiter, VP",
        15,
    ),
    ("job_title", "contains", "Student, Intern, Praktikant, Werkstudent", -20),
    ("company__industry", "in", "software, it_services, financial_services, manufacturing", 20),
    ("company__size_band", "in", "51-200, 201-1000, 1001-5000, 5001+", 20),
    ("company__annual_revenue", "gte", "10000000", 15),
    ("country", "in", "DE, AT, CH", 10),
]
# name, event kind, pattern, points, frequency, cap points, cap days
BEHAVIOUR_RULES = [
    ("Pricing page", "pricing_page_view", "", 15, "once_per_day", 30, 7),
    ("Demo request", "demo_request", "", 40, "every_time", None, None),
    ("Quote request", "quote_request", "", 40, "every_time", None, None),
    ("Webinar attended", "webinar_attended", "", 20, "every_time", None, None),
    ("Webinar registration", "webinar_registered", "", 10, "every_time", None, None),
    ("E-book or white paper download", "download", "", 10, "every_time", 30, 30),
    ("Newsletter sign-up", "newsletter_signup", "", 5, "once_ever", None, None),
    ("Form submitted", "form_submit", "", 10, "once_per_day", None, None),
    ("E-mail opened", "email_open", "", 1, "every_time", 5, 7),
    ("E-mail link clicked", "email_click", "", 5, "every_time", 15, 7),
    ("Careers page", "page_view", "*/careers*", -10, "once_ever", None, None),
    # The website tracking's starter rules record /careers*, /karriere*, /jobs* as their own kind.
    ("Careers page (tracked)", "careers_page_view", "", -10, "once_ever", None, None),
    ("Page view", "page_view", "", 1, "once_per_day", 10, 7),
    ("Unsubscribed", "unsubscribe", "", -20, "every_time", None, None),
]


def ensure_starter_profile(*, profile_model, grade_rule_model, behaviour_rule_model) -> None:
    """Create the starter profile unless a profile exists. Takes the model classes so the data
    migration can pass its historical models; also run after every migrate or flush (a flush, as
    in transactional tests, empties the tables the migration filled)."""
    if profile_model.objects.exists():
        return
    profile = profile_model.objects.create(**PROFILE)
    grade_rule_model.objects.bulk_create(
        grade_rule_model(profile=profile, field=f, operator=o, value=v, points=p, position=i)
        for i, (f, o, v, p) in enumerate(GRADE_RULES)
    )
    behaviour_rule_model.objects.bulk_create(
        behaviour_rule_model(
            profile=profile,
            name=name,
            event_kind=kind,
            pattern=pattern,
            points=points,
            frequency=frequency,
            cap_points=cap_points,
            cap_days=cap_days,
            position=i,
        )
        for i, (name, kind, pattern, points, frequency, cap_points, cap_days) in enumerate(
            BEHAVIOUR_RULES
        )
    )
