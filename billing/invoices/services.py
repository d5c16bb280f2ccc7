"""Invoice writes: drafting a month, adjustments, issuing.

Drafting (`invoices_draft`) reads the ledger's `DailyUsage` rows of the month, squashed and
delta rows alike (an entry is billed in the period of its `day`), and writes for each tenant
with something to bill one draft: an invoice (postpaid) or a statement (prepaid). One line per
usage kind and number: quantity (the ledger's unit: SMS parts, MMS messages, call seconds shown
as minutes, number-months), the average unit price, the amount and, for staff only, the
provider cost. A tenant, period and kind has one document (unique): drafting a month again
adds nothing and never rewrites a draft.

Rounding. Amounts are integers in 1/10000 of the currency. A line's amount is its usage price
rounded to the currency's minor unit (1/100: a multiple of 100), half away from zero (0.005 →
0.01, -0.005 → -0.01). The subtotal is the sum of the rounded lines; VAT is the subtotal times
the rate, rounded the same way; the total is subtotal plus VAT. So the lines always add up to
the subtotal a customer sees, and no amount on paper has more than two decimals.

VAT. The tenant account's rate (`vat_rate_bp`, the Swedish 25% by default); 0% with a
reverse-charge note when the account has `reverse_charge` set *and* a VAT number (an EU business
customer). Without a VAT number the reverse charge cannot apply and the account's rate is used.

Statements (prepaid) list the month's usage the same way and its top-ups (lines of kind
`top_up`, outside the subtotal), with the balance before and after the month. The balance is
the tenant's price before VAT (rating takes the price off it); it is derived from the ledger:
closing = today's balance - top-ups since the month ended + usage billed since it ended, and
opening = closing - the month's top-ups + the month's usage.

Issuing (`invoice_issue`) takes the next number of the kind's series with SELECT ... FOR
UPDATE on the series row, so concurrent issuing waits in line and numbers have no gaps (a
rolled back issue rolls its number back too); it snapshots seller and buyer, sets `issued_at`
and the due date, and is audited. Issued documents never change (model and PG trigger).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Sum
from django.http import HttpRequest
from django.utils import timezone
from django_scopes import scopes_disabled

from accounts.models import AuditEvent, Tenant, User
from accounts.services import audit_record
from billing.invoices.models import Invoice, InvoiceLine, InvoiceSeries
from billing.ledger.models import DailyUsage, UsageKind
from billing.models import BillingAccount, TopUp
from billing.periods import current_period, local_day, next_period, period_of, previous_period
from numbers.models import PhoneNumber

ADJUSTMENT = "adjustment"
TOP_UP = "top_up"
# Usage kinds in the order lines are printed, with the unit each quantity is shown in.
UNITS = {
    UsageKind.NUMBER: "month",
    UsageKind.SMS_OUT: "part",
    UsageKind.SMS_IN: "message",
    UsageKind.MMS_OUT: "message",
    UsageKind.MMS_IN: "message",
    UsageKind.CALL: "min",
}
KIND_ORDER = list(UNITS)
CHUNK = 200  # tenants drafted per transaction


class InvoiceError(Exception):
    """A request staff can correct: the message says what to do."""


# --- rounding ------------------------------------------------------------------------------


def _div_round(numerator: int, denominator: int) -> int:
    """numerator / denominator rounded half away from zero, in integers only."""
    quotient, remainder = divmod(abs(numerator), denominator)
    if 2 * remainder >= denominator:
        quotient += 1
    return -quotient if numerator < 0 else quotient


def round_minor(amount: int) -> int:
    """An amount in 1/10000 rounded to the minor unit (a multiple of 100), half away from 0."""
    return _div_round(amount, 100) * 100


def vat_of(subtotal: int, rate_bp: int) -> int:
    """VAT at `rate_bp` (basis points: 2500 = 25%) of `subtotal`, rounded to the minor unit."""
    return _div_round(subtotal * rate_bp, 100 * 10_000) * 100


def unit_price_of(amount: int, quantity: int, unit: str) -> int:
    """The average price of one unit as printed (calls: per minute of billed seconds)."""
    if quantity == 0:
        return 0
    per = 60 if unit == "min" else 1
    return _div_round(amount * per, quantity)


# --- parties -------------------------------------------------------------------------------


def seller_details() -> dict[str, Any]:
    company = dict(settings.BILLING_COMPANY)
    company.setdefault("payment_terms_days", 30)
    return company


def buyer_details(account: BillingAccount) -> dict[str, Any]:
    tenant = account.tenant
    return {
        "name": account.billing_name or tenant.name,
        "address": account.billing_address,
        "email": account.billing_email,
        "vat_number": account.vat_number,
        "tenant": tenant.slug,
    }


def vat_terms(account: BillingAccount) -> tuple[int, bool]:
    """(rate in basis points, reverse charge) for the account."""
    if account.reverse_charge and account.vat_number.strip():
        return 0, True
    return account.vat_rate_bp, False


# --- drafting ------------------------------------------------------------------------------


@dataclass(frozen=True)
class DraftReport:
    period: date
    drafted: int  # documents written now
    existing: int  # tenants whose document for the period was already there
    lines: int


@dataclass
class _Usage:
    events: int = 0
    quantity: int = 0
    cost: int = 0
    price: int = 0


def invoices_draft(*, period: date, tenant_ids: list[int] | None = None) -> DraftReport:
    """Draft the invoices and statements of `period` (any day of the month will do)."""
    period = period_of(period)
    end = next_period(period)
    with scopes_disabled():
        accounts = BillingAccount.objects.select_related("tenant").order_by("tenant_id")
        if tenant_ids is not None:
            accounts = accounts.filter(tenant_id__in=tenant_ids)
        by_tenant = {a.tenant_id: a for a in accounts}
        usage = _month_usage(period, end, list(by_tenant) if tenant_ids is not None else None)
        prepaid = [t for t, a in by_tenant.items() if a.is_prepaid]
        top_ups = _top_ups(period, by_tenant, prepaid)
        later = _usage_after(end, prepaid)
        names = dict(
            PhoneNumber.objects.filter(
                pk__in={n for rows in usage.values() for (_, n) in rows if n}
            ).values_list("pk", "number")
        )
        drafted = existing = lines = 0
        ids = [t for t in by_tenant if usage.get(t) or top_ups[t]["month"]]
        for start in range(0, len(ids), CHUNK):
            chunk = ids[start : start + CHUNK]
            for attempt in range(2):
                try:
                    with transaction.atomic():
                        made = _draft_chunk(
                            period, [by_tenant[t] for t in chunk], usage, top_ups, later, names
                        )
                    break
                except IntegrityError:
                    # Another run drafted some of these tenants since we looked: look again.
                    if attempt:
                        raise
            drafted += made[0]
            existing += made[1]
            lines += made[2]
    return DraftReport(period=period, drafted=drafted, existing=existing, lines=lines)


def _month_usage(
    period: date, end: date, tenant_ids: list[int] | None
) -> dict[int, dict[tuple[str, int | None], _Usage]]:
    rows = DailyUsage.objects.filter(day__gte=period, day__lt=end)
    if tenant_ids is not None:
        rows = rows.filter(tenant_id__in=tenant_ids)
    sums = (
        rows.values("tenant_id", "kind", "number_id")
        .annotate(
            events=Sum("events"), quantity=Sum("quantity"), cost=Sum("provider_cost"),
            price=Sum("price"),
        )
        .order_by()
    )  # fmt: skip
    usage: dict[int, dict[tuple[str, int | None], _Usage]] = defaultdict(dict)
    for row in sums:
        if not (row["events"] or row["quantity"] or row["price"] or row["cost"]):
            continue
        usage[row["tenant_id"]][(row["kind"], row["number_id"])] = _Usage(
            int(row["events"] or 0), int(row["quantity"] or 0), int(row["cost"] or 0),
            int(row["price"] or 0),
        )  # fmt: skip
    return usage


def _top_ups(
    period: date, accounts: dict[int, BillingAccount], prepaid: list[int]
) -> dict[int, dict[str, Any]]:
    """Per prepaid tenant: the month's top-ups (rows) and the sums in and after the month,
    each top-up placed by its local day in the account's time zone."""
    found: dict[int, dict[str, Any]] = defaultdict(lambda: {"month": [], "in": 0, "after": 0})
    if not prepaid:
        return found
    # A day's margin either side covers every time zone; the local day decides.
    since = datetime(period.year, period.month, 1, tzinfo=UTC) - timedelta(days=1)
    end = next_period(period)
    for top_up in TopUp.objects.filter(tenant_id__in=prepaid, created__gte=since).order_by(
        "created", "id"
    ):
        day = local_day(accounts[top_up.tenant_id].time_zone, top_up.created)
        entry = found[top_up.tenant_id]
        if day >= end:
            entry["after"] += top_up.amount
        elif day >= period:
            entry["month"].append(top_up)
            entry["in"] += top_up.amount
    return found


