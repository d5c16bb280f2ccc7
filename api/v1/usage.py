"""/api/v1/usage: this billing period's usage by kind at the tenant's prices, against its
monthly limit (postpaid) or balance (prepaid). The figures are the usage page's
(`billing.selectors.period_usage`, `billing.usage.selectors.usage_report`); 46elks' cost is
never part of the answer. See docs/api.md.
"""

from __future__ import annotations

from datetime import date

from django.conf import settings
from ninja import Router, Schema
from pydantic import Field

from api.errors import scope_require
from api.request_types import KeyRequest
from api.v1.schemas import ERRORS, AccountMode, UsageKindName
from billing.selectors import period_usage
from billing.usage.selectors import usage_report

router = Router(tags=["Usage"])


class KindUsage(Schema):
    kind: UsageKindName
    label: str
    events: int = Field(description="Messages, calls, number-months ...")
    quantity: int = Field(description="Parts, seconds, months: what the price counts.")
    price: int = Field(description="Your price, in 1/10000 of the currency.")


class UsageOut(Schema):
    period: date = Field(description="The first day of the billing period (a month).")
    currency: str
    mode: AccountMode
    spent: int = Field(description="Priced usage billed this period.")
    reserved: int = Field(description="Held for sends and calls in flight.")
    limit: int | None = Field(description="Postpaid: the monthly limit; prepaid: null.")
    balance: int | None = Field(description="Prepaid: the balance; postpaid: null.")
    remaining: int = Field(description="What may still be spent now.")
    by_kind: list[KindUsage]


@router.get("", response={200: UsageOut, **ERRORS}, summary="This period's usage")
def usage_get(request: KeyRequest) -> dict[str, object]:
    scope_require(request, "read")
    tenant = request.tenant
    usage = period_usage(tenant=tenant)
    report = usage_report(tenant=tenant, period=usage.period, current=usage.period)
    return {
        "period": usage.period,
        "currency": settings.ELKS_DEFAULT_CURRENCY,
        "mode": usage.mode,
        "spent": usage.spent,
        "reserved": usage.reserved,
        "limit": None if usage.prepaid else usage.limit,
        "balance": usage.balance if usage.prepaid else None,
        "remaining": usage.remaining,
        "by_kind": [
            {
                "kind": row.key,
                "label": row.label,
                "events": row.events,
                "quantity": row.quantity,
                "price": row.price,
            }
            for row in report.by_kind
        ],
    }
