"""Thin tasks for the tenant API."""

from __future__ import annotations

from celery import shared_task

from api.services import logs_prune


@shared_task
def api_prune() -> dict[str, int]:
    """Beat, hourly: idempotent answers older than 24 h, request-log rows past their days."""
    return logs_prune()
