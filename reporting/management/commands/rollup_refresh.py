from typing import Any

from django.core.management.base import BaseCommand, CommandParser
from django.utils.translation import gettext as _

from reporting.rollup import rollup_refresh


class Command(BaseCommand):
    help = _(
        "Refresh the rollup the reports read: the days changed since the last refresh, or all "
        "of it with --full (first deployment, after bulk changes made in SQL)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--full", action="store_true", help=_("Rebuild every day."))

    def handle(self, *args: Any, full: bool, **options: Any) -> None:
        result = rollup_refresh(full=full)
        self.stdout.write(
            _("Rollup refreshed (%(kind)s, %(days)s days) in %(seconds).1f s.")
            % {
                "kind": _("full rebuild") if result.full else _("changed days"),
                "days": result.days,
                "seconds": result.seconds,
            }
        )
