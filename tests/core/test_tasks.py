"""core.tasks: a publish waits for the commit and survives a broker outage."""

from __future__ import annotations

import logging
from typing import Any
from unittest import mock

import pytest
from django.db import transaction

from core.tasks import publish, publish_now


class _FakeTask:
    name = "tests.fake"

    def __init__(self, *, fail: bool = False) -> None:
        self.fail = fail
        self.sent: list[dict[str, Any]] = []

    def apply_async(self, *, kwargs: dict[str, Any], retry: bool) -> None:
        assert retry is False  # a dead broker must not hold the caller
        if self.fail:
            raise ConnectionError("broker down")
        self.sent.append(kwargs)


def _task(*, fail: bool = False) -> Any:  # stands in for a Celery Task
    return _FakeTask(fail=fail)


@pytest.mark.django_db
def test_publish_waits_for_the_commit(django_capture_on_commit_callbacks: Any) -> None:
    task = _task()
    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        publish(task, tenant_id=1, message_ids=[2])
        assert task.sent == []
    assert task.sent == [{"tenant_id": 1, "message_ids": [2]}]


@pytest.mark.django_db(transaction=True)
def test_publish_outside_a_transaction_is_immediate() -> None:
    task = _task()
    publish(task, import_id=3)
    assert task.sent == [{"import_id": 3}]


def test_a_broker_outage_is_logged_not_raised(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="core.tasks"):
        assert publish_now(_task(fail=True), campaign_id=4) is False
    assert "Could not publish tests.fake" in caplog.text
    assert publish_now(_task(), campaign_id=4) is True


def test_publish_never_raises_on_commit() -> None:
    with mock.patch("core.tasks.transaction.on_commit", side_effect=lambda fn: fn()):
        publish(_task(fail=True), recording_id=5)
