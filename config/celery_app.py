"""The Celery app. Settings come from Django's (CELERY_* names); tasks are autodiscovered.

Queues: `webhooks` (provider callbacks), `sending` (one-off sends), `campaigns` (campaign runs
and imports, long), `sync` (pulls from providers) and `default` (short periodic jobs). Which
task goes where is CELERY_TASK_ROUTES in config/settings/base.py; `make worker` starts one
worker for `webhooks`, one for `campaigns` and one for the rest. A worker started without
`-Q` consumes all five.
"""

import os

from celery import Celery
from kombu import Queue

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.base")

QUEUES = ("webhooks", "sending", "campaigns", "sync", "default")

app = Celery("switchboard")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.conf.task_queues = [Queue(name, routing_key=name) for name in QUEUES]
app.autodiscover_tasks()
# Subpackages of an app are not autodiscovered: their tasks modules are named here.
app.autodiscover_tasks(["billing.invoices"])