def _usage_after(end: date, prepaid: list[int]) -> dict[int, int]:
    if not prepaid:
        return {}
    return dict(
        DailyUsage.objects.filter(tenant_id__in=prepaid, day__gte=end)
        .values("tenant_id")
        .annotate(price=Sum("price"))
        .order_by()
        .values_list("tenant_id", "price")
    )


def _draft_chunk(
    period: date,
    accounts: list[BillingAccount],
    usage: dict[int, dict[tuple[str, int | None], _Usage]],
    top_ups: dict[int, dict[str, Any]],
    later: dict[int, int],
    names: dict[int, str],
) -> tuple[int, int, int]:
    done = set(
        Invoice.objects.filter(period=period, tenant_id__in=[a.tenant_id for a in accounts])
        .values_list("tenant_id", "kind")
    )  # fmt: skip
    seller = seller_details()
    invoices: list[Invoice] = []
    pending: list[list[InvoiceLine]] = []
    existing = 0
    for account in accounts:
        kind = Invoice.Kind.STATEMENT if account.is_prepaid else Invoice.Kind.INVOICE
        if (account.tenant_id, kind) in done:
            existing += 1
            continue
        rate, reverse = vat_terms(account)
        lines = _usage_lines(usage.get(account.tenant_id, {}), names)
        invoice = Invoice(
            tenant_id=account.tenant_id, kind=kind, period=period,
            currency=account.tenant.currency, vat_rate_bp=rate, reverse_charge=reverse,
            seller=seller, buyer=buyer_details(account),
        )  # fmt: skip
        _totals(invoice, lines)
        if kind == Invoice.Kind.STATEMENT:
            money = top_ups[account.tenant_id]
            for top_up in money["month"]:
                lines.append(
                    InvoiceLine(
                        kind=TOP_UP,
                        description=f"Top-up {local_day(account.time_zone, top_up.created)}"
                        + (f": {top_up.note}" if top_up.note else ""),
                        quantity=1, amount=top_up.amount, unit_price=top_up.amount,
                    )
                )  # fmt: skip
            spent = sum(line.amount for line in lines if line.kind != TOP_UP)
            closing = account.balance - money["after"] + int(later.get(account.tenant_id) or 0)
            invoice.top_ups = money["in"]
            invoice.closing_balance = closing
            invoice.opening_balance = closing - money["in"] + spent
        for position, line in enumerate(lines):
            line.position = position
        invoices.append(invoice)
        pending.append(lines)
    Invoice.objects.bulk_create(invoices)
    rows = []
    for invoice, lines in zip(invoices, pending, strict=True):
        for line in lines:
            line.invoice = invoice
            rows.append(line)
    InvoiceLine.objects.bulk_create(rows, batch_size=2000)
    return len(invoices), existing, len(rows)


