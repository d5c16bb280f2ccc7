"""Invoices and statements: drafting from the ledger, rounding and VAT, reverse charge,
idempotent drafting, adjustments, issuing with gap-free numbers, immutability."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from django.db import connection
from django.db.utils import DatabaseError
from django_scopes import scopes_disabled

from accounts.models import AuditEvent
from billing.invoices.models import Invoice, InvoiceLine
from billing.invoices.services import (
    InvoiceError,
    invoice_adjustment_add,
    invoice_adjustment_remove,
    invoice_issue,
    invoices_draft,
    invoices_draft_due,
    round_minor,
    unit_price_of,
    vat_of,
)
from billing.ledger.models import DailyUsage
from billing.models import BillingAccount, TopUp
from numbers.models import PhoneNumber
from tests.conftest import World, client_for

NOV = date(2026, 11, 1)


def usage(tenant, day: date, kind: str, *, number=None, events=1, quantity=1, cost=0, price=0,
          squashed=True) -> None:  # fmt: skip
    DailyUsage.objects.create(
        tenant=tenant, day=day, kind=kind, number=number, events=events, quantity=quantity,
        provider_cost=cost, price=price, squashed=squashed,
    )  # fmt: skip


def number_of(tenant, digits: str) -> PhoneNumber:
    return PhoneNumber.objects.create(
        tenant=tenant, provider_id=f"n-{digits}", number=digits, country="se", has_sms=True,
        status=PhoneNumber.Status.ACTIVE,
    )  # fmt: skip


def draft_of(tenant, period: date = NOV, kind: str = "invoice") -> Invoice:
    with scopes_disabled():
        return Invoice.objects.get(tenant=tenant, period=period, kind=kind)


def lines_of(invoice: Invoice) -> list[InvoiceLine]:
    with scopes_disabled():
        return list(invoice.lines.order_by("position"))


# --- rounding --------------------------------------------------------------------------------


def test_rounding_to_the_minor_unit_half_away_from_zero() -> None:
    assert round_minor(149) == 100  # 0.0149 → 0.01
    assert round_minor(150) == 200  # 0.015 → 0.02 (half up)
    assert round_minor(-150) == -200  # half away from zero, not towards +inf
    assert round_minor(-149) == -100
    assert round_minor(49) == 0 and round_minor(50) == 100 and round_minor(-50) == -100
    assert round_minor(12_345_600) == 12_345_600  # already whole hundredths


def test_vat_is_rounded_the_same_way() -> None:
    assert vat_of(10_000, 2500) == 2_500  # 25% of 1.00 = 0.25
    assert vat_of(200, 2500) == 100  # 0.005 → 0.01
    assert vat_of(100, 2500) == 0  # 0.0025 → 0.00
    assert vat_of(-200, 2500) == -100  # a credit rounds away from zero too
    assert vat_of(123_400, 600) == 7_400  # 6% of 12.34 = 0.7404 → 0.74
    assert vat_of(999_900, 0) == 0


def test_unit_price_is_the_average_and_calls_are_per_minute() -> None:
    assert unit_price_of(10_000, 3, "part") == 3_333
    assert unit_price_of(24_000, 120, "min") == 12_000  # 2 minutes at 1.20
    assert unit_price_of(5, 0, "part") == 0


# --- drafting --------------------------------------------------------------------------------


@pytest.fixture
def ledger(world: World):
    """Tenant A (postpaid): November usage on two numbers, squashed and delta rows, plus rows
    of October and December that November's invoice must leave out."""
    a = world.tenant_a
    one = number_of(a, "+46700000001")
    two = number_of(a, "+46700000002")
    usage(a, date(2026, 11, 3), "sms_out", number=one, events=10, quantity=12, cost=42_000,
          price=60_049)  # fmt: skip
    usage(a, date(2026, 11, 30), "sms_out", number=one, events=2, quantity=2, cost=7_000,
          price=10_000, squashed=False)  # a delta row not yet squashed counts too  # fmt: skip
    usage(a, date(2026, 11, 4), "sms_out", number=two, events=1, quantity=1, cost=3_500,
          price=5_000)  # fmt: skip
    usage(a, date(2026, 11, 5), "call", number=one, events=2, quantity=150, cost=20_000,
          price=30_150)  # fmt: skip
    usage(a, date(2026, 11, 1), "number", number=one, events=1, quantity=1, cost=200_000,
          price=250_000)  # fmt: skip
    usage(a, date(2026, 10, 31), "sms_out", number=one, events=1, quantity=1, price=5_000)
    usage(a, date(2026, 12, 1), "sms_out", number=one, events=1, quantity=1, price=5_000)
    return {"one": one, "two": two}


