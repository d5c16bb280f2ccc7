"""Django admin for sender names and the deny list; every change is audited like the console."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest

from accounts.models import AuditEvent
from messaging.senders.models import DeniedSenderName, SenderName
from messaging.senders.rules import name_key
from messaging.senders.services import deny_audit


@admin.register(DeniedSenderName)
class DeniedSenderNameAdmin(admin.ModelAdmin):
    list_display = ["term", "exact", "note", "created"]
    list_filter = ["exact"]
    search_fields = ["term", "note"]
    readonly_fields = ["created_by", "created"]

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        if not change:
            obj.created_by = request.user
        super().save_model(request, obj, form, change)
        action = AuditEvent.Action.DENY_CHANGED if change else AuditEvent.Action.DENY_ADDED
        deny_audit(action, obj, actor=request.user, request=request)

    def delete_model(self, request: HttpRequest, obj: Any) -> None:
        deny_audit(AuditEvent.Action.DENY_REMOVED, obj, actor=request.user, request=request)
        super().delete_model(request, obj)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> None:
        for obj in queryset:
            deny_audit(AuditEvent.Action.DENY_REMOVED, obj, actor=request.user, request=request)
        super().delete_queryset(request, queryset)


@admin.register(SenderName)
class SenderNameAdmin(admin.ModelAdmin):
    """Read-mostly: decisions are made in the staff console, which audits them."""

    list_display = ["name", "tenant", "status", "created", "decided_at", "decided_by"]
    list_filter = ["status"]
    search_fields = ["name", "tenant__name"]
    readonly_fields = ["tenant", "name", "status", "requested_by", "decided_by", "created"]
    fields = [*readonly_fields, "purpose", "decision_reason", "decided_at"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        obj.key = name_key(obj.name)
        super().save_model(request, obj, form, change)