def _usage_lines(
    usage: dict[tuple[str, int | None], _Usage], names: dict[int, str]
) -> list[InvoiceLine]:
    def order(key: tuple[str, int | None]) -> tuple[int, str]:
        kind, number_id = key
        return KIND_ORDER.index(UsageKind(kind)), names.get(number_id or 0, "")

    lines = []
    for key in sorted(usage, key=order):
        kind, number_id = key
        figures = usage[key]
        unit = UNITS[UsageKind(kind)]
        amount = round_minor(figures.price)
        label = UsageKind(kind).label
        number = names.get(number_id or 0)
        lines.append(
            InvoiceLine(
                kind=kind, number_id=number_id,
                description=f"{label}, {number}" if number else label,
                quantity=figures.quantity, unit=unit,
                unit_price=unit_price_of(figures.price, figures.quantity, unit),
                amount=amount, provider_cost=figures.cost,
            )
        )  # fmt: skip
    return lines


def _totals(invoice: Invoice, lines: list[InvoiceLine]) -> None:
    invoice.subtotal = sum(line.amount for line in lines if line.kind != TOP_UP)
    invoice.vat = vat_of(invoice.subtotal, invoice.vat_rate_bp)
    invoice.total = invoice.subtotal + invoice.vat


def invoices_draft_due(*, today: date | None = None) -> DraftReport:
    """The beat job: draft the month before this one (in Stockholm time); safe any day."""
    today = today or current_period("Europe/Stockholm")
    return invoices_draft(period=previous_period(period_of(today)))


# --- adjustments and issuing ---------------------------------------------------------------


def _draft_locked(invoice_id: int) -> Invoice:
    invoice = Invoice.objects.select_for_update().get(pk=invoice_id)
    if invoice.is_issued:
        raise InvoiceError("This invoice is issued: it can no longer be changed.")
    return invoice