def test_draft_lines_by_kind_and_number_with_vat(world: World, ledger, settings) -> None:
    report = invoices_draft(period=date(2026, 11, 17))
    assert (report.period, report.drafted, report.existing) == (NOV, 1, 0)
    invoice = draft_of(world.tenant_a)
    assert invoice.status == "draft" and invoice.number is None and invoice.kind == "invoice"
    lines = lines_of(invoice)
    rows = [(ln.kind, ln.description, ln.quantity, ln.unit, ln.amount, ln.provider_cost)
            for ln in lines]  # fmt: skip
    assert rows == [
        ("number", "Numbers, +46700000001", 1, "month", 250_000, 200_000),
        ("sms_out", "SMS sent, +46700000001", 14, "part", 70_000, 49_000),  # 7.0049 → 7.00
        ("sms_out", "SMS sent, +46700000002", 1, "part", 5_000, 3_500),
        ("call", "Calls, +46700000001", 150, "min", 30_200, 20_000),  # 3.015 → 3.02
    ]
    assert lines[3].unit_price == 12_060  # 3.015 for 2.5 minutes: 1.206 a minute
    assert invoice.subtotal == 355_200
    assert invoice.vat == 88_800 and invoice.vat_rate_bp == 2500 and not invoice.reverse_charge
    assert invoice.total == 444_000
    assert invoice.seller["name"] == settings.BILLING_COMPANY["name"]
    assert invoice.buyer["name"] == "Acme"
    # Tenant B had no usage: nothing to bill, no empty invoice.
    with scopes_disabled():
        assert not Invoice.objects.filter(tenant=world.tenant_b).exists()


def test_drafting_again_changes_nothing(world: World, ledger) -> None:
    invoices_draft(period=NOV)
    first = draft_of(world.tenant_a)
    before = [(ln.pk, ln.amount) for ln in lines_of(first)]
    # More usage arrives for November (a late correction) and the job runs again.
    usage(world.tenant_a, date(2026, 11, 9), "sms_out", number=ledger["two"], price=90_000)
    report = invoices_draft(period=NOV)
    assert (report.drafted, report.existing, report.lines) == (0, 1, 0)
    again = draft_of(world.tenant_a)
    assert again.pk == first.pk and again.total == first.total
    assert [(ln.pk, ln.amount) for ln in lines_of(again)] == before
    with scopes_disabled():
        assert Invoice.objects.count() == 1


def test_the_beat_job_drafts_the_previous_month(world: World, ledger) -> None:
    report = invoices_draft_due(today=date(2026, 12, 1))
    assert report.period == NOV and report.drafted == 1
    assert invoices_draft_due(today=date(2026, 12, 9)).drafted == 0  # any day, idempotent


def test_the_beat_task_is_thin_and_locked(world: World, ledger) -> None:
    from billing.invoices.tasks import invoices_draft_due as task

    assert "drafted" in task()


def test_reverse_charge_needs_a_vat_number(world: World, ledger) -> None:
    BillingAccount.objects.filter(pk=world.tenant_a.pk).update(reverse_charge=True, vat_number="")
    BillingAccount.objects.filter(pk=world.tenant_b.pk).update(
        reverse_charge=True, vat_number="DE123456789", billing_name="Bravo GmbH"
    )
    usage(world.tenant_b, date(2026, 11, 2), "sms_out", quantity=3, price=15_000)
    invoices_draft(period=NOV)
    a, b = draft_of(world.tenant_a), draft_of(world.tenant_b)
    assert (a.vat_rate_bp, a.reverse_charge, a.vat) == (2500, False, 88_800)
    assert (b.vat_rate_bp, b.reverse_charge, b.vat, b.total) == (0, True, 0, 15_000)
    assert b.buyer["vat_number"] == "DE123456789" and b.buyer["name"] == "Bravo GmbH"


