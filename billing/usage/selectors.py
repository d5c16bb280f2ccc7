"""Usage pages and the margin report, read from `DailyUsage` only.

A page sums the squashed rows and the delta rows not squashed yet (the totals are the same
before and after `usage-squash`), never the ledger entries: its cost follows the number of
(day, kind, number) rows of the period, not the number of events. Each function is one or two
grouped queries. Rows carry the provider cost for staff; tenant views never pass it on
(`TenantUsage` has no cost at all).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from django.db.models import F, Max, Min, Sum
from django.db.models.functions import TruncMonth
from django_scopes import scopes_disabled

from accounts.models import Tenant
from billing.ledger.models import DailyUsage, MonthlyUsage, UsageKind
from billing.periods import local_day, next_period, previous_period
from billing.services import account_for
from core.money import format_money

MAX_PERIODS = 24  # the period picker goes back two years
KIND_ORDER = [k.value for k in UsageKind]
FIGURES = ("events", "quantity", "price", "provider_cost")
MARGIN_SORTS = ("tenant", "month", "revenue", "cost", "margin")


def parse_period(value: str | None, current: date, default: date | None = None) -> date:
    """`?period=2026-10` → date(2026, 10, 1); a future month → `current`; anything else →
    `default` (or `current`)."""
    try:
        year, month = (int(part) for part in (value or "").split("-"))
        period = date(year, month, 1)
    except ValueError:
        return default or current
    return period if period <= current else current


@dataclass(frozen=True)
class UsageRow:
    key: str  # a kind's value, or a number's E.164 ("" for usage without a number)
    label: str
    events: int
    quantity: int
    price: int
    provider_cost: int

    @property
    def margin(self) -> int:
        return self.price - self.provider_cost


@dataclass(frozen=True)
class UsageReport:
    """One tenant's usage in one period, by kind and by number, with the periods to pick."""

    tenant: Tenant
    period: date
    periods: list[date]
    by_kind: list[UsageRow]
    by_number: list[UsageRow]
    total: UsageRow = field(init=False)

    def __post_init__(self) -> None:
        sums = [sum(getattr(r, f) for r in self.by_kind) for f in FIGURES]
        object.__setattr__(self, "total", UsageRow("", "Total", *sums))

    @property
    def previous(self) -> date | None:
        earlier = previous_period(self.period)
        return earlier if earlier in self.periods else None

    @property
    def following(self) -> date | None:
        later = next_period(self.period)
        return later if later in self.periods else None


def _period_rows(tenant: Tenant, period: date) -> Any:
    with scopes_disabled():  # the caller checked access; staff read any tenant
        return DailyUsage.objects.filter(
            tenant=tenant, day__gte=period, day__lt=next_period(period)
        )


def _sums() -> dict[str, Sum]:
    return {f: Sum(f) for f in FIGURES}


def _row(key: str, label: str, sums: dict[str, Any]) -> UsageRow:
    return UsageRow(key, label, *(int(sums.get(f) or 0) for f in FIGURES))


def usage_periods(*, tenant: Tenant, current: date) -> list[date]:
    """The periods with usage, and the current one, newest first (one query)."""
    with scopes_disabled():
        span = DailyUsage.objects.filter(tenant=tenant).aggregate(first=Min("day"), last=Max("day"))
    first = span["first"].replace(day=1) if span["first"] else current
    periods: list[date] = []
    period = max(current, (span["last"] or current).replace(day=1))
    while period >= first and len(periods) < MAX_PERIODS:
        periods.append(period)
        period = previous_period(period)
    return periods


def usage_report(*, tenant: Tenant, period: date, current: date) -> UsageReport:
    """By kind and by number for the period: three queries whatever the ledger holds."""
    rows = _period_rows(tenant, period)
    kinds = {r["kind"]: r for r in rows.values("kind").annotate(**_sums()).order_by()}
    labels = dict(UsageKind.choices)
    by_kind = [_row(k, labels[k], kinds[k]) for k in KIND_ORDER if k in kinds]
    numbers = rows.values(e164=F("number__number")).annotate(**_sums()).order_by("-price", "e164")
    by_number = [_row(r["e164"] or "", r["e164"] or "Not tied to a number", r) for r in numbers]
    return UsageReport(
        tenant=tenant,
        period=period,
        periods=usage_periods(tenant=tenant, current=current),
        by_kind=by_kind,
        by_number=by_number,
    )


