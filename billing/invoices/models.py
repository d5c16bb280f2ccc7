"""Invoices (postpaid) and statements (prepaid), one per tenant and month.

Drafted by the `invoice-drafting` beat task on the first of the month (drafting again changes
nothing: one document per tenant, period and kind). Staff add adjustment lines and issue;
issuing takes the next number of the series under a row lock, so numbers have no gaps even
when two staff issue at once. An issued document is immutable: the model refuses to save it,
and on PostgreSQL a trigger refuses any UPDATE or DELETE of an issued row or its lines.

Amounts are in 1/10000 of the currency like the ledger; line amounts, VAT and totals are
rounded to the currency's minor unit (1/100, i.e. multiples of 100) half away from zero.

Invoices and statements are numbered in two series (`InvoiceSeries` named after the kind):
an invoice number is unique among invoices, so the invoice series has no gaps from statements.
A statement also carries the prepaid balance before and after its month, and its top-ups (lines
of kind `top_up`, outside the subtotal).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone

from accounts.models import TenantOwned
from numbers.models import PhoneNumber


class Invoice(TenantOwned):
    class Kind(models.TextChoices):
        INVOICE = "invoice", "Invoice"
        STATEMENT = "statement", "Statement"

    class Status(models.TextChoices):
        DRAFT = "draft", "Draft"
        ISSUED = "issued", "Issued"

    kind = models.CharField(max_length=10, choices=Kind.choices, default=Kind.INVOICE)
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.DRAFT)
    period = models.DateField(help_text="First day of the month billed.")
    number = models.PositiveIntegerField(null=True, blank=True)
    currency = models.CharField(max_length=3, default="SEK")
    vat_rate_bp = models.PositiveIntegerField(default=2500)
    reverse_charge = models.BooleanField(default=False)
    # Snapshots taken at issue: a later change of address never rewrites an issued invoice.
    seller = models.JSONField(default=dict, blank=True)
    buyer = models.JSONField(default=dict, blank=True)
    subtotal = models.BigIntegerField(default=0)
    vat = models.BigIntegerField(default=0)
    total = models.BigIntegerField(default=0)
    created = models.DateTimeField(default=timezone.now)
    issued_at = models.DateTimeField(null=True, blank=True)
    issued_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    due_date = models.DateField(null=True, blank=True)
    # Statements (prepaid): the balance before and after the month, and what was paid in.
    opening_balance = models.BigIntegerField(default=0)
    top_ups = models.BigIntegerField(default=0)
    closing_balance = models.BigIntegerField(default=0)

    class Meta:
        ordering = ["-period", "tenant_id"]
        constraints = [
            models.UniqueConstraint(fields=["tenant", "period", "kind"], name="invoice_once"),
            models.UniqueConstraint(
                fields=["kind", "number"],
                condition=models.Q(number__isnull=False),
                name="invoice_number_once",
            ),
        ]
        indexes = [models.Index(fields=["status", "period"], name="invoice_status_period")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.reference} {self.period:%Y-%m}"

    @property
    def reference(self) -> str:
        """What the document is called on paper: INV-000042, ST-000007, or draft."""
        if self.number is None:
            return "draft"
        return f"{'INV' if self.kind == self.Kind.INVOICE else 'ST'}-{self.number:06d}"

    @property
    def is_statement(self) -> bool:
        return self.kind == self.Kind.STATEMENT

    @property
    def is_issued(self) -> bool:
        return self.status == self.Status.ISSUED

    def save(self, *args: object, **kwargs: object) -> None:
        if not self._state.adding and self.pk is not None:
            stored = type(self).objects.filter(pk=self.pk).values_list("status", flat=True)
            if stored.first() == self.Status.ISSUED:
                raise TypeError("An issued invoice cannot be changed.")
        super().save(*args, **kwargs)  # type: ignore[arg-type]  # passes Django's own options

    def delete(self, *args: object, **kwargs: object) -> tuple[int, dict[str, int]]:
        if type(self).objects.filter(pk=self.pk, status=self.Status.ISSUED).exists():
            raise TypeError("An issued invoice cannot be deleted.")
        return super().delete(*args, **kwargs)  # type: ignore[arg-type]  # Django's own options


class InvoiceLine(models.Model):
    invoice = models.ForeignKey(Invoice, on_delete=models.CASCADE, related_name="lines")
    position = models.PositiveIntegerField(default=0)
    kind = models.CharField(max_length=12, blank=True, help_text="Usage kind, or 'adjustment'.")
    number = models.ForeignKey(
        PhoneNumber,
        null=True,
        blank=True,
        # Kept as written: an append-only row outlives its number (no cascade may touch it).
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        related_name="+",
    )
    description = models.CharField(max_length=200)
    quantity = models.BigIntegerField(default=1)
    unit = models.CharField(max_length=12, blank=True)
    unit_price = models.BigIntegerField(default=0, help_text="Average, 1/10000 units.")
    amount = models.BigIntegerField(help_text="Rounded to the minor unit.")
    provider_cost = models.BigIntegerField(default=0)  # staff only: margin per line
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["invoice", "position", "id"]

    def __str__(self) -> str:
        return f"{self.description}: {self.amount}"

    def save(self, *args: object, **kwargs: object) -> None:
        self._refuse_if_issued()
        super().save(*args, **kwargs)  # type: ignore[arg-type]  # passes Django's own options

    def delete(self, *args: object, **kwargs: object) -> tuple[int, dict[str, int]]:
        self._refuse_if_issued()
        return super().delete(*args, **kwargs)  # type: ignore[arg-type]  # Django's own options

    def _refuse_if_issued(self) -> None:
        issued = Invoice.objects.filter(pk=self.invoice_id, status=Invoice.Status.ISSUED)
        if issued.exists():
            raise TypeError("The lines of an issued invoice cannot be changed.")


class InvoiceSeries(models.Model):
    """The last number issued in a series; locked with SELECT ... FOR UPDATE to issue."""

    name = models.CharField(max_length=20, unique=True)
    last_number = models.PositiveIntegerField(default=0)

    def __str__(self) -> str:
        return f"{self.name}: {self.last_number}"
