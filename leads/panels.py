"""Detail panels: cards that upper apps add to the lead page without leads importing them.

An upper app registers a panel in its ``AppConfig.ready()``: a template and a callable
``(request, lead) -> dict`` that reads what the panel shows through the app's own selectors.
``lead_detail`` calls every registered panel in the order of ``position`` and includes its
template in the page, server-side, in the same request; the template finds the dict as
``panel`` (and the page's context, ``lead`` and ``perms`` included). A panel must run a fixed
number of queries, so the page's query count stays constant.
"""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.http import HttpRequest

from leads.models import Lead


@dataclass(frozen=True)
class DetailPanel:
    name: str
    template: str
    context: Callable[[HttpRequest, Lead], dict[str, Any]]
    position: int = 100


_panels: dict[str, DetailPanel] = {}


def register_detail_panel(
    *,
    name: str,
    template: str,
    context: Callable[[HttpRequest, Lead], dict[str, Any]],
    position: int = 100,
) -> None:
    """Add (or, under the same name, replace: ``ready()`` may run more than once) a panel."""
    _panels[name] = DetailPanel(name=name, template=template, context=context, position=position)


def detail_panels() -> list[DetailPanel]:
    return sorted(_panels.values(), key=lambda panel: (panel.position, panel.name))


@dataclass(frozen=True)
class PanelContent:
    name: str
    template: str
    context: dict[str, Any]


def detail_panel_contents(request: HttpRequest, lead: Lead) -> list[PanelContent]:
    return [
        PanelContent(name=panel.name, template=panel.template, context=panel.context(request, lead))
        for panel in detail_panels()
    ]
