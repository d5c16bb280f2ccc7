"""Demo billing: two rate plans (one with a version starting next month), Acme Taxi postpaid
on the Business plan, Nordic Florist prepaid with a top-up, and the seeded history rated into
the ledger on the days it happened, so usage pages, charts and last month's invoice have
something true to show. Idempotent like the rest of the demo seeding.
"""

from __future__ import annotations

from datetime import date

from django.db import transaction

from accounts.models import Tenant, User
from billing.ledger.models import UsageEntry
from billing.ledger.services import Rater, UsageEvent, usage_record
from billing.models import BillingAccount, PlanPrice, RatePlan, RatePlanVersion, TopUp
from billing.periods import current_period, local_day, next_period, period_bounds
from billing.plans.services import EPOCH
from billing.services import top_up_record

SEK = 10_000  # one krona in the ledger's unit

# (kind, country, category, price)
STANDARD = [
    ("sms_part", "se", "", 45 * SEK // 100),
    ("sms_part", "no", "", 60 * SEK // 100),
    ("sms_part", "", "", 80 * SEK // 100),
    ("mms", "se", "", 150 * SEK // 100),
    ("call_minute", "se", "", 90 * SEK // 100),
    ("number_month", "se", "mobile", 49 * SEK),
    ("number_month", "se", "fixed", 39 * SEK),
]
BUSINESS = [
    ("sms_part", "se", "", 39 * SEK // 100),
    ("sms_part", "", "", 69 * SEK // 100),
    ("mms", "se", "", 129 * SEK // 100),
    ("call_minute", "se", "", 79 * SEK // 100),
    ("number_month", "se", "mobile", 45 * SEK),
    ("number_month", "se", "fixed", 35 * SEK),
]


def _version(plan: RatePlan, effective: date, prices: list[tuple[str, str, str, int]],
             **terms: object) -> None:  # fmt: skip
    version, created = RatePlanVersion.objects.get_or_create(
        plan=plan, effective_from=effective, defaults=terms
    )
    if created or not version.prices.exists():
        PlanPrice.objects.bulk_create(
            PlanPrice(version=version, kind=k, country=c, category=g, price=p)
            for k, c, g, p in prices
        )


def demo_plans() -> tuple[RatePlan, RatePlan]:
    standard = RatePlan.objects.filter(is_default=True).first() or RatePlan.objects.create(
        name="Standard", is_default=True
    )
    standard.description = "List prices, per-minute calls"
    standard.save(update_fields=["description"])
    # The migration's first version is a bare markup; the demo lists prices on it.
    _version(standard, EPOCH, STANDARD, markup_bp=2500)
    business, _ = RatePlan.objects.get_or_create(
        name="Business", defaults={"description": "Volume prices, per-second calls after 1 min"}
    )
    _version(business, EPOCH, BUSINESS, markup_bp=2000, call_next_seconds=1)
    # A price change staff have scheduled: next month SMS to Sweden costs 0.42.
    following = next_period(current_period("Europe/Stockholm"))
    raised = [(k, c, g, 42 * SEK // 100 if (k, c) == ("sms_part", "se") else p)
              for k, c, g, p in BUSINESS]  # fmt: skip
    _version(business, following, raised, markup_bp=2000, call_next_seconds=1,
             note="SMS to Sweden from 0.39 to 0.42")  # fmt: skip
    return standard, business


def demo_account(*, tenant: Tenant, staff: User) -> None:
    """Acme Taxi postpaid on Business, Nordic Florist prepaid with a top-up: set before its
    numbers are rented, so the rentals are priced and reserved on the right terms."""
    _, business = demo_plans()
    if tenant.name == "Acme Taxi":
        BillingAccount.objects.filter(pk=tenant.pk).update(
            plan=business,
            mode=BillingAccount.Mode.POSTPAID,
            billing_name="Acme Taxi AB",
            billing_address="Sveavägen 1\n111 57 Stockholm",
            billing_email="invoices@acme.test",
        )
    else:
        BillingAccount.objects.filter(pk=tenant.pk).update(
            mode=BillingAccount.Mode.PREPAID, billing_name=f"{tenant.name} AB"
        )
        if not TopUp.objects.filter(tenant=tenant).exists():
            top_up_record(tenant=tenant, amount=1_500 * SEK, note="Bank transfer", actor=staff)


def demo_history_rated(tenant: Tenant) -> None:
    """Rate the seeded history (46elks history rows) on the days it happened."""
    from calls.billing import billable_legs
    from calls.models import Call
    from messaging.models import Message
    from messaging.rating import message_event
    from numbers.models import PhoneNumber

    first = (
        Message.objects.filter(tenant=tenant, source=Message.Source.HISTORY)
        .order_by("created", "pk")
        .first()
    )
    if first is None or UsageEntry.objects.filter(source=f"message:{first.pk}").exists():
        return
    rater = Rater()
    zone = rater.account(tenant.pk).time_zone
    with transaction.atomic():
        for m in Message.objects.filter(tenant=tenant, source=Message.Source.HISTORY):
            rated = usage_record(tenant_id=tenant.pk, event=message_event(m, cost=m.cost),
                                 rater=rater, billed_on=local_day(zone, m.created))  # fmt: skip
            Message.objects.filter(pk=m.pk).update(price=rated.price)
        for c in Call.objects.filter(tenant=tenant, source=Call.Source.HISTORY):
            price = 0
            for n, leg in enumerate(billable_legs(c)):
                event = UsageEvent(
                    kind="call",
                    source=f"call:{c.pk}:{n}",
                    occurred_at=c.created,
                    to=leg.to,
                    seconds=leg.seconds,
                    provider_cost=c.cost if n == 0 else 0,
                    number_id=c.number_id,
                )
                price += usage_record(tenant_id=tenant.pk, event=event, rater=rater,
                                      billed_on=local_day(zone, c.created)).price  # fmt: skip
            Call.objects.filter(pk=c.pk).update(price=price)
        # Each number's past months since the history began (renting it rated this one).
        start = local_day(zone, first.created).replace(day=1)
        now = current_period(zone)
        for number in PhoneNumber.objects.filter(tenant=tenant, status="active"):
            month = start
            while month < now:
                at = period_bounds(month, zone)[0]
                event = UsageEvent(
                    kind="number",
                    source=f"number:{number.pk}:{month:%Y-%m}",
                    occurred_at=max(at, number.created),
                    country=number.country,
                    category=number.category,
                    provider_cost=number.monthly_price or 30 * SEK,
                    number_id=number.pk,
                )
                usage_record(tenant_id=tenant.pk, event=event, rater=rater, billed_on=month)
                month = next_period(month)


def demo_invoices(*, acme: Tenant, staff: User) -> None:
    """Last month drafted for everyone (as the beat task does on the 1st) and Acme's invoice
    issued, so its owner has a PDF to download and staff a draft to review."""
    from billing.invoices.models import Invoice
    from billing.invoices.services import invoice_issue, invoices_draft
    from billing.ledger.rollup import usage_squash
    from billing.periods import previous_period

    while usage_squash():
        pass
    last_month = previous_period(current_period("Europe/Stockholm"))
    invoices_draft(period=last_month)
    draft = Invoice.objects.filter(
        tenant=acme, period=last_month, status=Invoice.Status.DRAFT
    ).first()
    if draft is not None:
        invoice_issue(invoice_id=draft.pk, actor=staff)