def usage_chart(*, tenant: Tenant, period: date, staff: bool) -> dict[str, Any]:
    """The period's price per day by kind (stacked bars); staff also get cost and margin lines.

    Chart.js-shaped like console.traffic.selectors; two queries (the account's time zone).
    """
    # The current period ends today (the tenant's local day): no flat tail of days to come.
    today = local_day(account_for(tenant).time_zone)
    last = min(next_period(period) - timedelta(days=1), max(today, period))
    days = [period + timedelta(days=i) for i in range((last - period).days + 1)]
    sums: dict[tuple[date, str], dict[str, Any]] = {
        (r["day"], r["kind"]): r
        for r in _period_rows(tenant, period)
        .values("day", "kind")
        .annotate(price=Sum("price"), provider_cost=Sum("provider_cost"))
        .order_by()
    }
    labels = dict(UsageKind.choices)
    present = [k for k in KIND_ORDER if any(key[1] == k for key in sums)]
    empty: dict[str, Any] = {}
    datasets: list[dict[str, Any]] = [
        {
            "label": labels[kind],
            "data": [int(sums.get((d, kind), empty).get("price") or 0) for d in days],
            "stack": "price",
        }
        for kind in present
    ]
    price = [sum(int(r["price"] or 0) for (d, _), r in sums.items() if d == day) for day in days]
    currency = tenant.currency
    summary = f"{period:%B %Y}: {format_money(sum(price), currency)} in all"
    if present:
        summary += (
            " ("
            + ", ".join(
                f"{labels[k]} {format_money(sum(ds['data']), currency)}"
                for k, ds in zip(present, datasets, strict=True)
            )
            + ")"
        )
    if staff:
        cost = [
            sum(int(r["provider_cost"] or 0) for (d, _), r in sums.items() if d == day)
            for day in days
        ]
        datasets.append(
            {
                "label": "Provider cost",
                "data": cost,
                "type": "line",
                "dashed": True,
                "stack": "cost",
            }
        )
        datasets.append(
            {"label": "Margin", "data": [p - c for p, c in zip(price, cost, strict=True)],
             "type": "line", "stack": "margin"}
        )  # fmt: skip
        summary += f"; provider cost {format_money(sum(cost), currency)}"
    return {
        "type": "bar",
        "stacked": True,
        "money": True,
        "currency": currency,
        "labels": [d.isoformat() for d in days],
        "datasets": datasets,
        "summary": summary + ".",
        "empty": not sums,
    }


@dataclass(frozen=True)
class MarginRow:
    tenant_id: int
    tenant: str
    slug: str
    currency: str
    month: date
    revenue: int
    cost: int

    @property
    def margin(self) -> int:
        return self.revenue - self.cost

    @property
    def margin_percent(self) -> str:
        return f"{100 * self.margin / self.revenue:.1f}" if self.revenue else "—"


