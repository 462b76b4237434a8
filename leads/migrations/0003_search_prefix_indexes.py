"""Indexes for the case-insensitive prefix search of the lead list (leads.filters.LeadFilter).

Django's istartswith is ``UPPER(col::text) LIKE UPPER('x%')`` on PostgreSQL; only an expression
index with text_pattern_ops serves it under any collation. Such operator classes are
PostgreSQL-only, so the indexes are created here for PostgreSQL alone instead of in Meta.indexes
(SQLite, used by `make run`, would refuse the syntax and needs no index for demo data).
"""

from django.db import migrations

INDEXES = {
    "lead_email_prefix": ("leads_lead", "email"),
    "lead_last_name_prefix": ("leads_lead", "last_name"),
    "lead_first_name_prefix": ("leads_lead", "first_name"),
    "company_name_prefix": ("leads_company", "name"),
}


def create(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for name, (table, column) in INDEXES.items():
        schema_editor.execute(
            f'CREATE INDEX IF NOT EXISTS "{name}" ON "{table}" '
            f'(UPPER("{column}"::text) text_pattern_ops)'
        )


def drop(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for name in INDEXES:
        schema_editor.execute(f'DROP INDEX IF EXISTS "{name}"')


class Migration(migrations.Migration):
    dependencies = [("leads", "0002_role_permissions")]

    operations = [migrations.RunPython(create, drop)]
