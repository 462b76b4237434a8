"""gunicorn's settings file, read from the working directory by every ``gunicorn`` started there
(the Dockerfile's web server, docs/operations.md, the benches); command-line options add to it."""

import gc


def post_worker_init(worker) -> None:
    """Move everything the loaded application holds into the collector's permanent generation.

    A worker keeps some 150,000 long-lived objects (modules, models, URL patterns, translations).
    Python's full collections walk all of them: about one request in a hundred waited 60 to 90
    ms for one (docs/benchmarks.md, "Garbage collection in the web worker"). Frozen, they are
    never walked again; what requests allocate is collected as before.
    """
    from django.urls import reverse

    reverse("healthz")  # loads the URLconf, and with it every view module: frozen too
    gc.freeze()
