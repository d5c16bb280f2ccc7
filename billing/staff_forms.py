"""Staff forms for a tenant's billing account: settings and mode, top-ups."""

from __future__ import annotations

from decimal import Decimal
from typing import Any
from zoneinfo import available_timezones

from django import forms
from django.core.exceptions import ValidationError

from accounts.forms import MoneyField
from billing.models import BillingAccount


class BillingSettingsForm(forms.ModelForm):
    monthly_limit = MoneyField(label="Monthly limit (postpaid, tenant's price)")
    low_balance = MoneyField(label="Low-balance alert below (prepaid)")
    thresholds = forms.CharField(
        label="Alert at (% of the monthly limit)",
        required=False,
        help_text="Comma-separated, e.g. 80, 100.",
    )
    vat_percent = forms.DecimalField(
        label="VAT rate (%)", min_value=Decimal("0"), max_value=Decimal("100"), decimal_places=2
    )

    class Meta:
        model = BillingAccount
        fields = [
            "mode",
            "monthly_limit",
            "low_balance",
            "time_zone",
            "vat_number",
            "reverse_charge",
            "billing_name",
            "billing_address",
            "billing_email",
            "members_see_invoices",
        ]
        labels = {
            "time_zone": "Billing time zone",
            "vat_number": "VAT number",
            "members_see_invoices": "Members see invoices (not only owners)",
            "reverse_charge": "Reverse charge (EU business)",
        }
        widgets = {"billing_address": forms.Textarea(attrs={"rows": 3})}

    field_order = [
        "mode",
        "monthly_limit",
        "thresholds",
        "low_balance",
        "time_zone",
        "vat_percent",
        "vat_number",
        "reverse_charge",
    ]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.initial.setdefault(
            "thresholds", ", ".join(str(t) for t in self.instance.alert_thresholds or [])
        )
        self.initial.setdefault("vat_percent", Decimal(self.instance.vat_rate_bp) / 100)

    def clean_time_zone(self) -> str:
        zone = self.cleaned_data["time_zone"].strip()
        if zone not in available_timezones():
            raise ValidationError("Unknown time zone: use a name like Europe/Stockholm.")
        return zone

    def clean_thresholds(self) -> list[int]:
        raw = self.cleaned_data.get("thresholds") or ""
        out = set()
        for part in raw.replace(";", ",").split(","):
            part = part.strip().rstrip("%").strip()
            if not part:
                continue
            if not part.isdigit() or not 0 < int(part) <= 1000:
                raise ValidationError(f"“{part}” is not a percentage between 1 and 1000.")
            out.add(int(part))
        return sorted(out)

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("reverse_charge") and not (data.get("vat_number") or "").strip():
            self.add_error("vat_number", "Reverse charge needs the customer's VAT number.")
        return data

    def values(self) -> dict[str, object]:
        data = dict(self.cleaned_data)
        data["alert_thresholds"] = data.pop("thresholds")
        data["vat_rate_bp"] = int(data.pop("vat_percent") * 100)
        if data.get("reverse_charge"):
            data["vat_rate_bp"] = 0
        return data


class TopUpForm(forms.Form):
    amount = MoneyField(
        label="Amount", min_value=Decimal("-10000000"), help_text="Negative for a correction."
    )
    note = forms.CharField(max_length=200, required=False)

    def clean_amount(self) -> int:
        amount: int = self.cleaned_data["amount"]
        if amount == 0:
            raise ValidationError("Enter an amount other than 0.")
        return amount
