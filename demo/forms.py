"""Demo capture forms: a webinar sign-up with double opt-in and an e-book download, with the
demo leads that came through them as their submissions, so *Forms* and *Sent e-mails* have
something to show."""

from django.utils import timezone

from capture import form_services
from capture.models import CaptureForm, FormSubmission, OutboundEmail
from leads.models import Campaign, Consent, Event, EventKind

SHOWN_SUBMISSIONS = 25
# The demo events a sign-up through the form gave: registering, downloading, a plain form.
SIGN_UP_KINDS = [EventKind.FORM_SUBMIT, EventKind.WEBINAR_REGISTERED, EventKind.DOWNLOAD]
# The newest sign-ups of the double opt-in form that have not confirmed yet.
PENDING = 3


def _demo_form(**fields) -> CaptureForm:
    """The demo form with this slug, new or (loading the demo again) the one there."""
    capture_form = CaptureForm.objects.filter(slug=fields["slug"]).first() or CaptureForm()
    for name, value in fields.items():
        setattr(capture_form, name, value)
    return capture_form


def load_forms() -> dict[str, int]:
    webinar = form_services.capture_form_save(
        capture_form=_demo_form(
            name="Webinar sign-up: From MQL to revenue",
            slug="webinar-mql-to-revenue",
            campaign=Campaign.objects.get(name="Webinar: From MQL to revenue"),
            title_en="From MQL to revenue: the live webinar",
            title_de="Vom MQL zum Umsatz: das Live-Webinar",
            intro_en="45 minutes on scoring, hand-over and the numbers that matter. Free.",
            intro_de="45 Minuten über Scoring, Übergabe und die Zahlen, die zählen. Kostenlos.",
            submit_en="Save my seat",
            submit_de="Platz sichern",
            consent_en="Send me the invitation and further marketing e-mails. I can unsubscribe "
            "at any time.",
            consent_de="Senden Sie mir die Einladung und weitere Marketing-E-Mails. Ich kann mich "
            "jederzeit abmelden.",
            thank_you_en="Your seat is saved.",
            thank_you_de="Ihr Platz ist gesichert.",
            double_opt_in=True,
            allowed_origins="http://localhost:8000\nhttp://127.0.0.1:8000",
        ),
        fields=[
            {"name": "email", "label_de": "Geschäftliche E-Mail"},
            {"name": "first_name", "required": True},
            {"name": "last_name", "required": True},
            {"name": "company_name", "required": True},
            {"name": "job_title"},
        ],
    )
    ebook = form_services.capture_form_save(
        capture_form=_demo_form(
            name="E-book download: B2B funnel benchmarks",
            slug="ebook-funnel-benchmarks",
            campaign=Campaign.objects.get(name="E-book: B2B funnel benchmarks"),
            title_en="B2B funnel benchmarks 2026",
            title_de="B2B-Funnel-Benchmarks 2026",
            submit_en="Download",
            submit_de="Herunterladen",
            consent_en="Send me the monthly newsletter.",
            consent_de="Senden Sie mir den monatlichen Newsletter.",
            consent_purpose=Consent.Purpose.NEWSLETTER,
            double_opt_in=False,
            redirect_url="https://www.leadcrm.example/downloads/b2b-funnel-benchmarks.pdf",
        ),
        fields=[
            {"name": "email"},
            {"name": "first_name"},
            {"name": "company_name"},
            {"name": "country"},
        ],
    )
    submissions = 0
    for capture_form in (webinar, ebook):
        events = list(
            Event.objects.filter(
                campaign=capture_form.campaign, kind__in=SIGN_UP_KINDS, lead__isnull=False
            )
            .select_related("lead")
            .order_by("-occurred_at")[:SHOWN_SUBMISSIONS]
        )
        FormSubmission.objects.bulk_create(
            FormSubmission(
                form=capture_form,
                lead=event.lead,
                created_lead=True,
                event=event,
                submitted_at=event.occurred_at,
            )
            for event in events
        )
        submissions += len(events)
        if capture_form.double_opt_in:
            _pending_confirmations(capture_form, [event.lead for event in events[:PENDING]])
    return {"capture forms": 2, "form submissions": submissions}


def _pending_confirmations(capture_form: CaptureForm, leads: list) -> None:
    for lead in leads:
        consent = Consent.objects.create(
            lead=lead,
            purpose=capture_form.consent_purpose,
            status=Consent.Status.PENDING,
            source=Consent.Source.LANDING_PAGE,
            wording=capture_form.consent_en,
            source_detail=f"form:{capture_form.slug}",
        )
        form_services.queue_confirmation(capture_form=capture_form, consent=consent, language="en")
    OutboundEmail.objects.filter(sent_at__isnull=True).update(sent_at=timezone.now())