def _totals_save(invoice: Invoice) -> None:
    _totals(invoice, list(invoice.lines.all()))
    invoice.save(update_fields=["subtotal", "vat", "total"])


def invoice_adjustment_add(
    *,
    invoice_id: int,
    description: str,
    amount: int,
    actor: User,
    request: HttpRequest | None = None,
) -> InvoiceLine:
    """Add a line (positive or negative) to a draft; `amount` in 1/10000, whole minor units."""
    description = description.strip()
    if not description:
        raise InvoiceError("Describe the adjustment.")
    if amount == 0 or amount % 100:
        raise InvoiceError("The amount must be non-zero, in whole hundredths (e.g. -12.50).")
    with scopes_disabled(), transaction.atomic():
        invoice = _draft_locked(invoice_id)
        if invoice.is_statement:
            # A statement follows the balance; a line here would not move it.
            raise InvoiceError(
                "A statement follows the prepaid balance: correct the balance with a top-up "
                "(negative for a charge) instead."
            )
        position = invoice.lines.order_by("-position").values_list("position", flat=True)[:1]
        line = InvoiceLine.objects.create(
            invoice=invoice, kind=ADJUSTMENT, description=description[:200], quantity=1,
            unit_price=amount, amount=amount, created_by=actor,
            position=(position[0] + 1) if position else 0,
        )  # fmt: skip
        _totals_save(invoice)
        audit_record(
            action=AuditEvent.Action.INVOICE_ADJUSTED, actor=actor, tenant=invoice.tenant,
            request=request, invoice=invoice.pk, line=line.pk, description=line.description,
            amount=amount,
        )  # fmt: skip
    return line


def invoice_adjustment_remove(
    *, invoice_id: int, line_id: int, actor: User, request: HttpRequest | None = None
) -> None:
    with scopes_disabled(), transaction.atomic():
        invoice = _draft_locked(invoice_id)
        line = invoice.lines.filter(pk=line_id, kind=ADJUSTMENT).first()
        if line is None:
            raise InvoiceError("Only adjustment lines can be removed.")
        line.delete()
        _totals_save(invoice)
        audit_record(
            action=AuditEvent.Action.INVOICE_ADJUSTED, actor=actor, tenant=invoice.tenant,
            request=request, invoice=invoice.pk, removed=line_id, description=line.description,
            amount=-line.amount,
        )  # fmt: skip


def invoice_issue(
    *, invoice_id: int, actor: User | None, request: HttpRequest | None = None
) -> Invoice:
    """Number, snapshot and freeze a draft. Numbers come from the kind's series under a row
    lock: two staff issuing at once get consecutive numbers, and a failed issue frees its own."""
    with scopes_disabled(), transaction.atomic():
        invoice = _draft_locked(invoice_id)
        InvoiceSeries.objects.get_or_create(name=invoice.kind)
        series = InvoiceSeries.objects.select_for_update().get(name=invoice.kind)
        series.last_number += 1
        series.save(update_fields=["last_number"])
        account = BillingAccount.objects.select_related("tenant").get(pk=invoice.tenant_id)
        now = timezone.now()
        seller = seller_details()
        _totals(invoice, list(invoice.lines.all()))
        invoice.number = series.last_number
        invoice.status = Invoice.Status.ISSUED
        invoice.seller = seller
        invoice.buyer = buyer_details(account)
        invoice.issued_at = now
        invoice.issued_by = actor
        invoice.due_date = local_day(account.time_zone, now) + timedelta(
            days=int(seller["payment_terms_days"])
        )
        invoice.save()
        audit_record(
            action=AuditEvent.Action.INVOICE_ISSUED, actor=actor, tenant=account.tenant,
            request=request, invoice=invoice.pk, number=invoice.reference,
            period=f"{invoice.period:%Y-%m}", total=invoice.total,
        )  # fmt: skip
    return invoice


def invoices_members_set(
    *, tenant: Tenant, allowed: bool, actor: User, request: HttpRequest | None = None
) -> None:
    """The owner's switch: members may see the invoices and statements too."""
    changed = (
        BillingAccount.objects.filter(pk=tenant.pk)
        .exclude(members_see_invoices=allowed)
        .update(members_see_invoices=allowed)
    )
    if changed:
        audit_record(
            action=AuditEvent.Action.INVOICES_MEMBERS_CHANGED, actor=actor, tenant=tenant,
            request=request, members_see_invoices=allowed,
        )  # fmt: skip