def margin_report(*, first: date, last: date, sort: str = "-margin") -> list[MarginRow]:
    """Revenue (price), provider cost and margin per tenant and month in [first, last] months.

    Three queries: the monthly rows (months x kinds per tenant, whatever the ledger's size),
    the daily deltas not folded into them yet (a minute's worth, on their partial index), and
    the names of the tenants found. Sorted here by `sort` (a MARGIN_SORTS key, '-' for
    descending), then by tenant and month; the rows are tenants x months.
    """
    end = next_period(last)
    totals: dict[tuple[int, date], list[int]] = defaultdict(lambda: [0, 0])
    with scopes_disabled():
        months = (
            MonthlyUsage.objects.filter(period__gte=first, period__lt=end)
            .values("tenant_id", "period")
            .annotate(revenue=Sum("price"), cost=Sum("provider_cost"))
            .order_by()
        )
        for m in months:
            acc = totals[(m["tenant_id"], _as_date(m["period"]))]
            acc[0] += int(m["revenue"] or 0)
            acc[1] += int(m["cost"] or 0)
        deltas = (
            DailyUsage.objects.filter(squashed=False, day__gte=first, day__lt=end)
            .annotate(month=TruncMonth("day"))
            .values("tenant_id", "month")
            .annotate(revenue=Sum("price"), cost=Sum("provider_cost"))
            .order_by()
        )
        for r in deltas:
            acc = totals[(r["tenant_id"], _as_date(r["month"]))]
            acc[0] += int(r["revenue"] or 0)
            acc[1] += int(r["cost"] or 0)
        tenants = {
            t["pk"]: t
            for t in Tenant.objects.filter(pk__in={k[0] for k in totals}).values(
                "pk", "name", "slug", "currency"
            )
        }
    rows = [
        MarginRow(
            tenant_id=tenant_id,
            tenant=tenants[tenant_id]["name"],
            slug=tenants[tenant_id]["slug"],
            currency=tenants[tenant_id]["currency"],
            month=month,
            revenue=revenue,
            cost=cost,
        )
        for (tenant_id, month), (revenue, cost) in totals.items()
    ]
    key = sort.lstrip("-") if sort.lstrip("-") in MARGIN_SORTS else "margin"
    rows.sort(key=lambda r: (r.tenant.lower(), r.month))
    if key != "tenant":
        rows.sort(key=lambda r: getattr(r, key), reverse=sort.startswith("-"))
    elif sort.startswith("-"):
        rows.sort(key=lambda r: r.tenant.lower(), reverse=True)
    return rows


def _as_date(value: Any) -> date:
    # TruncMonth over a DateField gives a date on PostgreSQL and SQLite alike; be lenient.
    return value.date() if hasattr(value, "date") and callable(value.date) else value


def margin_totals(rows: list[MarginRow]) -> list[dict[str, Any]]:
    """Totals per currency (tenants may bill in different ones)."""
    totals: dict[str, list[int]] = {}
    for r in rows:
        acc = totals.setdefault(r.currency, [0, 0])
        acc[0] += r.revenue
        acc[1] += r.cost
    return [
        {"currency": c, "revenue": rev, "cost": cost, "margin": rev - cost}
        for c, (rev, cost) in sorted(totals.items())
    ]


def margin_chart(rows: list[MarginRow], *, first: date, last: date) -> dict[str, Any]:
    """Revenue, cost and margin per month of [first, last] (all tenants), grouped bars, from
    the report's own rows; months without usage show as zeros."""
    months = []
    month = first
    while month <= last:
        months.append(month)
        month = next_period(month)
    by_month = {m: [0, 0] for m in months}
    for r in rows:
        by_month.setdefault(r.month, [0, 0])
        by_month[r.month][0] += r.revenue
        by_month[r.month][1] += r.cost
    revenue = [by_month[m][0] for m in months]
    cost = [by_month[m][1] for m in months]
    margin = [a - b for a, b in zip(revenue, cost, strict=True)]
    currencies = sorted({r.currency for r in rows})
    summary = "; ".join(
        f"{m:%Y-%m}: revenue {format_money(a, '')}, cost {format_money(b, '')}, "
        f"margin {format_money(a - b, '')}"
        for m, a, b in zip(months, revenue, cost, strict=True)
    )
    if len(currencies) > 1:
        summary += f" (mixed currencies: {', '.join(currencies)})"
    return {
        "type": "bar",
        "money": True,
        "currency": currencies[0] if len(currencies) == 1 else "",
        "labels": [f"{m:%Y-%m}" for m in months],
        "datasets": [
            {"label": "Revenue", "data": revenue},
            {"label": "Provider cost", "data": cost},
            {"label": "Margin", "data": margin},
        ],
        "summary": (summary or "No usage in these months") + ".",
        "empty": not rows,
    }
