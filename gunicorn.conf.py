"""gunicorn's settings file, read from the working directory by every ``gunicorn`` started there
(the Dockerfile's web server, docs/operations.md, the benches); command-line options add to it."""

import gc


def post_worker_init(worker) -> None:
    """Move everything the loaded application holds into the collector's permanent generation.

    A worker holds some 160,000 long-lived objects (modules, models, URL patterns, translations).
    Python's full collections walk all of them, 30 to 90 ms each, about one request in 150
    (docs/benchmarks.md, "Where an API request's time goes"). Frozen, they are never walked
    again; what requests allocate is collected as before.
    """
    from django.urls import reverse

    reverse("healthz")  # loads the URLconf, and with it every view module: frozen too
    gc.freeze()
