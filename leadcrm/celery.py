import os
from typing import Any

from celery import Celery
from celery.signals import beat_init

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "leadcrm.settings")

app = Celery("leadcrm")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@beat_init.connect
def heartbeat_at_start(sender: Any, **kwargs: Any) -> None:
    """Send the first heartbeat when beat starts, not after its first 30-second interval, so
    /healthz is "ok" seconds after a deploy instead of "missing" for half a minute."""
    sender.app.send_task("leadcrm.tasks.worker_heartbeat")
