"""The unique index on the normalised e-mail exists on every database again.

Migration 0020 gave lead_email_key_unique INCLUDE (created_at, id) for the search's e-mail arm.
SQLite cannot INCLUDE, and Django then skips the whole constraint there (models.W039): on the
development database (`make run`) two leads could get the same e-mail. The model now declares the
plain unique constraint; PostgreSQL keeps the covering index 0020 built under the same name
(it enforces the same uniqueness), SQLite gets the plain one.
"""

from django.db import migrations, models

PLAIN = models.UniqueConstraint(
    fields=("email_key",), name="lead_email_key_unique", opclasses=["varchar_pattern_ops"]
)


def add_where_missing(apps, schema_editor):
    # Raw SQL: the model this function is handed still declares 0020's covering constraint,
    # which SQLite's schema editor would skip again.
    if schema_editor.connection.vendor != "postgresql":
        schema_editor.execute(
            'CREATE UNIQUE INDEX "lead_email_key_unique" ON "leads_lead" ("email_key")'
        )


def remove_where_added(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        schema_editor.execute('DROP INDEX "lead_email_key_unique"')


class Migration(migrations.Migration):
    dependencies = [("leads", "0020_search_covering_indexes")]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.RemoveConstraint(model_name="lead", name="lead_email_key_unique"),
                migrations.AddConstraint(model_name="lead", constraint=PLAIN),
            ],
            database_operations=[migrations.RunPython(add_where_missing, remove_where_added)],
        )
    ]
