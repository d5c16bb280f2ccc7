from __future__ import annotations

from decimal import Decimal

from django import forms

from billing.invoices.selectors import month_parse


class AdjustmentForm(forms.Form):
    description = forms.CharField(max_length=200, label="Description")
    amount = forms.DecimalField(
        label="Amount",
        max_digits=12,
        decimal_places=2,
        help_text="Before VAT. Negative for a credit, e.g. -50.00.",
    )

    def clean_amount(self) -> int:
        value: Decimal = self.cleaned_data["amount"]
        if value == 0:
            raise forms.ValidationError("An adjustment of 0 changes nothing.")
        if abs(value) >= Decimal("10000000"):
            raise forms.ValidationError("That is more than an adjustment: check the amount.")
        return int(value * 10_000)  # to 1/10000 of the currency, exact (two decimals)


class DraftForm(forms.Form):
    period = forms.CharField(
        label="Month to draft",
        max_length=7,
        widget=forms.TextInput(attrs={"type": "month", "placeholder": "2026-11"}),
        help_text=(
            "Drafts every tenant's invoice or statement for the month; drafting again adds nothing."
        ),
    )

    def clean_period(self) -> object:
        period = month_parse(self.cleaned_data["period"])
        if period is None:
            raise forms.ValidationError("Give the month as YYYY-MM.")
        return period


class IssueForm(forms.Form):
    confirm = forms.BooleanField(
        label="I have checked the lines and totals: issue it (it cannot be changed afterwards).",
        error_messages={"required": "Tick the box to confirm."},
    )


class MembersSeeInvoicesForm(forms.Form):
    members_see_invoices = forms.BooleanField(
        required=False, label="Members can see invoices and statements"
    )
