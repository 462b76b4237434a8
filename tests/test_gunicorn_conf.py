"""The web worker's settings file: gunicorn.conf.py."""

import gc
import runpy
from pathlib import Path

import pytest

CONF = Path(__file__).resolve().parent.parent / "gunicorn.conf.py"


@pytest.fixture
def unfrozen():
    gc.unfreeze()
    yield
    gc.unfreeze()


def test_a_loaded_worker_leaves_its_long_lived_objects_out_of_full_collections(unfrozen):
    settings = runpy.run_path(str(CONF))
    assert gc.get_freeze_count() == 0

    settings["post_worker_init"](worker=None)

    # Django, the URLconf and every view module: far more objects than a request allocates.
    assert gc.get_freeze_count() > 50_000
