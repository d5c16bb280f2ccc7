"""Reads for the staff plan pages."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from django.db.models import Count, QuerySet

from billing.plans.models import PlanPrice, RatePlan, RatePlanVersion


def plans_list() -> QuerySet[RatePlan]:
    return RatePlan.objects.annotate(
        version_count=Count("versions", distinct=True),
        tenant_count=Count("accounts", distinct=True),
    ).order_by("-is_default", "name")


@dataclass(frozen=True)
class VersionRow:
    version: RatePlanVersion
    state: str  # "future", "in force" or "past"
    price_count: int

    @property
    def editable(self) -> bool:
        return self.state == "future"


def plan_versions(*, plan: RatePlan, today: date) -> list[VersionRow]:
    """Newest first, each marked future / in force / past as of `today`."""
    versions = list(plan.versions.annotate(price_count=Count("prices")).order_by("-effective_from"))
    in_force = next((v for v in versions if v.effective_from <= today), None)
    rows = []
    for v in versions:
        if v.effective_from > today:
            state = "future"
        elif v is in_force:
            state = "in force"
        else:
            state = "past"
        rows.append(VersionRow(version=v, state=state, price_count=v.price_count))
    return rows


def version_prices(*, version: RatePlanVersion) -> list[PlanPrice]:
    return list(PlanPrice.objects.filter(version=version).order_by("kind", "country", "category"))
