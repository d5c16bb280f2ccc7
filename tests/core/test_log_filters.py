"""The filters the call and message logs share."""

from __future__ import annotations

from datetime import UTC, date, datetime

from django.http import QueryDict

from calls.selectors import CallFilters
from core.log_filters import LogFilters, export_filename, parse_since
from messaging.selectors import MessageFilters


def test_common_filters_are_read_the_same_by_both_logs() -> None:
    query = QueryDict("direction=in&number=%2B46766861001&from=2026-11-01&to=bad&state=x&status=y")
    calls, messages = CallFilters.from_query(query), MessageFilters.from_query(query)
    for filters in (calls, messages):
        assert (filters.direction, filters.ours) == ("in", "+46766861001")
        assert (filters.date_from, filters.date_to) == (date(2026, 11, 1), None)
        assert filters.active
    assert calls.state == "" and messages.status == ""  # unknown values are dropped


def test_nothing_chosen_is_not_active() -> None:
    assert not LogFilters.from_query(QueryDict("direction=sideways")).active


def test_since_survives_an_unencoded_plus_and_rejects_junk() -> None:
    assert parse_since("2026-11-28T10:00:00 00:00") == datetime(2026, 11, 28, 10, tzinfo=UTC)
    assert parse_since("yesterday") is None


def test_export_filename_names_kind_and_tenant() -> None:
    name = export_filename("calls", "acme")
    assert name.startswith("calls-acme-") and name.endswith(".csv")