def test_a_tenant_rate_other_than_the_swedish_one(world: World, ledger) -> None:
    BillingAccount.objects.filter(pk=world.tenant_a.pk).update(vat_rate_bp=1200)
    invoices_draft(period=NOV)
    assert draft_of(world.tenant_a).vat == 42_600  # 12% of 35.52 = 4.2624 → 4.26


def test_prepaid_statement_with_top_ups_and_balances(world: World) -> None:
    a = world.tenant_a
    BillingAccount.objects.filter(pk=a.pk).update(mode="prepaid", balance=700_000)
    TopUp.objects.create(
        tenant=a, amount=500_000, note="Paid", created=datetime(2026, 11, 10, tzinfo=UTC)
    )
    # 23:30 UTC on Oct 31 is Nov 1 in Stockholm: November's.
    TopUp.objects.create(
        tenant=a, amount=100_000, created=datetime(2026, 10, 31, 23, 30, tzinfo=UTC)
    )
    TopUp.objects.create(tenant=a, amount=300_000, created=datetime(2026, 12, 2, tzinfo=UTC))
    usage(a, date(2026, 11, 12), "sms_out", quantity=40, price=200_000, cost=140_000)
    usage(a, date(2026, 12, 3), "sms_out", quantity=10, price=50_000)
    invoices_draft(period=NOV)
    statement = draft_of(a, kind="statement")
    assert statement.subtotal == 200_000 and statement.vat == 50_000
    assert statement.top_ups == 600_000
    # Today 70.00; December: +30.00 topped up, -5.00 used → end of November 45.00.
    assert statement.closing_balance == 450_000
    assert statement.opening_balance == 450_000 - 600_000 + 200_000
    kinds = [ln.kind for ln in lines_of(statement)]
    assert kinds == ["sms_out", "top_up", "top_up"]
    with pytest.raises(InvoiceError, match="top-up"):
        invoice_adjustment_add(
            invoice_id=statement.pk, description="Credit", amount=-100, actor=world.staff
        )
    issued = invoice_issue(invoice_id=statement.pk, actor=world.staff)
    assert issued.reference == "ST-000001"
    page = client_for(world.owner_a).get(f"/t/acme/billing/invoices/{issued.pk}/").content.decode()
    assert "Balance at the end of the month" in page and "45.00" in page and "Top-up" in page
    pdf = client_for(world.owner_a).get(f"/t/acme/billing/invoices/{issued.pk}/pdf/")
    assert pdf.content.startswith(b"%PDF")


# --- adjustments, issuing, immutability ------------------------------------------------------


@pytest.fixture
def draft(world: World, ledger) -> Invoice:
    invoices_draft(period=NOV)
    return draft_of(world.tenant_a)


def test_adjustments_add_and_remove_and_are_audited(world: World, draft: Invoice) -> None:
    line = invoice_adjustment_add(invoice_id=draft.pk, description="Goodwill credit",
                                  amount=-50_000, actor=world.staff)  # fmt: skip
    draft = draft_of(world.tenant_a)
    assert draft.subtotal == 305_200 and draft.vat == 76_300 and draft.total == 381_500
    with pytest.raises(InvoiceError):
        invoice_adjustment_add(invoice_id=draft.pk, description="x", amount=5, actor=world.staff)
    with pytest.raises(InvoiceError):
        invoice_adjustment_add(invoice_id=draft.pk, description=" ", amount=100, actor=world.staff)
    usage_line = lines_of(draft)[0]
    with pytest.raises(InvoiceError):
        invoice_adjustment_remove(invoice_id=draft.pk, line_id=usage_line.pk, actor=world.staff)
    invoice_adjustment_remove(invoice_id=draft.pk, line_id=line.pk, actor=world.staff)
    assert draft_of(world.tenant_a).total == 444_000
    assert AuditEvent.objects.filter(action="invoice.adjusted").count() == 2


