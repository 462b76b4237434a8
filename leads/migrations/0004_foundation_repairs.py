"""Foundation repairs (issue 5): canonical e-mail, companies unique by domain, owners on sales
stages, valid scores, choices for country, language, industry and consent source, change history,
audit log, event idempotency keys and leaner event indexes.

``prepare_data`` brings rows written before these rules into line before the new constraints and
narrower columns are added.
"""

import django.db.models.deletion
import django.utils.timezone
import django_countries.fields
from django.conf import settings
from django.db import migrations, models
from django.utils import timezone

INDUSTRY_CODES = {
    "software": "software",
    "it services": "it_services",
    "telecommunications": "telecommunications",
    "manufacturing": "manufacturing",
    "mechanical engineering": "mechanical_engineering",
    "automotive": "automotive",
    "chemicals": "chemicals",
    "energy": "energy",
    "construction": "construction",
    "logistics": "logistics",
    "retail": "retail",
    "financial services": "financial_services",
    "insurance": "insurance",
    "healthcare": "healthcare",
    "consulting": "consulting",
    "education": "education",
}
CONSENT_SOURCES = {
    "web form": "web_form",
    "unsubscribe link": "unsubscribe_link",
    "cookie banner": "cookie_banner",
    "api": "api",
    "import": "import",
}
OWNER_REQUIRED = ["sql", "opportunity"]


def prepare_data(apps, schema_editor):
    from django_countries import countries

    from leads.normalize import normalize_domain, normalize_email

    Lead = apps.get_model("leads", "Lead")
    Company = apps.get_model("leads", "Company")
    Consent = apps.get_model("leads", "Consent")
    StageTransition = apps.get_model("leads", "StageTransition")
    postgres = schema_editor.connection.vendor == "postgresql"
    if postgres:
        # Fire FK checks now, so the ALTER TABLEs after this step find no pending trigger events.
        schema_editor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        schema_editor.execute('DROP INDEX IF EXISTS "lead_email_prefix"')

    for lead in Lead.objects.only("id", "email", "country", "language").iterator():
        lead.email_key = normalize_email(lead.email)
        country = lead.country.upper()
        lead.country = country if country in countries else ""
        language = lead.language[:2].lower()
        lead.language = language if language in {"en", "de"} else ""
        lead.save(update_fields=["email_key", "country", "language"])

    # Companies deduplicate by domain now: the oldest company of a domain keeps the leads.
    keeper_by_domain = {}
    for company in Company.objects.order_by("id"):
        company.domain = normalize_domain(company.domain)
        company.industry = INDUSTRY_CODES.get(
            company.industry.strip().lower(), "other" if company.industry else ""
        )
        keeper = keeper_by_domain.setdefault(company.domain, company) if company.domain else company
        if keeper.pk != company.pk:
            Lead.objects.filter(company_id=company.pk).update(company_id=keeper.pk)
            company.delete()
            continue
        company.save(update_fields=["domain", "industry"])

    for consent in Consent.objects.only("id", "source"):
        consent.source = CONSENT_SOURCES.get(consent.source.strip().lower(), "manual")
        consent.save(update_fields=["source"])

    # An SQL or opportunity without an owner was nobody's: back to MQL, where reps can claim it.
    now = timezone.now()
    for lead in Lead.objects.filter(stage__in=OWNER_REQUIRED, owner__isnull=True):
        StageTransition.objects.create(
            lead=lead,
            from_stage=lead.stage,
            to_stage="mql",
            at=now,
            by_rule="migration",
            reason="Sales stage without an owner: back to the MQL queue to be claimed.",
        )
        lead.stage = "mql"
        lead.stage_changed_at = now
        lead.save(update_fields=["stage", "stage_changed_at"])
    if postgres:
        schema_editor.execute("SET CONSTRAINTS ALL DEFERRED")


