"""The tenant's invoice pages: issued documents only, owners (members when allowed), files,
no provider cost anywhere, and 404 for another tenant."""

from __future__ import annotations

from datetime import date

import pytest
from django_scopes import scopes_disabled

from accounts.models import AuditEvent
from billing.invoices.models import Invoice, InvoiceLine
from billing.invoices.services import invoice_issue
from billing.models import BillingAccount
from tests.conftest import World, client_for

COST = 987_654  # a provider cost no tenant may ever see (98.77 / 98.7654)


def make(tenant, period: date, *, issue: bool) -> Invoice:
    with scopes_disabled():
        invoice = Invoice.objects.create(tenant=tenant, period=period, subtotal=1_500_000,
                                         vat=375_000, total=1_875_000)  # fmt: skip
        InvoiceLine.objects.create(invoice=invoice, kind="sms_out", description="SMS sent",
                                   quantity=300, unit="part", unit_price=5_000,
                                   amount=1_500_000, provider_cost=COST)  # fmt: skip
    return invoice_issue(invoice_id=invoice.pk, actor=None) if issue else invoice


@pytest.fixture
def docs(world: World) -> dict[str, Invoice]:
    return {
        "issued": make(world.tenant_a, date(2026, 10, 1), issue=True),
        "draft": make(world.tenant_a, date(2026, 11, 1), issue=False),
        "other": make(world.tenant_b, date(2026, 10, 1), issue=True),
    }


def base(invoice: Invoice, slug: str = "acme") -> str:
    return f"/t/{slug}/billing/invoices/{invoice.pk}/"


def test_owner_sees_issued_documents_only(world: World, docs) -> None:
    owner = client_for(world.owner_a)
    page = owner.get("/t/acme/billing/invoices/").content.decode()
    assert base(docs["issued"]) in page and docs["issued"].reference in page
    assert base(docs["draft"]) not in page and base(docs["other"]) not in page
    assert owner.get(base(docs["draft"])).status_code == 404
    assert owner.get(base(docs["draft"]) + "pdf/").status_code == 404
    detail = owner.get(base(docs["issued"]))
    assert detail.status_code == 200 and "187.50" in detail.content.decode()


def test_files_download_without_provider_cost(world: World, docs) -> None:
    owner = client_for(world.owner_a)
    pdf = owner.get(base(docs["issued"]) + "pdf/")
    assert pdf.status_code == 200 and pdf["Content-Type"] == "application/pdf"
    assert pdf.content.startswith(b"%PDF") and "INV-" in pdf["Content-Disposition"]
    csv = b"".join(owner.get(base(docs["issued"]) + "csv/").streaming_content).decode()
    header = csv.splitlines()[0]
    assert "provider_cost" not in header and "amount" in header
    assert "150.00" in csv
    pages = [owner.get(base(docs["issued"])).content.decode(),
             owner.get("/t/acme/billing/invoices/").content.decode(), csv]  # fmt: skip
    for text in pages:
        assert "98.77" not in text and "98.7654" not in text and "Provider cost" not in text
    import io

    import pypdfium2

    document = pypdfium2.PdfDocument(io.BytesIO(pdf.content))
    text = document[0].get_textpage().get_text_range()
    assert "Invoice INV-" in text and "187.50" in text and "98.77" not in text


@pytest.mark.parametrize("suffix", ["", "pdf/", "csv/"])
def test_another_tenant_gets_404(world: World, docs, suffix: str) -> None:
    outsider = client_for(world.owner_b)
    # Tenant A's document under B's own slug, and under A's slug (not a member).
    assert outsider.get(base(docs["issued"], "bravo") + suffix).status_code == 404
    assert outsider.get(base(docs["issued"], "acme") + suffix).status_code == 404
    assert client_for(world.owner_a).get(base(docs["other"]) + suffix).status_code == 404


def test_members_need_the_owners_permission(world: World, docs) -> None:
    member = client_for(world.member_a)
    urls = ["/t/acme/billing/invoices/", base(docs["issued"]), base(docs["issued"]) + "pdf/",
            base(docs["issued"]) + "csv/"]  # fmt: skip
    assert all(member.get(url).status_code == 403 for url in urls)
    assert "owners see its invoices" in member.get("/t/acme/billing/").content.decode()
    # A member cannot flip the switch; the owner can, and it is audited.
    assert (
        member.post("/t/acme/billing/invoices/members/", {"members_see_invoices": "on"}).status_code
        == 403
    )
    owner = client_for(world.owner_a)
    assert 'name="members_see_invoices"' in owner.get("/t/acme/billing/").content.decode()
    response = owner.post("/t/acme/billing/invoices/members/", {"members_see_invoices": "on"})
    assert response.status_code == 302
    assert BillingAccount.objects.get(pk=world.tenant_a.pk).members_see_invoices
    assert all(member.get(url).status_code == 200 for url in urls)
    event = AuditEvent.objects.get(action="invoice.members_changed")
    assert event.actor == world.owner_a and event.detail == {"members_see_invoices": True}
    owner.post("/t/acme/billing/invoices/members/", {})
    assert member.get(urls[0]).status_code == 403
    assert AuditEvent.objects.filter(action="invoice.members_changed").count() == 2


def test_tenant_list_queries_are_fixed(world: World, django_assert_max_num_queries) -> None:
    for month in range(1, 13):
        make(world.tenant_a, date(2025, month, 1), issue=True)
    owner = client_for(world.owner_a)
    owner.get("/t/acme/")
    with django_assert_max_num_queries(15):
        assert owner.get("/t/acme/billing/invoices/").status_code == 200
