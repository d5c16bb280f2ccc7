"""Publishing a Celery task without making the caller depend on the broker.

Every caller has a sweep behind it (the outbox sweep, the image sweep, the recordings sweep,
the campaign tick, the stale-import sweep, the webhook replay) that finds the rows a lost
publish left behind. So a publish is best effort: it happens after the transaction that wrote
those rows commits (a worker must find them), and a broker outage is logged, not raised.
"""

from __future__ import annotations

import functools
import logging
from typing import Any

from celery import Task
from django.db import transaction

log = logging.getLogger(__name__)


def publish(task: Task, /, **kwargs: Any) -> None:
    """Publish `task(**kwargs)` once the current transaction commits (at once outside one)."""
    transaction.on_commit(functools.partial(publish_now, task, **kwargs))


def publish_now(task: Task, /, **kwargs: Any) -> bool:
    """Publish `task(**kwargs)` now; False (logged) when the broker refuses. Never raises.

    For callers already past the commit that need the outcome (the webhook wake closes its
    window again, the import sweep leaves the import queued).
    """
    try:
        # retry=False: the caller's sweep retries; a request must not wait on a dead broker.
        task.apply_async(kwargs=kwargs, retry=False)
    except Exception:
        log.warning("Could not publish %s %s; its sweep will", task.name, kwargs, exc_info=True)
        return False
    return True
