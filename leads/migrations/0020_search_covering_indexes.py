"""The search box's four indexes cover the search: each way of matching is read index only.

A search (leads.filters.search_conditions) matches an e-mail prefix, a last-name or first-name
prefix, or a company; leadcrm.paging.scan_page reads each of these arms by itself and unites
them. Before, one OR of them was read through a BitmapOr of these indexes and then the table,
row by row, for the sort's created_at: 4,842 buffers (4,121 heap pages) for the 4,333 leads of
"Neur" at 1,000,000 leads. With created_at and id in each index (and the name itself, which the
LIKE rechecks), every arm is an index-only scan: 1,487 buffers, the companies' included. The
bench's statement went from 12.3 to 4.4 ms (p50), and the API search from 51.8 / 64.8 ms (p50 /
p95) to 19.7 / 25.7 ms, in the same sitting (docs/benchmarks.md, "Search read from covering
indexes").

No index is added: four are widened, their old forms dropped. Sizes at 1,000,000 leads:

- lead_last_name_prefix, lead_first_name_prefix: (UPPER(name) text_pattern_ops) INCLUDE (name,
  created_at, id), 12 MB -> 50 MB each (an index with INCLUDE columns is not deduplicated).
  PostgreSQL-only like migration 0003; SQLite needs none.
- lead_email_key_unique: the unique index on the normalised e-mail, INCLUDE (created_at, id):
  75 MB -> 74 MB (rebuilt; about 20 bytes more per entry).
- lead_company (company_id, id): INCLUDE (created_at): 60 MB -> 39 MB (rebuilt).

What it costs: no extra index entry for any insert or update of a lead, wider ones. Lead inserts
(capture, import) write the same four entries, 8 to 20 bytes longer; rescoring updates rank and
temperature of leads_lead, which are indexed (not HOT), so it too writes these four entries as
before, longer. Building each took about 2 s at 1,000,000 leads.
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
    dependencies = [("leads", "0019_leadscore_temperature")]

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
