"""The one-way dependency rule of docs/architecture.md: demo → reporting → nurturing → scoring →
webhooks → capture → leads → leadcrm. A lower layer never imports a higher one; the demo data, on
top, may use all."""

import ast
from pathlib import Path

import pytest
from django.conf import settings

LAYERS = ["leadcrm", "leads", "capture", "webhooks", "scoring", "nurturing", "reporting", "demo"]


def imported_top_level_packages(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module.split(".")[0])
    return names


@pytest.mark.parametrize("layer", LAYERS)
def test_it_never_imports_a_higher_layer(layer):
    higher = set(LAYERS[LAYERS.index(layer) + 1 :])
    offenders = {
        str(path.relative_to(settings.BASE_DIR)): sorted(imported & higher)
        for path in (settings.BASE_DIR / layer).rglob("*.py")
        if (imported := imported_top_level_packages(path)) & higher
    }

    assert offenders == {}


def test_it_detects_an_upward_import(tmp_path):
    module = tmp_path / "bad.py"
    module.write_text("from scoring.services import rescore\nimport reporting.selectors\n")

    assert imported_top_level_packages(module) >= {"scoring", "reporting"}