class Migration(migrations.Migration):
    dependencies = [
        ("leads", "0003_search_prefix_indexes"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name="AuditEntry",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                (
                    "action",
                    models.CharField(
                        choices=[("lead_deleted", "Lead deleted")],
                        max_length=30,
                        verbose_name="action",
                    ),
                ),
                ("object_id", models.BigIntegerField(verbose_name="object id")),
                (
                    "email_sha256",
                    models.CharField(blank=True, max_length=64, verbose_name="e-mail (SHA-256)"),
                ),
                ("at", models.DateTimeField(default=django.utils.timezone.now, verbose_name="at")),
            ],
            options={
                "verbose_name": "audit entry",
                "verbose_name_plural": "audit entries",
                "ordering": ["-at", "-id"],
            },
        ),
        migrations.CreateModel(
            name="EventKey",
            fields=[
                (
                    "key",
                    models.CharField(
                        max_length=100,
                        primary_key=True,
                        serialize=False,
                        verbose_name="idempotency key",
                    ),
                ),
                (
                    "created_at",
                    models.DateTimeField(
                        db_index=True, default=django.utils.timezone.now, verbose_name="created"
                    ),
                ),
            ],
            options={
                "verbose_name": "event idempotency key",
                "verbose_name_plural": "event idempotency keys",
            },
        ),
        migrations.CreateModel(
            name="LeadChange",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("field", models.CharField(max_length=50, verbose_name="field")),
                ("old_value", models.TextField(blank=True, verbose_name="old value")),
                ("new_value", models.TextField(blank=True, verbose_name="new value")),
                ("by_rule", models.CharField(blank=True, max_length=100, verbose_name="by rule")),
                ("at", models.DateTimeField(default=django.utils.timezone.now, verbose_name="at")),
            ],
            options={
                "verbose_name": "lead change",
                "verbose_name_plural": "lead changes",
                "ordering": ["-at", "-id"],
            },
        ),
        migrations.RemoveConstraint(
            model_name="company",
            name="company_name_ci_unique",
        ),
        migrations.RemoveConstraint(
            model_name="lead",
            name="lead_email_ci_unique",
        ),
        migrations.RemoveIndex(
            model_name="company",
            name="company_domain_ci",
        ),
        migrations.RemoveIndex(
            model_name="event",
            name="event_visitor",
        ),
        migrations.RemoveIndex(
            model_name="lead",
            name="lead_stage_rank",
        ),
        migrations.AddField(
            model_name="lead",
            name="email_key",
            field=models.CharField(
                default="", editable=False, max_length=254, verbose_name="normalised e-mail"
            ),
            preserve_default=False,
        ),
        migrations.RunPython(prepare_data, migrations.RunPython.noop, elidable=True),
        migrations.AlterField(
            model_name="company",
            name="industry",
            field=models.CharField(
                blank=True,
                choices=[
                    ("", "Unknown"),
                    ("software", "Software"),
                    ("it_services", "IT services"),
                    ("telecommunications", "Telecommunications"),
                    ("manufacturing", "Manufacturing"),
                    ("mechanical_engineering", "Mechanical engineering"),
                    ("automotive", "Automotive"),
                    ("chemicals", "Chemicals"),
                    ("energy", "Energy"),
                    ("construction", "Construction"),
                    ("logistics", "Logistics"),
                    ("retail", "Retail and e-commerce"),
                    ("financial_services", "Financial services"),
                    ("insurance", "Insurance"),
                    ("healthcare", "Healthcare"),
                    ("pharma", "Pharmaceuticals"),
                    ("consulting", "Consulting"),
                    ("education", "Education"),
                    ("public_sector", "Public sector"),
                    ("media", "Media and publishing"),
                    ("hospitality", "Hospitality and tourism"),
                    ("real_estate", "Real estate"),
                    ("non_profit", "Non-profit"),
                    ("other", "Other"),
                ],
                max_length=30,
                verbose_name="industry",
            ),
        ),
        migrations.AlterField(
            model_name="consent",
            name="source",
            field=models.CharField(
                choices=[
                    ("web_form", "Web form"),
                    ("landing_page", "Landing page"),
                    ("api", "API"),
                    ("import", "Import"),
                    ("manual", "Entered by staff"),
                    ("trade_fair", "Trade fair"),
                    ("cookie_banner", "Cookie banner"),
                    ("unsubscribe_link", "Unsubscribe link"),
                ],
                max_length=20,
                verbose_name="source",
            ),
        ),
        migrations.AlterField(
            model_name="event",
            name="campaign",
            field=models.ForeignKey(
                blank=True,
                db_index=False,
                null=True,
                on_delete=django.db.models.deletion.SET_NULL,
                related_name="events",
                to="leads.campaign",
                verbose_name="campaign",
            ),
        ),
        migrations.AlterField(
            model_name="event",
            name="lead",
            field=models.ForeignKey(
                blank=True,
                db_index=False,
                null=True,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="events",
                to="leads.lead",
                verbose_name="lead",
            ),
        ),
        migrations.AlterField(
            model_name="lead",
            name="country",
            field=django_countries.fields.CountryField(
                blank=True, max_length=2, verbose_name="country"
            ),
        ),
        migrations.AlterField(
            model_name="lead",
            name="language",
            field=models.CharField(
                blank=True,
                choices=[("en", "English"), ("de", "German")],
                max_length=8,
                verbose_name="language",
            ),
        ),
        migrations.AlterField(
            model_name="lead",
            name="owner",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="owned_leads",
                to=settings.AUTH_USER_MODEL,
                verbose_name="owner",
            ),
        ),
        migrations.AddIndex(
            model_name="event",
            index=models.Index(
                condition=models.Q(("lead__isnull", True)),
                fields=["visitor_id", "occurred_at"],
                name="event_anonymous_visitor",
            ),
        ),
        migrations.AddIndex(
            model_name="event",
            index=models.Index(fields=["kind", "occurred_at"], name="event_kind_at"),
        ),
        migrations.AddConstraint(
            model_name="company",
            constraint=models.UniqueConstraint(
                condition=models.Q(("domain", ""), _negated=True),
                fields=("domain",),
                name="company_domain_unique",
            ),
        ),
        migrations.AddConstraint(
            model_name="lead",
            constraint=models.UniqueConstraint(
                fields=("email_key",),
                name="lead_email_key_unique",
                opclasses=["varchar_pattern_ops"],
            ),
        ),
        migrations.AddConstraint(
            model_name="lead",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    models.Q(("stage__in", ["opportunity", "sql"]), _negated=True),
                    ("owner__isnull", False),
                    _connector="OR",
                ),
                name="lead_owner_required",
            ),
        ),
        migrations.AddConstraint(
            model_name="lead",
            constraint=models.CheckConstraint(
                condition=models.Q(("grade__in", ["A", "B", "C", "D"])), name="lead_grade_valid"
            ),
        ),
        migrations.AddConstraint(
            model_name="lead",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    (
                        "rank__in",
                        [
                            "A1",
                            "A2",
                            "A3",
                            "A4",
                            "B1",
                            "B2",
                            "B3",
                            "B4",
                            "C1",
                            "C2",
                            "C3",
                            "C4",
                            "D1",
                            "D2",
                            "D3",
                            "D4",
                        ],
                    )
                ),
                name="lead_rank_valid",
            ),
        ),
        migrations.AddConstraint(
            model_name="lead",
            constraint=models.CheckConstraint(
                condition=models.Q(("temperature__in", ["hot", "warm", "cold"])),
                name="lead_temperature_valid",
            ),
        ),
        migrations.AddField(
            model_name="auditentry",
            name="by_user",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.SET_NULL,
                related_name="+",
                to=settings.AUTH_USER_MODEL,
                verbose_name="by user",
            ),
        ),
        migrations.AddField(
            model_name="eventkey",
            name="event",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.CASCADE,
                related_name="+",
                to="leads.event",
                verbose_name="event",
            ),
        ),
        migrations.AddField(
            model_name="leadchange",
            name="by_user",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.SET_NULL,
                related_name="+",
                to=settings.AUTH_USER_MODEL,
                verbose_name="by user",
            ),
        ),
        migrations.AddField(
            model_name="leadchange",
            name="lead",
            field=models.ForeignKey(
                db_index=False,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="changes",
                to="leads.lead",
                verbose_name="lead",
            ),
        ),
        migrations.AddIndex(
            model_name="auditentry",
            index=models.Index(fields=["action", "-at"], name="audit_action_at"),
        ),
        migrations.AddIndex(
            model_name="leadchange",
            index=models.Index(fields=["lead", "-at"], name="leadchange_lead_at"),
        ),
    ]
