"""Settings of bench.track's server: the app's, with a URLconf that adds the bare view."""

from leadcrm.settings import *  # noqa: F403

ROOT_URLCONF = "bench.track_site"
