"""Background work for `make demo` inside its one process: a Celery worker and beat in threads.

The demo broker is kombu's ``memory://`` transport, shared by every thread of one process, so
the dashboard's requests queue tasks and return at once while these threads run them: a
campaign's run page shows live progress, and the beat schedule (usage refresh, sweeps) runs.
No Redis and no second terminal.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from pathlib import Path

from celery import current_app as app
from celery.beat import Service
from celery.worker import WorkController

# Enough threads that a campaign run and its sends never hold up inbound webhooks.
CONCURRENCY = 8


@dataclass
class DemoBackground:
    worker: WorkController
    beat: Service
    threads: tuple[threading.Thread, threading.Thread]

    def stop(self) -> None:
        """Stop beat, then the worker (it finishes the tasks it holds), within a few seconds."""
        self.beat.stop()
        self.worker.stop(in_sighandler=False)
        for thread in self.threads:
            thread.join(timeout=10)


def start_background(state_dir: Path, *, concurrency: int = CONCURRENCY) -> DemoBackground:
    """Start a worker consuming every queue, and the beat scheduler, in daemon threads."""
    if app.conf.task_always_eager:
        raise RuntimeError("the demo's background worker needs CELERY_TASK_ALWAYS_EAGER off")
    # Quiet: the demo's console is for the logins; task failures still log at ERROR.
    logging.getLogger("celery").setLevel(logging.WARNING)
    worker = app.WorkController(
        pool_cls="threads",
        concurrency=concurrency,
        # Every declared queue (config/celery_app.py): webhooks, sending, campaigns, sync, default.
        queues=[queue.name for queue in app.conf.task_queues],
        loglevel=logging.WARNING,
        without_heartbeat=True,
        without_mingle=True,
        without_gossip=True,
        hostname="demo@localhost",
    )
    thread = threading.Thread(target=worker.start, name="demo-celery-worker", daemon=True)
    thread.start()
    beat = Service(app, schedule_filename=str(state_dir / "celerybeat-schedule"))
    beat_thread = threading.Thread(target=beat.start, name="demo-celery-beat", daemon=True)
    beat_thread.start()
    return DemoBackground(worker=worker, beat=beat, threads=(thread, beat_thread))


def wait_ready(background: DemoBackground, timeout: float = 15) -> bool:
    """True once the worker consumes (a task queued before that would still run later)."""
    import time

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        consumer = getattr(background.worker, "consumer", None)
        if consumer is not None and getattr(consumer, "task_consumer", None) is not None:
            return True
        time.sleep(0.1)
    return False
