"""Rate-plan reads and writes needed by rating; staff pages build on these."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from django.db import transaction
from django.http import HttpRequest

from accounts.models import AuditEvent, Tenant, User
from accounts.services import audit_record
from billing.plans.models import PlanPrice, RatePlan, RatePlanVersion

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


# --- staff writes (billing.staff_views): every one is audited -------------------------------


class PlanError(Exception):
    """A plan change that is not allowed (a version in force is read-only): for staff."""


def version_current(*, plan: RatePlan, day: date) -> RatePlanVersion | None:
    return plan.versions.filter(effective_from__lte=day).order_by("-effective_from").first()


def version_is_editable(*, version: RatePlanVersion, today: date) -> bool:
    """Only a version that has not taken effect may change: it has priced nothing yet."""
    return version.effective_from > today


def plan_create(
    *, name: str, description: str, currency: str, actor: User, request: HttpRequest | None
) -> RatePlan:
    with transaction.atomic():
        plan = RatePlan.objects.create(name=name, description=description, currency=currency)
        plan_ensure_version(plan=plan)
        audit_record(
            action=AuditEvent.Action.PLAN_CREATED, actor=actor, request=request, plan=plan.name
        )
    return plan


def plan_update(
    *, plan: RatePlan, name: str, description: str, actor: User, request: HttpRequest | None
) -> None:
    with transaction.atomic():
        old = {"name": plan.name, "description": plan.description}
        plan.name, plan.description = name, description
        plan.save(update_fields=["name", "description"])
        audit_record(
            action=AuditEvent.Action.PLAN_CHANGED,
            actor=actor,
            request=request,
            plan=plan.name,
            old=old,
        )


def plan_default_set(*, plan: RatePlan, actor: User, request: HttpRequest | None) -> None:
    """The plan new tenants get; exactly one (a partial unique index holds it)."""
    with transaction.atomic():
        RatePlan.objects.filter(is_default=True).exclude(pk=plan.pk).update(is_default=False)
        RatePlan.objects.filter(pk=plan.pk).update(is_default=True)
        audit_record(
            action=AuditEvent.Action.PLAN_CHANGED,
            actor=actor,
            request=request,
            plan=plan.name,
            default=True,
        )


def version_add(
    *,
    plan: RatePlan,
    effective_from: date,
    today: date,
    actor: User,
    request: HttpRequest | None,
) -> RatePlanVersion:
    """A new version from `effective_from` (today or later), starting as a copy of the
    version in force then, so staff edit only what changes."""
    if effective_from < today:
        raise PlanError("A version cannot start in the past: that would reprice billed usage.")
    with transaction.atomic():
        if plan.versions.filter(effective_from=effective_from).exists():
            raise PlanError(f"This plan already has a version from {effective_from}.")
        source = version_current(plan=plan, day=effective_from)
        copied = {f: getattr(source, f) for f in VERSION_FIELDS} if source is not None else {}
        version = RatePlanVersion.objects.create(
            plan=plan, effective_from=effective_from, created_by=actor, **copied
        )
        if source is not None:
            PlanPrice.objects.bulk_create(
                PlanPrice(
                    version=version,
                    kind=p.kind,
                    country=p.country,
                    category=p.category,
                    price=p.price,
                )
                for p in source.prices.all()
            )
        audit_record(
            action=AuditEvent.Action.PLAN_VERSION_ADDED,
            actor=actor,
            request=request,
            plan=plan.name,
            effective_from=effective_from.isoformat(),
            copied_from=source.effective_from.isoformat() if source else None,
        )
    return version


VERSION_FIELDS = (
    "markup_bp",
    "call_first_seconds",
    "call_next_seconds",
    "call_connection_fee",
    "sms_in_price",
    "mms_in_price",
    "note",
)


@dataclass(frozen=True)
class PriceRow:
    kind: str
    country: str
    category: str
    price: int


def version_prices_save(
    *,
    version: RatePlanVersion,
    fields: dict[str, object],
    rows: list[PriceRow],
    today: date,
    actor: User,
    request: HttpRequest | None,
) -> None:
    """Replace a future version's settings and listed prices (all rows at once)."""
    with transaction.atomic():
        locked = RatePlanVersion.objects.select_for_update().get(pk=version.pk)
        if not version_is_editable(version=locked, today=today):
            raise PlanError("This version is in force or past: it is read-only. Add a new one.")
        for field in VERSION_FIELDS:
            if field in fields:
                setattr(locked, field, fields[field])
        locked.save()
        PlanPrice.objects.filter(version=locked).delete()
        PlanPrice.objects.bulk_create(
            PlanPrice(
                version=locked, kind=r.kind, country=r.country, category=r.category, price=r.price
            )
            for r in rows
        )
        audit_record(
            action=AuditEvent.Action.PLAN_PRICES_CHANGED,
            actor=actor,
            request=request,
            plan=locked.plan.name,
            effective_from=locked.effective_from.isoformat(),
            prices=len(rows),
        )


def plan_assign(
    *, tenant: Tenant, plan: RatePlan, actor: User, request: HttpRequest | None
) -> None:
    """Put the tenant on `plan`; events are rated by it from now on (never repriced)."""
    from billing.models import BillingAccount
    from billing.services import account_for

    with transaction.atomic():
        old = account_for(tenant).plan
        BillingAccount.objects.filter(pk=tenant.pk).update(plan=plan)
        audit_record(
            action=AuditEvent.Action.PLAN_ASSIGNED,
            actor=actor,
            tenant=tenant,
            request=request,
            plan=plan.name,
            old=old.name,
        )
