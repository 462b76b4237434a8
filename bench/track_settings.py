"""Settings of the bench servers (bench.track, bench.form_submit): the app's, with a URLconf
that adds the bare view."""

from leadcrm.settings import *  # noqa: F403

ROOT_URLCONF = "bench.track_site"

# Pages rendered in the benchmarks (the capture form) name static files: without a
# collectstatic run there is no manifest, so their URLs are the plain ones.
STORAGES = {
    **STORAGES,  # noqa: F405
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