def test_issuing_numbers_snapshots_and_freezes(world: World, draft: Invoice, settings) -> None:
    settings.BILLING_COMPANY = {**settings.BILLING_COMPANY, "payment_terms_days": 10}
    issued = invoice_issue(invoice_id=draft.pk, actor=world.staff)
    assert issued.number == 1 and issued.reference == "INV-000001" and issued.is_issued
    assert issued.issued_at is not None and issued.issued_by == world.staff
    assert (issued.due_date - issued.issued_at.date()).days in (10, 11)  # local day + 10
    assert issued.seller["payment_terms_days"] == 10
    event = AuditEvent.objects.get(action="invoice.issued")
    assert event.tenant == world.tenant_a and event.detail["number"] == "INV-000001"
    with pytest.raises(InvoiceError):
        invoice_issue(invoice_id=draft.pk, actor=world.staff)
    with pytest.raises(InvoiceError):
        invoice_adjustment_add(
            invoice_id=draft.pk, description="Late", amount=100, actor=world.staff
        )
    with scopes_disabled():
        frozen = Invoice.objects.get(pk=draft.pk)
        frozen.total = 1
        with pytest.raises(TypeError):
            frozen.save()
        with pytest.raises(TypeError):
            frozen.delete()
        line = frozen.lines.first()
        line.amount = 1
        with pytest.raises(TypeError):
            line.save()
        with pytest.raises(TypeError):
            line.delete()
        with pytest.raises(TypeError):
            InvoiceLine(invoice=frozen, description="More", amount=100).save()


def test_the_database_refuses_to_change_an_issued_invoice(world: World, draft: Invoice) -> None:
    if connection.vendor != "postgresql":
        pytest.skip("the triggers are PostgreSQL's (CI runs it)")
    invoice_issue(invoice_id=draft.pk, actor=world.staff)
    for sql in (
        "UPDATE billing_invoice SET total = 1 WHERE id = %s",
        "DELETE FROM billing_invoice WHERE id = %s",
        "UPDATE billing_invoiceline SET amount = 1 WHERE invoice_id = %s",
        "DELETE FROM billing_invoiceline WHERE invoice_id = %s",
        "INSERT INTO billing_invoiceline (invoice_id, position, kind, description, quantity,"
        " unit, unit_price, amount, provider_cost) VALUES (%s, 9, '', 'x', 1, '', 0, 1, 0)",
    ):
        with pytest.raises(DatabaseError, match="issued invoice"), connection.cursor() as cur:
            from django.db import transaction

            with transaction.atomic():
                cur.execute(sql, [draft.pk])


def test_invoices_and_statements_have_their_own_series(world: World, ledger) -> None:
    BillingAccount.objects.filter(pk=world.tenant_b.pk).update(mode="prepaid")
    usage(world.tenant_b, date(2026, 11, 2), "sms_out", price=5_000)
    usage(world.tenant_a, date(2026, 10, 2), "sms_out", price=5_000)
    invoices_draft(period=NOV)
    invoices_draft(period=date(2026, 10, 1))
    statement = invoice_issue(invoice_id=draft_of(world.tenant_b, kind="statement").pk, actor=None)
    october = invoice_issue(invoice_id=draft_of(world.tenant_a, date(2026, 10, 1)).pk, actor=None)
    november = invoice_issue(invoice_id=draft_of(world.tenant_a).pk, actor=None)
    assert statement.reference == "ST-000001"
    assert (october.number, november.number) == (1, 2)


@pytest.mark.django_db(transaction=True)
def test_concurrent_issuing_leaves_no_gap(world: World) -> None:
    """Eight threads issue 24 drafts at once: numbers 1..24, each once."""
    import threading

    from django.db import connections

    if connection.vendor != "postgresql":
        pytest.skip("row locks (SELECT ... FOR UPDATE) need PostgreSQL (CI runs it)")
    tenants = [world.tenant_a, world.tenant_b]
    with scopes_disabled():
        drafts = [
            Invoice.objects.create(
                tenant=tenants[i % 2], period=date(2020 + i // 12, i % 12 + 1, 1), subtotal=100
            )
            for i in range(24)
        ]
    start = threading.Barrier(8)
    errors: list[BaseException] = []

    def issue(batch: list[Invoice]) -> None:
        try:
            start.wait()
            for invoice in batch:
                invoice_issue(invoice_id=invoice.pk, actor=None)
        except BaseException as exc:  # reported below
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=issue, args=(drafts[i::8],)) for i in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    with scopes_disabled():
        numbers = sorted(n or 0 for n in Invoice.objects.values_list("number", flat=True))
    assert numbers == list(range(1, 25))


