"""The webhook backlog figures: what waits, for how long, how fast it drains, what failed."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from providers.models import WebhookEvent
from providers.selectors import webhook_backlog
from tests.factories import WebhookEventFactory

pytestmark = pytest.mark.django_db

NOW = timezone.now().replace(microsecond=0)
PENDING, PROCESSED, FAILED = (
    WebhookEvent.Status.PENDING,
    WebhookEvent.Status.PROCESSED,
    WebhookEvent.Status.FAILED,
)


def backlog_events() -> None:
    """Three pending (one waiting for its retry, one whose retry time has passed), two failed,
    three processed 30 s, 3 min and 10 min before NOW."""
    ago = lambda **kw: NOW - timedelta(**kw)  # noqa: E731
    WebhookEventFactory(status=PENDING, received=ago(minutes=3, seconds=12))
    WebhookEventFactory(
        status=PENDING, received=ago(minutes=1), attempts=1, next_attempt=NOW + timedelta(minutes=2)
    )
    WebhookEventFactory(status=PENDING, received=ago(seconds=20), next_attempt=ago(seconds=5))
    WebhookEventFactory.create_batch(2, status=FAILED, received=ago(hours=2), attempts=1)
    for processed in (ago(seconds=30), ago(minutes=3), ago(minutes=10)):
        WebhookEventFactory(status=PROCESSED, received=processed, processed=processed)


def test_the_figures_on_a_crafted_set() -> None:
    backlog_events()
    backlog = webhook_backlog(now=NOW)
    assert (backlog.pending, backlog.waiting_retry, backlog.failed) == (3, 1, 2)
    assert backlog.oldest_pending == timedelta(minutes=3, seconds=12)
    assert (backlog.processed_last_minute, backlog.processed_last_5_minutes) == (1, 2)
    assert backlog.rate_last_minute == pytest.approx(1 / 60)
    assert backlog.rate_last_5_minutes == pytest.approx(2 / 300)


def test_events_processed_after_now_are_not_counted() -> None:
    backlog_events()
    later = WebhookEventFactory(status=PROCESSED, processed=NOW + timedelta(seconds=1))
    assert webhook_backlog(now=NOW).processed_last_minute == 1
    assert webhook_backlog(now=later.processed).processed_last_minute == 2


def test_an_empty_table_has_nothing_waiting() -> None:
    backlog = webhook_backlog(now=NOW)
    assert (backlog.pending, backlog.waiting_retry, backlog.failed) == (0, 0, 0)
    assert backlog.oldest_pending is None
    assert backlog.rate_last_minute == backlog.rate_last_5_minutes == 0


def test_an_event_received_after_now_is_not_a_negative_age() -> None:
    WebhookEventFactory(status=PENDING, received=NOW + timedelta(seconds=2))  # clock skew
    assert webhook_backlog(now=NOW).oldest_pending == timedelta(0)


def test_two_queries_whatever_the_rows() -> None:
    backlog_events()
    with CaptureQueriesContext(connection) as queries:
        webhook_backlog(now=NOW)
    assert len(queries) == 2
