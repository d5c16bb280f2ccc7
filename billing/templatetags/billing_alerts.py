"""The alert banners as self-contained includes: `templates/billing/_alerts.html` (tenant
pages, owners only) and `templates/billing/staff/_alerts.html` (staff console)."""

from __future__ import annotations

from typing import Any

from django import template

from billing.alerts.selectors import alerts_open, staff_alerts_open
from billing.alerts.services import alert_text
from billing.models import BillingAlert, StaffAlert

register = template.Library()


@register.simple_tag(takes_context=True)
def tenant_billing_alerts(context: dict[str, Any]) -> list[tuple[BillingAlert, str]]:
    access = context.get("tenant_access")
    if access is None or not access.can_manage:
        return []
    return [(alert, alert_text(alert)) for alert in alerts_open(tenant=access.tenant)]


@register.simple_tag
def staff_billing_alerts() -> list[StaffAlert]:
    return list(staff_alerts_open())