def test_a_failed_issue_frees_its_number(world: World, draft: Invoice, monkeypatch) -> None:
    from billing.invoices import services

    def boom(**kwargs: object) -> None:
        raise RuntimeError("audit store down")

    monkeypatch.setattr(services, "audit_record", boom)
    with pytest.raises(RuntimeError):
        invoice_issue(invoice_id=draft.pk, actor=world.staff)
    monkeypatch.undo()
    assert invoice_issue(invoice_id=draft.pk, actor=world.staff).number == 1


# --- staff pages -----------------------------------------------------------------------------


def test_staff_drafts_adjusts_and_issues_through_the_pages(world: World, ledger) -> None:
    staff = client_for(world.staff)
    assert staff.post("/staff/billing/invoices/", {"period": "nope"}).status_code == 200
    response = staff.post("/staff/billing/invoices/", {"period": "2026-11"})
    assert response.status_code == 302
    invoice = draft_of(world.tenant_a)
    page = staff.get("/staff/billing/invoices/?period=2026-11&status=draft")
    assert f"/staff/billing/invoices/{invoice.pk}/" in page.content.decode()
    url = f"/staff/billing/invoices/{invoice.pk}/"
    detail = staff.get(url).content.decode()
    assert "Provider cost" in detail and "20.00" in detail  # the number line's cost
    bad_forms = [
        {"description": "", "amount": "10"},
        {"description": "X", "amount": "abc"},
        {"description": "X", "amount": "0"},
        {"description": "X", "amount": "1.234"},
    ]
    for bad in bad_forms:
        response = staff.post(url + "adjustments/", bad)
        assert response.status_code == 400 and "field-error" in response.content.decode()
    assert (
        staff.post(
            url + "adjustments/", {"description": "Setup fee", "amount": "100.50"}
        ).status_code
        == 302
    )
    assert draft_of(world.tenant_a).subtotal == 355_200 + 1_005_000
    line = next(ln for ln in lines_of(invoice) if ln.kind == "adjustment")
    assert staff.post(f"{url}adjustments/{line.pk}/remove/").status_code == 302
    assert staff.get(url + "issue/").status_code == 200
    assert staff.post(url + "issue/", {}).status_code == 400  # the confirmation box
    assert staff.post(url + "issue/", {"confirm": "on"}).status_code == 302
    issued = draft_of(world.tenant_a)
    assert issued.number == 1 and issued.total == 444_000
    text = staff.get(url).content.decode()
    assert "Issue…" not in text and "Add line" not in text and "Remove" not in text
    assert staff.get(url + "pdf/").content.startswith(b"%PDF")
    download = staff.get(url + "csv/")
    assert "provider_cost" in b"".join(download.streaming_content).decode().splitlines()[0]


def test_staff_list_is_keyset_paged_with_fixed_queries(
    world: World, django_assert_max_num_queries
) -> None:
    with scopes_disabled():
        for i in range(60):
            Invoice.objects.create(
                tenant=world.tenant_a, period=date(2000 + i // 12, i % 12 + 1, 1)
            )
    staff = client_for(world.staff)
    staff.get("/staff/")  # the session and the staff user warm up
    with django_assert_max_num_queries(12):
        first = staff.get("/staff/billing/invoices/?tenant=acme")
    assert first.status_code == 200
    cursor = first.context["page"].next_cursor
    assert cursor and len(first.context["page"].items) == 50
    with django_assert_max_num_queries(12):
        second = staff.get(f"/staff/billing/invoices/?tenant=acme&after={cursor}")
    assert len(second.context["page"].items) == 10
    assert client_for(world.owner_a).get("/staff/billing/invoices/").status_code == 404
