"""Rate-plan reads and writes needed by rating; staff pages build on these."""

from __future__ import annotations

from datetime import date

from billing.plans.models import RatePlan, RatePlanVersion

# The first version of a plan created without prices: charges 46elks' cost plus 25%.
DEFAULT_MARKUP_BP = 2500
EPOCH = date(2000, 1, 1)


def plan_ensure_version(*, plan: RatePlan) -> RatePlanVersion:
    """A plan always has a version in force: the first one dates from the epoch."""
    version = plan.versions.order_by("effective_from").first()
    if version is None:
        version = RatePlanVersion.objects.create(
            plan=plan, effective_from=EPOCH, markup_bp=DEFAULT_MARKUP_BP
        )
    return version


def version_on(versions: list[RatePlanVersion], day: date) -> RatePlanVersion | None:
    """The version in force on `day` from a plan's versions (any order)."""
    best: RatePlanVersion | None = None
    for version in versions:
        if version.effective_from <= day and (
            best is None or version.effective_from > best.effective_from
        ):
            best = version
    return best
