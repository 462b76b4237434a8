"""The ledger's pages keep half their space free (PostgreSQL fillfactor 50).

A rule change rewrites the points of its ledger rows in place (scoring.services._ledger_rebuild
and _ledger_repoint). ``points`` is in no index, so such an update can be HOT (no new index
entries in the ledger's five indexes) when the new row version fits on its page. The rows of one
rule sit together, so a page needs room for all of its rows once more: half the page. Measured on
1,000,000 leads with 10,885,928 ledger rows (docs/benchmarks.md, "Scores in a narrow table"): the
in-place update of a rule's 2.2 million rows took 144.5 s at fillfactor 100 and 11.1 s at 50. Cost:
the ledger's table takes about twice the space (its indexes do not change). Existing pages keep
their fill until the table is rewritten (VACUUM FULL); new rows follow the setting.
"""

from django.db import migrations


def set_fillfactor(apps, schema_editor, value: int = 50) -> None:
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(f"ALTER TABLE scoring_scoreentry SET (fillfactor = {int(value)})")


def reset_fillfactor(apps, schema_editor) -> None:
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("ALTER TABLE scoring_scoreentry RESET (fillfactor)")


class Migration(migrations.Migration):
    dependencies = [("scoring", "0006_tracked_careers_page_rule")]

    operations = [migrations.RunPython(set_fillfactor, reset_fillfactor)]
