"""Every task runs on a named queue, so a campaign can never delay the inbox."""

from __future__ import annotations

import pytest

from config.celery_app import QUEUES, app


def _queue(name: str) -> str | None:
    """The queue Celery's own router picks for a task (None: no route, the default queue)."""
    for router in app.amqp.router.routes:
        route = router(name, (), {}, {}, task=app.tasks.get(name))
        if route:
            queue = route.get("queue")
            return queue if isinstance(queue, str) else getattr(queue, "name", None)
    return None


def _our_tasks() -> list[str]:
    app.loader.import_default_modules()  # autodiscovery: every app's tasks module
    # Tasks that test modules declare for themselves are not the project's.
    return sorted(name for name in app.tasks if not name.startswith(("celery.", "tests.")))


def test_tasks_are_discovered() -> None:
    tasks = _our_tasks()
    assert "providers.tasks.webhooks_drain" in tasks and "messaging.tasks.campaign_run" in tasks


@pytest.mark.parametrize("name", _our_tasks())
def test_every_task_has_a_route_to_a_declared_queue(name: str) -> None:
    queue = _queue(name)
    assert queue is not None, f"{name} has no route: add it to CELERY_TASK_ROUTES"
    assert queue in QUEUES


def test_latency_critical_work_is_kept_apart_from_bulk_work() -> None:
    assert _queue("providers.tasks.webhooks_drain") == "webhooks"
    assert _queue("providers.tasks.webhooks_replay") == "webhooks"
    assert _queue("messaging.tasks.messages_send") == "sending"
    # Takes back dead workers' claims: beside the sends, not behind campaigns or syncs.
    assert _queue("messaging.tasks.messages_recover") == "sending"
    assert _queue("messaging.tasks.campaign_run") == "campaigns"
    assert _queue("accounts.tasks.provider_sync") == "sync"
    # The tick resumes campaigns whose worker died: never behind campaign runs.
    assert _queue("messaging.tasks.campaigns_tick") == "default"


def test_queues_are_declared_and_the_default_is_one_of_them() -> None:
    assert {q.name for q in app.conf.task_queues} == set(QUEUES)
    assert app.conf.task_default_queue == "default"


def test_an_unrouted_task_is_caught() -> None:
    assert _queue("messaging.tasks.some_task_added_later") is None
