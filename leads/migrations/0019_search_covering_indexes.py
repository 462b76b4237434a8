"""The search box's four indexes cover the search: each way of matching is read index only.

A search (leads.filters.search_conditions) matches an e-mail prefix, a last-name or first-name
prefix, or a company; leadcrm.paging.scan_page reads each of these arms by itself and unites
them. Before, one OR of them was read through a BitmapOr of these indexes and then the table, row
by row, for the sort's created_at: 4,121 heap pages for the 4,333 leads of "Neur" at 1,000,000
leads, 9 to 12 ms of the 30 ms an API search took. With created_at and id in each index (and the
name itself, which the LIKE rechecks), every arm is an index-only scan: 1,245 index pages, the
matches read in about a third of the time (docs/benchmarks.md, "Search read from covering
indexes").

No index is added: the four are widened, and the old forms dropped.

- lead_last_name_prefix, lead_first_name_prefix: (UPPER(name) text_pattern_ops) INCLUDE (name,
  created_at, id), 12 MB -> 50 MB each at 1,000,000 leads (an index with INCLUDE columns is not
  deduplicated). PostgreSQL-only like migration 0003; SQLite needs none.
- lead_email_key_unique: the unique index on the normalised e-mail, INCLUDE (created_at, id).
- lead_company (company_id, id): INCLUDE (created_at).

What it costs: no extra index entry per insert or update of a lead, wider ones; rescoring
updates rank and temperature of leads_lead (not HOT: both are indexed), so each such update
writes these four entries as before, about 20 bytes longer. Building them takes about 2 s each
at 1,000,000 leads.
"""

from django.db import migrations, models

NAME_INDEXES = {"lead_last_name_prefix": "last_name", "lead_first_name_prefix": "first_name"}


def cover(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for name, column in NAME_INDEXES.items():
        schema_editor.execute(f'DROP INDEX IF EXISTS "{name}"')
        schema_editor.execute(
            f'CREATE INDEX "{name}" ON "leads_lead" (UPPER("{column}"::text) text_pattern_ops) '
            f'INCLUDE ("{column}", "created_at", "id")'
        )


def uncover(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for name, column in NAME_INDEXES.items():
        schema_editor.execute(f'DROP INDEX IF EXISTS "{name}"')
        schema_editor.execute(
            f'CREATE INDEX "{name}" ON "leads_lead" (UPPER("{column}"::text) text_pattern_ops)'
        )


class Migration(migrations.Migration):
    dependencies = [("leads", "0018_visitor_last_campaign")]

    operations = [
        migrations.RemoveConstraint(model_name="lead", name="lead_email_key_unique"),
        migrations.AddConstraint(
            model_name="lead",
            constraint=models.UniqueConstraint(
                fields=("email_key",),
                include=("created_at", "id"),
                name="lead_email_key_unique",
                opclasses=["varchar_pattern_ops"],
            ),
        ),
        migrations.RemoveIndex(model_name="lead", name="lead_company"),
        migrations.AddIndex(
            model_name="lead",
            index=models.Index(
                fields=["company", "id"], include=("created_at",), name="lead_company"
            ),
        ),
        migrations.RunPython(cover, uncover),
    ]
