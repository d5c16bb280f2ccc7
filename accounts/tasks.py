"""Celery plumbing shared by every app: the tenant-scoped base task."""

from __future__ import annotations

from typing import Any

from celery import Task
from django_scopes import scope


class TenantTask(Task):
    """Base class for tasks that work on one tenant's data.

    Call such a task with a `tenant_id` keyword argument; it runs inside that tenant's scope,
    so tenant-owned managers filter on it exactly as they do in a request.
    """

    abstract = True
    acks_late = True
    reject_on_worker_lost = True

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        tenant_id = kwargs.get("tenant_id")
        if tenant_id is None:
            raise TypeError(f"{self.name} needs a tenant_id keyword argument")
        with scope(tenant=tenant_id):
            return super().__call__(*args, **kwargs)
